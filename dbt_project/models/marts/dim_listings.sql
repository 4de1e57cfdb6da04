with

listings as (
    select * from {{ ref('int_listings_current') }}
),

versions as (
    select * from {{ ref('stg_dongne_db__listings') }}
),

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

first_prices as (
    select * from {{ ref('int_listings_first_version') }}
),

version_counts as (
    select
        listing_id,
        count(*) as exported_versions,
        count(distinct price_krw) - 1 as price_changes
    from versions
    group by listing_id
),

sold as (
    select
        listing_id,
        min(completed_at) as first_completed_at
    from completed_trades
    group by listing_id
),

final as (
    select
        listings.listing_id,
        listings.seller_id,
        listings.category_id,
        listings.region_id,
        {{ scrub_contacts('listings.title') }} as title,
        listings.listing_status,
        listings.created_at,
        cast(listings.created_at as date) as created_date,
        first_prices.first_price_krw,
        listings.price_krw as current_price_krw,
        version_counts.exported_versions,
        version_counts.price_changes,
        sold.first_completed_at,
        sold.listing_id is not null as has_completed_trade
    from listings
    left join first_prices on listings.listing_id = first_prices.listing_id
    left join version_counts on listings.listing_id = version_counts.listing_id
    left join sold on listings.listing_id = sold.listing_id
)

select
    listing_id,
    {{ keyed_hash('seller_id') }} as seller_key,
    category_id,
    region_id,
    title,
    listing_status,
    created_at,
    created_date,
    cast(first_price_krw as bigint) as first_price_krw,
    cast(current_price_krw as bigint) as current_price_krw,
    cast(exported_versions as bigint) as exported_versions,
    cast(price_changes as bigint) as price_changes,
    first_completed_at,
    has_completed_trade
from final
