{#
    Incremental by date: a run recomputes every date its deliveries can change (the date
    of every copy of every event delivered in its window), from all copies of every event
    with a copy on those dates, so de-duplication sees what a full rebuild sees. The
    pre-hook clears those dates first (delivery_window.sql: DuckDB deletes their rows,
    Spark drops their partitions), then the run writes them whole. Any order of
    deliveries, late ones included, gives the full rebuild's rows.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy=replace_rows_strategy(),
        unique_key='event_id',
        partition_by=date_partitions('event_date'),
        on_schema_change='fail',
        tags=['daily'],
        pre_hook="{{ clear_window_dates('event_date') }}",
    )
}}

-- The window's dates, built once per run (delivery_window.sql, window_event_dates).
-- depends_on: {{ ref('int_window_event_dates') }}

with

-- A run stages only the events with a copy on the window's dates (all copies of each):
-- the same SQL as stg_app__events, with the filter before the de-duplication.
events as (
    {% if is_incremental() %}
        -- depends_on: {{ ref('stg_app__events') }}
        select * from (
            {{ staged_app_events(where='event_id in (' ~ window_date_event_ids() ~ ')') }}
        ) as window_events
    {% else %}
        select * from {{ ref('stg_app__events') }}
    {% endif %}
),

-- docs/sources.md: the event time is occurred_at, unless it is more than 5 minutes after
-- received_at (the phone's clock runs ahead): then received_at.
timed as (
    select
        *,
        case
            when occurred_at_utc > {{ dbt.dateadd('minute', 5, 'received_at_utc') }} then received_at_utc
            else occurred_at_utc
        end as event_at_utc
    from events
),

final as (
    select
        event_id,
        event_name,
        user_id,
        device_id,
        {{ utc_to_kst('event_at_utc') }} as event_at,
        cast({{ utc_to_kst('event_at_utc') }} as date) as event_date,
        event_at_utc <> occurred_at_utc as is_clock_corrected,
        case
            when
                user_id is not null
                then {{ dbt.concat(["'user:'", dbt.cast('user_id', api.Column.translate_type('string'))]) }}
            else {{ dbt.concat(["'device:'", 'device_id']) }}
        end as session_key,
        platform,
        app_version,
        listing_id,
        post_id,
        search_query,
        screen_name,
        occurred_at_utc,
        received_at_utc
    from timed
)

select * from final
{% if is_incremental() %}
    -- The window's dates, whole: an event staged here whose winning copy lies on another
    -- date belongs to that date, which this run does not rewrite.
    where event_date in ({{ window_event_dates() }})
{% endif %}
