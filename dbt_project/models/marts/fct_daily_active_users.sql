with

calendar as (
    select
        date_day,
        is_complete
    from {{ ref('int_day_completeness') }}
),

user_days as (
    select
        user_id,
        activity_date
    from {{ ref('int_users_daily_active') }}
),

-- Each user-day counts towards every calendar day whose 7- and 28-day window holds it.
windowed as (
    select
        calendar.date_day,
        user_days.user_id,
        user_days.activity_date
    from calendar
    inner join user_days
        on calendar.date_day >= user_days.activity_date
            and user_days.activity_date > {{ dbt.dateadd('day', -28, 'calendar.date_day') }}
),

counts as (
    select
        date_day,
        count(distinct case when activity_date = date_day then user_id end) as dau,
        count(distinct case
            when activity_date > {{ dbt.dateadd('day', -7, 'date_day') }} then user_id
        end) as wau,
        count(distinct user_id) as mau
    from windowed
    group by date_day
),

final as (
    select
        calendar.date_day as activity_date,
        calendar.is_complete,
        coalesce(counts.dau, 0) as dau,
        coalesce(counts.wau, 0) as wau,
        coalesce(counts.mau, 0) as mau
    from calendar
    left join counts on calendar.date_day = counts.date_day
)

select
    activity_date,
    cast(dau as bigint) as dau,
    cast(wau as bigint) as wau,
    cast(mau as bigint) as mau,
    is_complete
from final
