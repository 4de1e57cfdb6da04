with

users as (
    select * from {{ ref('int_users_current') }}
),

listings as (
    select * from {{ ref('int_listings_current') }}
),

events as (
    select * from {{ ref('int_events_dated') }}
),

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

first_listings as (
    select
        seller_id as user_id,
        min(created_at) as first_listing_at
    from listings
    group by seller_id
),

first_chats as (
    select
        user_id,
        min(event_at) as first_chat_at
    from events
    where event_name = 'chat_start' and user_id is not null
    group by user_id
),

trade_sides as (
    select
        buyer_id as user_id,
        completed_at
    from completed_trades
    union all
    select
        seller_id as user_id,
        completed_at
    from completed_trades
),

first_trades as (
    select
        user_id,
        min(completed_at) as first_trade_at
    from trade_sides
    group by user_id
),

-- Each step counts only when it happened after sign-up.
final as (
    select
        users.user_id,
        users.signup_at,
        cast({{ dbt.date_trunc('week', 'users.signup_at') }} as date) as cohort_week,
        case when first_listings.first_listing_at >= users.signup_at then first_listings.first_listing_at end
            as first_listing_at,
        case when first_chats.first_chat_at >= users.signup_at then first_chats.first_chat_at end
            as first_chat_at,
        case when first_trades.first_trade_at >= users.signup_at then first_trades.first_trade_at end
            as first_trade_at
    from users
    left join first_listings on users.user_id = first_listings.user_id
    left join first_chats on users.user_id = first_chats.user_id
    left join first_trades on users.user_id = first_trades.user_id
    where users.signup_at is not null
)

select
    {{ keyed_hash('user_id') }} as user_key,
    signup_at,
    cohort_week,
    first_listing_at,
    first_chat_at,
    first_trade_at,
    first_listing_at is not null as reached_listing,
    first_chat_at is not null as reached_chat,
    first_trade_at is not null as reached_trade
from final
