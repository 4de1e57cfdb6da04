-- The benchmark's baseline: the four core marts straight from the raw files, in one
-- plain DuckDB script (no Dagster, no dbt, no lake, no quarantine, no tests). What the
-- platform adds on top of this is its cost; `make bench` reports it as a ratio.
-- {raw} is replaced by the raw directory.

create or replace temp table events as
with
lines as (
    select *
    from read_json(
        '{raw}/events/*/*.jsonl*',
        format = 'newline_delimited',
        columns = {
            event_id: 'varchar', event_name: 'varchar', user_id: 'json',
            device_id: 'varchar', occurred_at: 'varchar', received_at: 'varchar'
        },
        ignore_errors = true
    )
),
valid as (
    select
        event_id,
        try_cast(user_id::varchar as bigint) as user_id,
        device_id,
        try_cast(occurred_at as timestamptz) at time zone 'UTC' as occurred,
        try_cast(received_at as timestamptz) at time zone 'UTC' as received
    from lines
    where nullif(trim(event_id), '') is not null
        and nullif(trim(event_name), '') is not null
        and nullif(trim(device_id), '') is not null
        and regexp_matches(occurred_at, '([Zz]|[+-]\d{2}(:?\d{2})?)$')
        and regexp_matches(received_at, '([Zz]|[+-]\d{2}(:?\d{2})?)$')
        and (user_id is null or json_type(user_id) in ('NULL', 'BIGINT', 'UBIGINT'))
),
first_copy as (
    select * from valid
    where occurred is not null and received is not null
    qualify row_number() over (partition by event_id order by received) = 1
)
select
    event_id,
    user_id,
    device_id,
    case when occurred > received + interval 5 minute then received else occurred end
        + interval 9 hour as event_at
from first_copy;

create or replace temp table calendar as
select cast(unnest(generate_series(min(event_at)::date, max(event_at)::date, interval 1 day))
    as date) as day
from events;

create or replace temp table user_days as
select distinct user_id, event_at::date as day from events where user_id is not null;

-- fct_daily_active_users
create or replace temp table fct_daily_active_users as
select
    calendar.day as activity_date,
    count(distinct user_days.user_id) filter (where user_days.day = calendar.day) as dau,
    count(distinct user_days.user_id) filter (where user_days.day > calendar.day - 7) as wau,
    count(distinct user_days.user_id) as mau
from calendar
left join user_days
    on user_days.day <= calendar.day and user_days.day > calendar.day - 28
group by 1;

-- fct_growth_accounting
create or replace temp table fct_growth_accounting as
with
firsts as (select user_id, min(day) as first_day from user_days group by 1),
today as (
    select
        d.day,
        d.user_id,
        f.first_day,
        exists (
            select 1 from user_days as y where y.user_id = d.user_id and y.day = d.day - 1
        ) as active_yesterday
    from user_days as d join firsts as f using (user_id)
),
churn as (
    select y.day + 1 as day, count(*) as churned
    from user_days as y
    anti join user_days as t on t.user_id = y.user_id and t.day = y.day + 1
    group by 1
)
select
    calendar.day as activity_date,
    count(*) filter (where today.first_day = today.day) as new_users,
    count(*) filter (where today.active_yesterday) as retained_users,
    count(*) filter (
        where not today.active_yesterday and today.first_day < today.day - 1
    ) as resurrected_users,
    coalesce(any_value(churn.churned), 0) as churned_users
from calendar
left join today on today.day = calendar.day
left join churn on churn.day = calendar.day
group by 1;

-- fct_sessions
create or replace temp table fct_sessions as
with
keyed as (
    select
        *,
        coalesce('user:' || user_id, 'device:' || device_id) as session_key,
        epoch_us(event_at) - lag(epoch_us(event_at)) over (
            partition by coalesce('user:' || user_id, 'device:' || device_id)
            order by event_at, event_id
        ) as gap_us
    from events
),
numbered as (
    select
        *,
        sum(case when gap_us is null or gap_us > 1800000000 then 1 else 0 end) over (
            partition by session_key order by event_at, event_id
        ) as session_number
    from keyed
)
select
    session_key,
    session_number,
    min(event_at) as session_start_at,
    max(event_at) as session_end_at,
    min(event_at)::date as session_date,
    (epoch_us(max(event_at)) - epoch_us(min(event_at))) / 1e6 as duration_seconds,
    count(*) as event_count
from numbered
group by 1, 2;

-- fct_daily_marketplace
create or replace temp table fct_daily_marketplace as
with
listings as (
    select listing_id, created_at
    from read_csv('{raw}/db/listings/*.csv*', all_varchar = true, union_by_name = true,
        filename = true, ignore_errors = true)
    where try_cast(listing_id as bigint) is not null
        and (nullif(price_krw, '') is null or try_cast(price_krw as bigint) is not null)
        and try_strptime(updated_at, '%Y-%m-%d %H:%M:%S') is not null
    qualify row_number() over (
        partition by listing_id order by try_strptime(updated_at, '%Y-%m-%d %H:%M:%S') desc,
            filename desc
    ) = 1
),
trades as (
    select *
    from read_csv('{raw}/db/trades/*.csv*', all_varchar = true, union_by_name = true,
        filename = true, ignore_errors = true)
    where try_cast(trade_id as bigint) is not null
        and (nullif(completed_at, '') is null
            or try_strptime(completed_at, '%Y-%m-%d %H:%M:%S') is not null)
        and try_strptime(updated_at, '%Y-%m-%d %H:%M:%S') is not null
    qualify row_number() over (
        partition by trade_id order by try_strptime(updated_at, '%Y-%m-%d %H:%M:%S') desc,
            filename desc
    ) = 1
),
completed as (
    select
        try_strptime(completed_at, '%Y-%m-%d %H:%M:%S')::date as day,
        try_cast(price_krw as bigint) as price
    from trades
    where status = 'completed'
)
select
    calendar.day as kpi_date,
    (
        select count(*) from listings
        where try_strptime(created_at, '%Y-%m-%d %H:%M:%S')::date = calendar.day
    ) as listings_created,
    (select count(*) from completed where completed.day = calendar.day) as completed_trades,
    coalesce((select sum(price) from completed where completed.day = calendar.day), 0)
        as gmv_krw
from calendar;
