with

calendar as (
    select
        date_day,
        is_complete
    from {{ ref('int_day_completeness') }}
),

listings as (
    select * from {{ ref('int_listings_current') }}
),

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

listings_by_day as (
    select
        cast(created_at as date) as created_date,
        count(*) as listings_created
    from listings
    group by cast(created_at as date)
),

trades_by_day as (
    select
        completed_date,
        count(*) as completed_trades,
        sum(price_krw) as gmv_krw
    from completed_trades
    group by completed_date
),

final as (
    select
        calendar.date_day as kpi_date,
        calendar.is_complete,
        coalesce(listings_by_day.listings_created, 0) as listings_created,
        coalesce(trades_by_day.completed_trades, 0) as completed_trades,
        coalesce(trades_by_day.gmv_krw, 0) as gmv_krw
    from calendar
    left join listings_by_day on calendar.date_day = listings_by_day.created_date
    left join trades_by_day on calendar.date_day = trades_by_day.completed_date
)

select
    kpi_date,
    cast(listings_created as bigint) as listings_created,
    cast(completed_trades as bigint) as completed_trades,
    cast(gmv_krw as bigint) as gmv_krw,
    is_complete
from final
