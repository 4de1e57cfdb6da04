{#
    How well the app's events follow the tracking plan (seeds/tracking_plan.csv), per KST
    event date and event name: every valid, de-duplicated event is counted, an event name
    outside the plan is flagged (still a valid event: docs/sources.md), and so is an
    event without the property the plan requires (missing, or not usable: a listing_id
    that is not an integer, or an empty query, counts as missing).
#}

with

events as (
    select
        event_date,
        event_name,
        listing_id,
        post_id,
        search_query,
        screen_name
    from {{ ref('int_events_dated') }}
),

plan as (
    select
        event_name,
        nullif(required_property, 'none') as required_property
    from {{ ref('tracking_plan') }}
),

complete_days as (
    select
        date_day,
        is_complete
    from {{ ref('int_day_completeness') }}
),

checked as (
    select
        events.event_date,
        events.event_name,
        plan.required_property,
        plan.event_name is not null as is_planned,
        case plan.required_property
            when 'listing_id' then events.listing_id is null
            when 'post_id' then events.post_id is null
            when 'query' then nullif(events.search_query, '') is null
            when 'screen' then nullif(events.screen_name, '') is null
            else false
        end as is_missing_property
    from events
    left join plan on events.event_name = plan.event_name
),

counted as (
    select
        event_date,
        event_name,
        is_planned,
        required_property,
        count(*) as event_count,
        sum(case when is_missing_property then 1 else 0 end) as missing_property_count
    from checked
    group by event_date, event_name, is_planned, required_property
),

final as (
    select
        counted.*,
        complete_days.is_complete
    from counted
    inner join complete_days on counted.event_date = complete_days.date_day
)

select
    event_date,
    event_name,
    is_planned,
    required_property,
    cast(event_count as bigint) as event_count,
    cast(missing_property_count as bigint) as missing_property_count,
    is_complete
from final
