{{ config(meta={'dagster': {'ref': {'name': 'fct_sessions'}}}) }}

-- Every valid event belongs to exactly one session: the sessions' event counts add up
-- to the number of valid events. A returned row means events were lost or doubled.
with

session_events as (
    select coalesce(sum(event_count), 0) as events_in_sessions from {{ ref('fct_sessions') }}
),

valid_events as (
    select count(*) as valid_events from {{ ref('int_events_dated') }}
)

select
    session_events.events_in_sessions,
    valid_events.valid_events
from session_events
cross join valid_events
where session_events.events_in_sessions <> valid_events.valid_events
