{{ config(meta={'dagster': {'ref': {'name': 'fct_daily_marketplace'}}}) }}

-- Completed trades and GMV summed over the calendar equal those of completed trades
-- dated inside the calendar: nothing is dropped or counted twice by the daily grain.
with

calendar as (
    select
        min(date_day) as first_date,
        max(date_day) as last_date
    from {{ ref('int_calendar_dates') }}
),

mart as (
    select
        sum(completed_trades) as completed_trades,
        sum(gmv_krw) as gmv_krw
    from {{ ref('fct_daily_marketplace') }}
),

trades as (
    select
        count(*) as completed_trades,
        coalesce(sum(completed_trades.price_krw), 0) as gmv_krw
    from {{ ref('int_trades_completed') }} as completed_trades
    cross join calendar
    where completed_trades.completed_date between calendar.first_date and calendar.last_date
)

select
    mart.completed_trades as mart_trades,
    trades.completed_trades as trade_count,
    mart.gmv_krw as mart_gmv,
    trades.gmv_krw as trade_gmv
from mart
cross join trades
where mart.completed_trades <> trades.completed_trades or mart.gmv_krw <> trades.gmv_krw
