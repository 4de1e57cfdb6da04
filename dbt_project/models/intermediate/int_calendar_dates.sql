with

event_dates as (
    select
        min(event_date) as first_date,
        max(event_date) as last_date
    from {{ ref('int_events_dated') }}
),

-- docs/marts.md's calendar: every KST date from the earliest to the latest event date.
dates as (
    {{ date_rows('(select first_date from event_dates)', '(select last_date from event_dates)') }}
),

final as (
    select date_day
    from dates
    where date_day is not null
)

select * from final
