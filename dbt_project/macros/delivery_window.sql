{#
    Incremental builds are driven by deliveries, the raw folders Dagster's daily
    partitions land. Dagster names the window in the environment
    (DONGNE_DELIVERY_FROM / DONGNE_DELIVERY_TO), not in --vars: vars are part of what
    dbt's partial parsing compares, so a new window each run would re-parse the whole
    project every time (orchestration/window.py writes them). By hand:
    `DONGNE_DELIVERY_FROM=2026-09-01 DONGNE_DELIVERY_TO=2026-09-03 dbt build ...`.
    Without a window (a full build) every delivery is in it, so an incremental run
    recomputes everything in place.
#}

{% macro in_delivery_window(column) -%}
    {%- set first = env_var('DONGNE_DELIVERY_FROM', '') or none -%}
    {%- set last = env_var('DONGNE_DELIVERY_TO', '') or none -%}
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
