with

listings as (
    select * from {{ ref('int_listings_current') }}
),

first_versions as (
    select * from {{ ref('int_listings_first_version') }}
),

users as (
    select * from {{ ref('int_users_current') }}
),

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

events as (
    select * from {{ ref('int_events_dated') }}
    where event_name in ('listing_view', 'chat_start') and listing_id is not null
),

prior_listings as (
    select
        listings.listing_id,
        count(earlier.listing_id) as seller_prior_listings
    from listings
    left join listings as earlier
        on
            listings.seller_id = earlier.seller_id
            and listings.created_at > earlier.created_at
    group by listings.listing_id
),

prior_trades as (
    select
        listings.listing_id,
        count(completed_trades.trade_id) as seller_prior_completed_trades
    from listings
    left join completed_trades
        on
            listings.seller_id = completed_trades.seller_id
            and listings.created_at > completed_trades.completed_at
    group by listings.listing_id
),

-- Views and chats in the first 72 hours: [created_at, created_at + 72 h).
first_72_hours as (
    select
        listings.listing_id,
        count(case when events.event_name = 'listing_view' then 1 end) as views_72h,
        count(case when events.event_name = 'chat_start' then 1 end) as chats_72h
    from listings
    left join events
        on
            listings.listing_id = events.listing_id
            and listings.created_at <= events.event_at
            and events.event_at < {{ dbt.dateadd('hour', 72, 'listings.created_at') }}
    group by listings.listing_id
),

final as (
    select
        listings.listing_id,
        listings.created_at,
        listings.category_id,
        listings.region_id,
        {{ keyed_hash('listings.seller_id') }} as seller_key,
        first_versions.first_price_krw as price_krw,
        prior_listings.seller_prior_listings,
        prior_trades.seller_prior_completed_trades,
        floor({{ seconds_between('users.signup_at', 'listings.created_at') }} / 86400) as seller_account_age_days,
        first_72_hours.views_72h,
        first_72_hours.chats_72h
    from listings
    inner join first_versions on listings.listing_id = first_versions.listing_id
    inner join prior_listings on listings.listing_id = prior_listings.listing_id
    inner join prior_trades on listings.listing_id = prior_trades.listing_id
    inner join first_72_hours on listings.listing_id = first_72_hours.listing_id
    left join users on listings.seller_id = users.user_id
)

select
    listing_id,
    created_at,
    category_id,
    region_id,
    seller_key,
    cast(price_krw as bigint) as price_krw,
    cast(seller_prior_listings as bigint) as seller_prior_listings,
    cast(seller_prior_completed_trades as bigint) as seller_prior_completed_trades,
    cast(seller_account_age_days as bigint) as seller_account_age_days,
    cast(views_72h as bigint) as views_72h,
    cast(chats_72h as bigint) as chats_72h
from final
