{#
    The marketplace's daily activity by segment, computed once: listings created and
    trades completed (with their GMV) per KST date, region and category of the listing
    (current state). A trade whose listing is unknown has no region or category.
    fct_daily_marketplace sums it per date, fct_daily_marketplace_by_segment keeps it.
#}

with

listings as (
    select * from {{ ref('int_listings_current') }}
),

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

-- A trade belongs to its listing's region and category (current state).
trade_segments as (
    select
        completed_trades.completed_date as activity_date,
        listings.region_id,
        listings.category_id,
        completed_trades.price_krw
    from completed_trades
    left join listings on completed_trades.listing_id = listings.listing_id
),

listing_counts as (
    select
        cast(created_at as date) as activity_date,
        region_id,
        category_id,
        count(*) as listings_created
    from listings
    group by cast(created_at as date), region_id, category_id
),

trade_counts as (
    select
        activity_date,
        region_id,
        category_id,
        count(*) as completed_trades,
        coalesce(sum(price_krw), 0) as gmv_krw
    from trade_segments
    group by activity_date, region_id, category_id
),

final as (
    select
        coalesce(listing_counts.activity_date, trade_counts.activity_date) as activity_date,
        coalesce(listing_counts.region_id, trade_counts.region_id) as region_id,
        coalesce(listing_counts.category_id, trade_counts.category_id) as category_id,
        coalesce(listing_counts.listings_created, 0) as listings_created,
        coalesce(trade_counts.completed_trades, 0) as completed_trades,
        coalesce(trade_counts.gmv_krw, 0) as gmv_krw
    from listing_counts
    full outer join trade_counts
        on
            listing_counts.activity_date = trade_counts.activity_date
            and listing_counts.region_id is not distinct from trade_counts.region_id
            and listing_counts.category_id is not distinct from trade_counts.category_id
)

select * from final
