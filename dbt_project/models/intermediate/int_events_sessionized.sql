{#
    Incremental by session key: a key's sessions depend on that key's events only, so a
    run recomputes every event of each key its window touches and replaces those rows by
    event_id. A key is touched when a touched event belongs to it now or belonged to it
    before (a later copy of an event can move it to another key); rows of a key that lost
    all its events are replaced under their new key. Equal to a full rebuild, late
    deliveries included, at the cost of the touched keys' events only.
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

{% if is_incremental() %}
touched_events as (
    {{ window_event_ids() }}
),

touched_keys as (
    select dated.session_key
    from {{ ref('int_events_dated') }} as dated
    inner join touched_events on dated.event_id = touched_events.event_id
    union
    select previous.session_key
    from {{ this }} as previous
    inner join touched_events on previous.event_id = touched_events.event_id
),
{% endif %}

events as (
    select * from {{ ref('int_events_dated') }}
    {% if is_incremental() %}
        where session_key in (select touched_keys.session_key from touched_keys)
    {% endif %}
),

-- Each key's events in event-time order (event_id breaks ties, so reruns agree).
gaps as (
    select
        *,
        {{ seconds_between(
            'lag(event_at) over (partition by session_key order by event_at, event_id)',
            'event_at'
        ) }} as seconds_since_previous
    from events
),

-- A session starts at a key's first event and after every gap of more than 1,800 s;
-- a gap of exactly 1,800 s continues the session.
starts as (
    select
        *,
        case
            when seconds_since_previous is null or seconds_since_previous > 1800 then 1
            else 0
        end as is_session_start
    from gaps
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by session_key
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from starts
),

final as (
    select
        -- Named after the session's first event alone (an event is in one session): stable
        -- across rebuilds on the same data, and derived from no person's id.
        {{ dbt.hash(
            'first_value(event_id) over (partition by session_key, session_number order by event_at, event_id)'
        ) }} as session_id,
        session_key,
        session_number,
        is_session_start = 1 as is_session_start,
        seconds_since_previous,
        event_id,
        event_name,
        user_id,
        device_id,
        event_at,
        event_date
    from numbered
)

select * from final
