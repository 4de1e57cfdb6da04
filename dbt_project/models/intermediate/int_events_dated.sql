{#
    Incremental by delivery: a run recomputes the events delivered in its window (all
    copies of each, so de-duplication sees what a full rebuild sees) and replaces them by
    event_id. Any order of deliveries, late ones included, gives the full rebuild's rows.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy=replace_rows_strategy(),
        full_refresh=rebuild_whole(),
        unique_key='event_id',
        on_schema_change='fail',
        tags=['daily'],
    )
}}

with

-- A run stages only the window's events (all copies of each): the same SQL as
-- stg_app__events, with the filter before the de-duplication instead of after it.
events as (
    {% if is_incremental() %}
        -- depends_on: {{ ref('stg_app__events') }}
        select * from (
            {{ staged_app_events(where='event_id in (' ~ window_event_ids() ~ ')') }}
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
