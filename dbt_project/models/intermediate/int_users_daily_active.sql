{#
    Incremental by day: a run recomputes every date its deliveries can change. The
    pre-hook clears those dates first (DuckDB deletes their rows, Spark drops their
    partitions), so a date whose last event moved away is cleared too.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy=replace_rows_strategy(),
        unique_key='activity_date',
        partition_by=date_partitions('activity_date'),
        on_schema_change='fail',
        tags=['daily'],
        pre_hook="{{ clear_window_dates('activity_date') }}",
    )
}}

-- The window's dates, built once per run (delivery_window.sql, window_event_dates).
-- depends_on: {{ ref('int_window_event_dates') }}

with

events as (
    select * from {{ ref('int_events_dated') }}
    {% if is_incremental() %}
        where event_date in ({{ window_event_dates() }})
    {% endif %}
),

-- docs/marts.md: a user is active on a day with at least one valid event that day.
final as (
    select
        user_id,
        event_date as activity_date,
        count(*) as event_count
    from events
    where user_id is not null
    group by user_id, event_date
)

select * from final
