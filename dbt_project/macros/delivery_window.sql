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
    {%- if not delivery_window_is_set() -%}
        1 = 1
    {%- else -%}
        {{ column }} between '{{ env_var('DONGNE_DELIVERY_FROM') }}' and '{{ env_var('DONGNE_DELIVERY_TO') }}'
    {%- endif -%}
{%- endmacro %}

{% macro delivery_window_is_set() -%}
    {{ return((env_var('DONGNE_DELIVERY_FROM', '') and env_var('DONGNE_DELIVERY_TO', '')) | length > 0) }}
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
    (the winning copy's date is among them, before and after the new delivery), for
    `in (...)`. Written as date literals, not as a subquery: Spark plans a subquery into
    every statement that names it, evaluates it again at each mention and cannot skip a
    date partition by it (at M the incremental models cost more than their full
    rebuilds); with literals both engines read only those dates. The dates come from
    int_window_event_dates, built once per run before the models that use them (their
    `depends_on`); if this run did not build it (a model selected alone), from the lake.
    Before anything runs (parse, docs) the query itself stands in.
#}
{% macro window_event_dates() -%}
    {%- if execute -%}
        {%- set dates = window_event_date_values() -%}
        {%- for day in dates %}date'{{ day }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        {%- if not dates %}cast(null as date){% endif -%}
    {%- else -%}
        {{ window_event_dates_query() }}
    {%- endif -%}
{%- endmacro %}

{# The window's event dates as text (YYYY-MM-DD), sorted. #}
{% macro window_event_date_values() -%}
    {%- set built = load_relation(ref('int_window_event_dates')) -%}
    {%- if built is not none -%}
        {%- set found = run_query(
            "select event_date from " ~ built ~ " where invocation_id = '"
            ~ invocation_id ~ "' order by event_date"
        ) -%}
        {%- if found.rows | length > 0 -%}
            {{ return(found.columns[0].values() | map('string') | list) }}
        {%- endif -%}
    {%- endif -%}
    {%- set found = run_query(window_event_dates_query() ~ ' order by event_date') -%}
    {{ return(found.columns[0].values() | map('string') | list) }}
{%- endmacro %}

{% macro window_event_dates_query() -%}
    select distinct event_date
    from {{ source('app', 'events') }}
    where event_id in ({{ window_event_ids() }})
{%- endmacro %}


{# Every event with a copy on one of the window's dates (see window_event_dates). #}
{% macro window_date_event_ids() -%}
    select distinct event_id
    from {{ source('app', 'events') }}
    where event_date in ({{ window_event_dates() }})
{%- endmacro %}


{#
    How the incremental models (tag:daily) replace what a window touches. Each run
    returns every row of every date the window can change (window_event_dates), and
    replaces them:
    - DuckDB: `delete+insert` by the model's unique key, after clear_window_dates deleted
      the window's dates (a date whose last row moved away is cleared too); the model
      that reads itself, int_events_sessionized, returns only the rows it recomputed
      (rewrites_whole_dates);
    - Spark: `insert_overwrite` of the table's date partitions, with dynamic partition
      overwrite (only the partitions the run's rows fall in are replaced), after
      clear_window_dates dropped the window's dates. Parquet tables have no row-level
      delete or MERGE (that takes Delta or Iceberg, whose jars come from Maven).
    A full build (every delivery) passes --full-refresh (orchestration/dbt_cli.py): the
    tables are rebuilt whole, in one write.
#}
{% macro replace_rows_strategy() -%}
    {{ return(adapter.dispatch('replace_rows_strategy', 'dongne')()) }}
{%- endmacro %}

{% macro default__replace_rows_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__replace_rows_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}


{#
    Whether a run of a model that reads itself (int_events_sessionized) must return the
    untouched rows of the dates it rewrites: on Spark, yes (insert_overwrite replaces each
    date partition it writes with the run's rows); on DuckDB, no (delete+insert by
    event_id replaces the rows the run returns and keeps every other).
#}
{% macro rewrites_whole_dates() -%}
    {{ return(adapter.dispatch('rewrites_whole_dates', 'dongne')()) }}
{%- endmacro %}

{% macro default__rewrites_whole_dates() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro spark__rewrites_whole_dates() -%}
    {{ return(true) }}
{%- endmacro %}


{# The partitioning of a date-keyed incremental model: by `column` on Spark, none on DuckDB. #}
{% macro date_partitions(column) -%}
    {{ return(adapter.dispatch('date_partitions', 'dongne')(column)) }}
{%- endmacro %}

{% macro default__date_partitions(column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__date_partitions(column) -%}
    {{ return([column]) }}
{%- endmacro %}


{#
    A pre-hook: before an incremental run, the rows of every date the window can change
    go (the run writes them all again). DuckDB deletes them; Spark drops their partitions.
#}
{% macro clear_window_dates(column) -%}
    {{ return(adapter.dispatch('clear_window_dates', 'dongne')(column)) }}
{%- endmacro %}

{% macro default__clear_window_dates(column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} in ({{ window_event_dates() }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__clear_window_dates(column) -%}
    {%- if execute and is_incremental() -%}
        {%- do drop_date_partitions(column, window_event_date_values()) -%}
    {%- endif -%}
{%- endmacro %}


{# Spark: drop the partition of `this` for each of `dates` (YYYY-MM-DD). #}
{% macro drop_date_partitions(column, dates) -%}
    {%- for day in dates -%}
        {%- do run_query(
            "alter table " ~ this ~ " drop if exists partition (" ~ column ~ " = date'" ~ day ~ "')"
        ) -%}
    {%- endfor -%}
{%- endmacro %}


{#
    A post-hook for a model that reads itself (int_events_sessionized, which cannot clear
    its dates first): a date with no event left in `events` (every event on it moved to
    another date) keeps no rows. DuckDB's delete+insert by event_id already removed them;
    on Spark, dynamic overwrite leaves a partition the run wrote nothing to, so it is
    dropped here. Only a window date can be emptied (an event moves only when a copy of it
    is delivered, and every copy's date is a window date), so only those are looked at (a
    date a failed run left empty is not: the next run of its window drops it).
#}
{% macro drop_dates_without_events(column, events) -%}
    {{ return(adapter.dispatch('drop_dates_without_events', 'dongne')(column, events)) }}
{%- endmacro %}

{% macro default__drop_dates_without_events(column, events) -%}
{%- endmacro %}

{% macro spark__drop_dates_without_events(column, events) -%}
    {%- if execute and is_incremental() -%}
        {%- set window_dates = window_event_date_values() -%}
        {%- if window_dates -%}
            {%- set kept = run_query(
                "select distinct event_date from " ~ events ~ " where event_date in (date'"
                ~ window_dates | join("', date'") ~ "')"
            ).columns[0].values() | map('string') | list -%}
            {%- do drop_date_partitions(column, window_dates | reject('in', kept) | list) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
