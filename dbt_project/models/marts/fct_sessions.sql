with

events as (
    select * from {{ ref('int_events_sessionized') }}
),

sessions as (
    select
        session_id,
        session_key,
        max(user_id) as user_id,
        min(event_at) as session_start_at,
        max(event_at) as session_end_at,
        count(*) as event_count
    from events
    group by session_id, session_key
),

first_events as (
    select
        session_id,
        device_id
    from events
    where is_session_start
),

final as (
    select
        sessions.session_id,
        sessions.user_id,
        first_events.device_id,
        sessions.session_start_at,
        sessions.session_end_at,
        cast(sessions.session_start_at as date) as session_date,
        {{ seconds_between('sessions.session_start_at', 'sessions.session_end_at') }} as duration_seconds,
        sessions.event_count
    from sessions
    inner join first_events on sessions.session_id = first_events.session_id
)

select
    session_id,
    {{ keyed_hash('user_id') }} as user_key,
    {{ keyed_hash('device_id') }} as device_key,
    session_start_at,
    session_end_at,
    session_date,
    cast(duration_seconds as double) as duration_seconds,
    cast(event_count as bigint) as event_count
from final
