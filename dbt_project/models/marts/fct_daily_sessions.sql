with

calendar as (
    select
        date_day,
        is_complete
    from {{ ref('int_day_completeness') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

daily as (
    select
        session_date,
        count(*) as sessions,
        count(distinct user_key) as users_with_sessions,
        count(case when user_key is null then 1 end) as logged_out_sessions,
        avg(duration_seconds) as avg_duration_seconds,
        {{ median('duration_seconds') }} as median_duration_seconds,
        avg(cast(event_count as double)) as avg_events_per_session
    from sessions
    group by session_date
),

final as (
    select
        calendar.date_day as session_date,
        calendar.is_complete,
        coalesce(daily.sessions, 0) as sessions,
        coalesce(daily.users_with_sessions, 0) as users_with_sessions,
        coalesce(daily.logged_out_sessions, 0) as logged_out_sessions,
        daily.avg_duration_seconds,
        daily.median_duration_seconds,
        daily.avg_events_per_session
    from calendar
    left join daily on calendar.date_day = daily.session_date
)

select
    session_date,
    cast(sessions as bigint) as sessions,
    cast(users_with_sessions as bigint) as users_with_sessions,
    cast(logged_out_sessions as bigint) as logged_out_sessions,
    cast(avg_duration_seconds as double) as avg_duration_seconds,
    cast(median_duration_seconds as double) as median_duration_seconds,
    cast(avg_events_per_session as double) as avg_events_per_session,
    is_complete
from final
