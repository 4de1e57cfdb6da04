{#
    Incremental by session key, from where each key changed: a key's sessions depend on
    that key's events only, and an event changes nothing before it. A run finds, for each
    key its window touches, the earliest touched event (where it is now, or where it was:
    a later copy of an event can move it to another key or time), and recomputes that
    key's events from the start of the session that was open just before it. Earlier
    sessions keep their rows; the recomputed ones continue their numbering and take the
    stored gap before their first event. Rows are replaced by event_id, so an event that
    moved to another key is replaced under its new key. Equal to a full rebuild, late
    deliveries included, at the cost of the touched sessions' events only (a key's whole
    history when it has no event before the change).

    A run returns every row of every date it rewrites (the dates of the recomputed rows
    and of the rows they replace: the new day, and the few days a touched session reaches
    back to), the untouched rows of those dates as stored. On Spark the table is
    partitioned by event_date and the run overwrites those partitions only; the post-hook
    drops a date left without events.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy=replace_rows_strategy(),
        unique_key='event_id',
        partition_by=date_partitions('event_date'),
        on_schema_change='fail',
        tags=['daily'],
        post_hook="{{ drop_dates_without_events('event_date', ref('int_events_dated')) }}",
    )
}}

{%- set columns = [
    'session_id', 'session_key', 'session_number', 'is_session_start', 'seconds_since_previous',
    'event_id', 'event_name', 'user_id', 'device_id', 'event_at', 'event_date',
] -%}

{%- set gap_to_previous = seconds_between(
    'lag(event_at) over (partition by session_key order by event_at, event_id)', 'event_at'
) -%}

with

{% if is_incremental() %}
touched_events as (
    {{ window_event_ids() }}
),

-- Each touched key, from its earliest touched event (new or previous position).
touched_keys as (
    select
        touched.session_key,
        min(touched.event_at) as changed_from
    from (
        select
            dated.session_key,
            dated.event_at
        from {{ ref('int_events_dated') }} as dated
        inner join touched_events on dated.event_id = touched_events.event_id
        union all
        select
            previous.session_key,
            previous.event_at
        from {{ this }} as previous
        inner join touched_events on previous.event_id = touched_events.event_id
    ) as touched
    group by touched.session_key
),

-- The session each touched key had open just before it changed (none: the key is
-- recomputed whole).
last_session_before as (
    select
        previous.session_key,
        max(previous.session_number) as session_number
    from {{ this }} as previous
    inner join touched_keys on previous.session_key = touched_keys.session_key
    where previous.event_at < touched_keys.changed_from
    group by previous.session_key
),

-- Where each touched key is recomputed from: that session's first event, its number and
-- the gap before it (unchanged: nothing before it changed).
recompute_from as (
    select
        touched_keys.session_key,
        session_start.event_at as anchor_at,
        coalesce(session_start.session_number - 1, 0) as number_offset,
        session_start.seconds_since_previous as anchor_gap
    from touched_keys
    left join last_session_before
        on touched_keys.session_key = last_session_before.session_key
    left join {{ this }} as session_start
        on last_session_before.session_key = session_start.session_key
        and last_session_before.session_number = session_start.session_number
        and session_start.is_session_start
),

events as (
    select
        dated.*,
        recompute_from.number_offset,
        recompute_from.anchor_gap
    from {{ ref('int_events_dated') }} as dated
    inner join recompute_from on dated.session_key = recompute_from.session_key
    where recompute_from.anchor_at is null or dated.event_at >= recompute_from.anchor_at
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
            -- The first recomputed event of a key starts a session: its gap is the stored one.
            coalesce({{ gap_to_previous }}, anchor_gap) as seconds_since_previous
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

{% if is_incremental() %}
-- The dates this run rewrites: where the recomputed rows fall, and where the rows they
-- replace fell.
rewritten_dates as (
    select event_date from sessions
    union
    select previous.event_date
    from {{ this }} as previous
    inner join recompute_from on previous.session_key = recompute_from.session_key
    where recompute_from.anchor_at is null or previous.event_at >= recompute_from.anchor_at
),

-- The rows of those dates that no recomputed session replaces, as stored.
kept as (
    select {% for column in columns %}previous.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ this }} as previous
    left join recompute_from on previous.session_key = recompute_from.session_key
    where
        previous.event_date in (select rewritten_dates.event_date from rewritten_dates)
        and (recompute_from.session_key is null or previous.event_at < recompute_from.anchor_at)
),

final as (
    select {{ columns | join(', ') }} from sessions
    union all
    select {{ columns | join(', ') }} from kept
)
{% else %}
    final as (
        select * from sessions
    )
{% endif %}

select * from final
