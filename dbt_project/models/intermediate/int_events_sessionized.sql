{#
    Incremental by session key, from where each key changed: a key's sessions depend on
    that key's events only, and an event changes nothing before it. A run finds, for each
    key its window touches, the earliest touched event (where it is now, or where it was:
    a later copy of an event can move it to another key or time), and recomputes that
    key's events from there:
    - from the change itself when the key's session before it had ended (its last event
      more than 1,800 s earlier): the usual case, a key active again on the new day;
    - else from the start of the session open at the change;
    - a key with no event before the change, whole.
    Earlier sessions keep their rows; the recomputed ones continue their numbering and
    take their gap from the stored events before them. Rows are replaced by event_id, so
    an event that moved to another key is replaced under its new key. Equal to a full
    rebuild, late deliveries included, at the cost of the touched sessions' events only.

    On DuckDB a run returns the recomputed rows, which replace theirs by event_id. On Spark
    the table is partitioned by event_date and a run overwrites whole date partitions: it
    returns every row of every date from the earliest recompute point's date to the
    newest, the rows it does not recompute as stored (a date where nothing changed is
    written back as it was): usually the new day and the day before; a late event from
    days ago rewrites every date since. This relies on event_date being the date of
    event_at, so every row a run adds or replaces lies on or after its key's recompute
    point. The post-hook drops a date left without events (rewrites_whole_dates,
    delivery_window.sql). The recompute points are computed once per run and their
    earliest date is a literal, so Spark reads only those dates' partitions
    (computed_once.sql).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy=replace_rows_strategy(),
        unique_key='event_id',
        partition_by=date_partitions('event_date'),
        on_schema_change='fail',
        tags=['daily'],
        post_hook=[
            "{{ drop_computed_once('recompute_from') }}",
            "{{ drop_dates_without_events('event_date', ref('int_events_dated')) }}",
        ],
    )
}}

{%- set columns = [
    'session_id', 'session_key', 'session_number', 'is_session_start', 'seconds_since_previous',
    'event_id', 'event_name', 'user_id', 'device_id', 'event_at', 'event_date',
] -%}

{%- set gap_to_previous = seconds_between(
    'lag(event_at) over (partition by session_key order by event_at, event_id)', 'event_at'
) -%}

-- The window's dates, built once per run (delivery_window.sql, window_event_dates), read
-- once here for the two places that name them.
-- depends_on: {{ ref('int_window_event_dates') }}
{% set window_dates = window_event_dates() if is_incremental() else none %}

{% if is_incremental() %}
-- Where each touched key is recomputed from, the sessions before it and what comes
-- before its first event (nothing before the change changed):
-- - a closed session: from the change itself; the first recomputed event starts the next
--   session, its gap counted from that session's last event;
-- - an open one: from that session's first event, with its number and its stored gap;
-- - no stored event before the change: the key is recomputed whole, from the change (it
--   has no new event before it either: a touched one would set an earlier change, and an
--   untouched one is stored).
{%- set recompute_points -%}
with

touched_events as (
    {{ window_event_ids() }}
),

-- Each touched key, from its earliest touched event, where it is now or where it was (a
-- later copy can move an event to another key or time). Both lie on the window's dates
-- (the dates of every copy of a touched event), so only those dates are read.
touched_keys as (
    select
        copies.session_key,
        min(copies.event_at) as changed_from
    from (
        select
            dated.event_id,
            dated.session_key,
            dated.event_at
        from {{ ref('int_events_dated') }} as dated
        where dated.event_date in ({{ window_dates }})
        union all
        select
            previous.event_id,
            previous.session_key,
            previous.event_at
        from {{ this }} as previous
        where previous.event_date in ({{ window_dates }})
    ) as copies
    inner join touched_events on copies.event_id = touched_events.event_id
    group by copies.session_key
),

-- Each touched key's stored events before its change (a key without any: one row of
-- nulls), with the start of the latest session among them: the session open just
-- before the change. Each part of this chain is read once (Spark evaluates a CTE again
-- at each mention).
history as (
    select
        touched_keys.session_key,
        touched_keys.changed_from,
        previous.event_at,
        previous.is_session_start,
        previous.session_number,
        previous.seconds_since_previous,
        max(case when previous.is_session_start then previous.event_at end)
            over (partition by touched_keys.session_key)
        as start_at
    from touched_keys
    left join {{ this }} as previous
        on
            touched_keys.session_key = previous.session_key
            and previous.event_at < touched_keys.changed_from
),

-- Per touched key: that session's start (its number and stored gap) and the last event
-- before the change. One row is the start at start_at: an event at the same time as a
-- start is not a start (its gap is 0).
key_history as (
    select
        session_key,
        changed_from,
        max(start_at) as start_at,
        max(case when is_session_start and event_at = start_at then session_number end) as session_number,
        max(case when is_session_start and event_at = start_at then seconds_since_previous end) as start_gap,
        max(event_at) as last_at
    from history
    group by session_key, changed_from
),

-- Whether the session open before the change is closed whatever follows: its last event
-- is more than 1,800 s before the change.
key_state as (
    select
        *,
        coalesce({{ seconds_between('last_at', 'changed_from') }} > 1800, false) as is_closed
    from key_history
)

select
    session_key,
    case when is_closed then changed_from else coalesce(start_at, changed_from) end as anchor_at,
    case when is_closed then session_number else coalesce(session_number - 1, 0) end as number_offset,
    case when not is_closed then start_gap end as anchor_gap,
    case when is_closed then last_at end as previous_at
from key_state
{%- endset %}
{%- set recompute_from = computed_once('recompute_from', recompute_points) %}
-- Every recomputed row lies on or after the earliest anchor's date (event_date is the
-- date of event_at): only those dates are read (on Spark the date is a literal, so only
-- their partitions are).
{%- set recomputed_from_date = computed_once_min_date('recompute_from', 'anchor_at') %}
{% endif %}

with

{% if is_incremental() %}
-- Computed once per run on Spark (computed_once.sql).
{{ recompute_from }},

events as (
    select
        dated.*,
        recompute_from.number_offset,
        recompute_from.anchor_gap,
        recompute_from.previous_at
    from {{ ref('int_events_dated') }} as dated
    inner join recompute_from on dated.session_key = recompute_from.session_key
    where dated.event_date >= {{ recomputed_from_date }} and dated.event_at >= recompute_from.anchor_at
),
{% else %}
    events as (
        select
            *,
            0 as number_offset
        from {{ ref('int_events_dated') }}
    ),
{% endif %}

-- Each key's events in event-time order (event_id breaks ties, so reruns agree).
gaps as (
    select
        *,
        {%- if is_incremental() %}
            -- The first recomputed event of a key: the stored gap of the session it
            -- reopens, or its gap from the last event of the closed session before it.
            coalesce(
                {{ gap_to_previous }}, anchor_gap, {{ seconds_between('previous_at', 'event_at') }}
            ) as seconds_since_previous
        {%- else %}
            {{ gap_to_previous }} as seconds_since_previous
        {%- endif %}
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

sessions as (
    select
        -- Named after the session's first event alone (an event is in one session): stable
        -- across rebuilds on the same data, and derived from no person's id.
        {{ dbt.hash(
            'first_value(event_id) over (partition by session_key, session_number order by event_at, event_id)'
        ) }} as session_id,
        session_key,
        session_number + number_offset as session_number,
        is_session_start = 1 as is_session_start,
        seconds_since_previous,
        event_id,
        event_name,
        user_id,
        device_id,
        event_at,
        event_date
    from numbered
),

{% if is_incremental() and rewrites_whole_dates() %}
-- The rows this run does not recompute on the dates it rewrites, as stored: every date
-- from the earliest anchor's on. A row the run replaces lies on one of them (a recomputed
-- row is at or after its key's anchor, where it is now and where it was), and a date
-- without a recomputed row is written back as it was.
kept as (
    select {% for column in columns %}previous.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ this }} as previous
    left join recompute_from on previous.session_key = recompute_from.session_key
    where
        previous.event_date >= {{ recomputed_from_date }}
        and (recompute_from.session_key is null or previous.event_at < recompute_from.anchor_at)
),

final as (
    select {{ columns | join(', ') }} from sessions
    union all
    select {{ columns | join(', ') }} from kept
)
{% else %}
    final as (
        select {{ columns | join(', ') }} from sessions
    )
{% endif %}

select * from final
