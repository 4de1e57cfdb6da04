with

events as (
    select * from {{ ref('int_events_dated') }}
),

-- MARTS.md: a user is active on a day with at least one valid event that day.
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
