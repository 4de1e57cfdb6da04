{#
    Incremental builds are driven by deliveries, the raw folders Dagster's daily
    partitions land: `--vars '{delivery_from: 2026-09-01, delivery_to: 2026-09-03}'`.
    Without these vars (a full build, or `dbt build` by hand) every delivery is in the
    window, so an incremental run recomputes everything in place.
#}

{% macro in_delivery_window(column) -%}
    {%- set first = var('delivery_from', none) -%}
    {%- set last = var('delivery_to', none) -%}
    {%- if first is none or last is none -%}
        1 = 1
    {%- else -%}
        {{ column }} between '{{ first }}' and '{{ last }}'
    {%- endif -%}
{%- endmacro %}


{#
    The events a window touches: every event_id delivered in it. De-duplication is per
    event_id, so recomputing exactly these ids (from all their copies, old and new)
    gives the rows a full rebuild gives.
#}
{% macro window_event_ids() -%}
    select distinct event_id
    from {{ source('app', 'events') }}
    where {{ in_delivery_window('_delivery') }}
{%- endmacro %}


{#
    The event dates a window can change: the date of every copy of every touched event
    (the winning copy's date is among them, before and after the new delivery).
#}
{% macro window_event_dates() -%}
    select distinct event_date
    from {{ source('app', 'events') }}
    where event_id in ({{ window_event_ids() }})
{%- endmacro %}
