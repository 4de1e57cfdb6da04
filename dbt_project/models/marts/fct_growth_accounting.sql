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

first_days as (
    select
        user_id,
        min(activity_date) as first_active_date
    from user_days
    group by user_id
),

-- Every active user-day, with whether the user was active the day before.
active_days as (
    select
        today.user_id,
        today.activity_date,
        first_days.first_active_date,
        yesterday.user_id is not null as was_active_day_before
    from user_days as today
    inner join first_days on today.user_id = first_days.user_id
    left join user_days as yesterday
        on today.user_id = yesterday.user_id
            and yesterday.activity_date = {{ dbt.dateadd('day', -1, 'today.activity_date') }}
),

-- A user churns on the day after an active day on which they were not active.
churn_days as (
    select
        {{ dbt.dateadd('day', 1, 'today.activity_date') }} as churn_date,
        today.user_id
    from user_days as today
    left join user_days as tomorrow
        on today.user_id = tomorrow.user_id
            and tomorrow.activity_date = {{ dbt.dateadd('day', 1, 'today.activity_date') }}
    where tomorrow.user_id is null
),

classified as (
    select
        activity_date,
        sum(case when activity_date = first_active_date then 1 else 0 end) as new_users,
        sum(case when was_active_day_before then 1 else 0 end) as retained_users,
        sum(case
            when not was_active_day_before
                and first_active_date < {{ dbt.dateadd('day', -1, 'activity_date') }} then 1
            else 0
        end) as resurrected_users
    from active_days
    group by activity_date
),

churned as (
    select
        cast(churn_date as date) as churn_date,
        count(*) as churned_users
    from churn_days
    group by cast(churn_date as date)
),

final as (
    select
        calendar.date_day as activity_date,
        calendar.is_complete,
        coalesce(classified.new_users, 0) as new_users,
        coalesce(classified.retained_users, 0) as retained_users,
        coalesce(classified.resurrected_users, 0) as resurrected_users,
        coalesce(churned.churned_users, 0) as churned_users
    from calendar
    left join classified on calendar.date_day = classified.activity_date
    left join churned on calendar.date_day = churned.churn_date
)

select
    activity_date,
    cast(new_users as bigint) as new_users,
    cast(retained_users as bigint) as retained_users,
    cast(resurrected_users as bigint) as resurrected_users,
    cast(churned_users as bigint) as churned_users,
    is_complete
from final
