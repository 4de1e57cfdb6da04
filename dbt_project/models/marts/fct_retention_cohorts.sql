with

users as (
    select * from {{ ref('int_users_current') }}
),

user_days as (
    select
        user_id,
        activity_date
    from {{ ref('int_users_daily_active') }}
),

calendar_bounds as (
    select
        min(date_day) as first_date,
        max(date_day) as last_date,
        max(case when is_complete then date_day end) as last_complete_date
    from {{ ref('int_day_completeness') }}
),

-- Cohort week: the Monday of the week of signup_at (current state).
members as (
    select
        users.user_id,
        cast({{ dbt.date_trunc('week', 'users.signup_at') }} as date) as cohort_week
    from users
    where users.signup_at is not null
),

-- Cohorts run from the week holding the first calendar date to the one holding the last.
cohort_members as (
    select members.*
    from members
    cross join calendar_bounds
    where
        members.cohort_week >= cast({{ dbt.date_trunc('week', 'calendar_bounds.first_date') }} as date)
        and members.cohort_week <= cast({{ dbt.date_trunc('week', 'calendar_bounds.last_date') }} as date)
),

cohorts as (
    select
        cohort_week,
        count(*) as cohort_users
    from cohort_members
    group by cohort_week
),

week_numbers as (
    {% for week in range(13) %}
        select {{ week }} as weeks_since_signup {% if not loop.last %}
            union all{% endif %}
    {% endfor %}
),

-- Weeks 0 .. 12 after the cohort week that start on or before the last calendar date.
cohort_weeks as (
    select
        cohorts.cohort_week,
        cohorts.cohort_users,
        week_numbers.weeks_since_signup,
        cast({{ dbt.dateadd('day', '7 * week_numbers.weeks_since_signup', 'cohorts.cohort_week') }} as date)
            as week_start,
        -- docs/marts.md: a week is over when its Sunday is a complete day.
        coalesce(
            cast({{ dbt.dateadd('day', '7 * week_numbers.weeks_since_signup + 6', 'cohorts.cohort_week') }} as date)
            <= calendar_bounds.last_complete_date,
            false
        ) as is_period_over
    from cohorts
    cross join week_numbers
    cross join calendar_bounds
    where
        cast({{ dbt.dateadd('day', '7 * week_numbers.weeks_since_signup', 'cohorts.cohort_week') }} as date)
        <= calendar_bounds.last_date
),

active_members as (
    select
        cohort_weeks.cohort_week,
        cohort_weeks.weeks_since_signup,
        count(distinct user_days.user_id) as active_users
    from cohort_weeks
    inner join cohort_members on cohort_weeks.cohort_week = cohort_members.cohort_week
    inner join user_days
        on
            cohort_members.user_id = user_days.user_id
            and cohort_weeks.week_start <= user_days.activity_date
            and user_days.activity_date < {{ dbt.dateadd('day', 7, 'cohort_weeks.week_start') }}
    group by cohort_weeks.cohort_week, cohort_weeks.weeks_since_signup
),

final as (
    select
        cohort_weeks.cohort_week,
        cohort_weeks.weeks_since_signup,
        cohort_weeks.cohort_users,
        coalesce(active_members.active_users, 0) as active_users,
        cohort_weeks.is_period_over
    from cohort_weeks
    left join active_members
        on
            cohort_weeks.cohort_week = active_members.cohort_week
            and cohort_weeks.weeks_since_signup = active_members.weeks_since_signup
)

select
    cohort_week,
    cast(weeks_since_signup as integer) as weeks_since_signup,
    cast(cohort_users as bigint) as cohort_users,
    cast(active_users as bigint) as active_users,
    cast(active_users as double) / cohort_users as retention_rate,
    is_period_over
from final
