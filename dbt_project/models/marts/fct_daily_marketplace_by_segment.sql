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

-- A trade belongs to its listing's region and category (current state).
trade_segments as (
    select
        completed_trades.completed_date as kpi_date,
        listings.region_id,
        listings.category_id,
        completed_trades.price_krw
    from completed_trades
    left join listings on completed_trades.listing_id = listings.listing_id
),

listing_counts as (
    select
        cast(created_at as date) as kpi_date,
        region_id,
        category_id,
        count(*) as listings_created
    from listings
    group by cast(created_at as date), region_id, category_id
),

trade_counts as (
    select
        kpi_date,
        region_id,
        category_id,
        count(*) as completed_trades,
        coalesce(sum(price_krw), 0) as gmv_krw
    from trade_segments
    group by kpi_date, region_id, category_id
),

combined as (
    select
        coalesce(listing_counts.kpi_date, trade_counts.kpi_date) as kpi_date,
        coalesce(listing_counts.region_id, trade_counts.region_id) as region_id,
        coalesce(listing_counts.category_id, trade_counts.category_id) as category_id,
        coalesce(listing_counts.listings_created, 0) as listings_created,
        coalesce(trade_counts.completed_trades, 0) as completed_trades,
        coalesce(trade_counts.gmv_krw, 0) as gmv_krw
    from listing_counts
    full outer join trade_counts
        on
            listing_counts.kpi_date = trade_counts.kpi_date
            and listing_counts.region_id is not distinct from trade_counts.region_id
            and listing_counts.category_id is not distinct from trade_counts.category_id
),

-- Only calendar days (as in fct_daily_marketplace); segments without activity have no row.
final as (
    select
        combined.*,
        calendar.is_complete
    from combined
    inner join calendar on combined.kpi_date = calendar.date_day
)

select
    kpi_date,
    region_id,
    category_id,
    cast(listings_created as bigint) as listings_created,
    cast(completed_trades as bigint) as completed_trades,
    cast(gmv_krw as bigint) as gmv_krw,
    is_complete
from final
