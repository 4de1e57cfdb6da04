with

users as (
    select * from {{ ref('int_users_current') }}
),

user_days as (
    select * from {{ ref('int_users_daily_active') }}
),

listings as (
    select * from {{ ref('int_listings_current') }}
),

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

activity as (
    select
        user_id,
        min(activity_date) as first_active_date,
        max(activity_date) as last_active_date,
        count(*) as active_days
    from user_days
    group by user_id
),

listing_counts as (
    select
        seller_id as user_id,
        count(*) as listings_created
    from listings
    group by seller_id
),

purchases as (
    select
        buyer_id as user_id,
        count(*) as completed_purchases
    from completed_trades
    group by buyer_id
),

sales as (
    select
        seller_id as user_id,
        count(*) as completed_sales
    from completed_trades
    group by seller_id
),

-- No nickname, email or phone: staging dropped them.
final as (
    select
        users.user_id,
        users.region_id,
        users.signup_at,
        cast(users.signup_at as date) as signup_date,
        cast({{ dbt.date_trunc('week', 'users.signup_at') }} as date) as cohort_week,
        users.user_status,
        activity.first_active_date,
        activity.last_active_date,
        coalesce(activity.active_days, 0) as active_days,
        coalesce(listing_counts.listings_created, 0) as listings_created,
        coalesce(purchases.completed_purchases, 0) as completed_purchases,
        coalesce(sales.completed_sales, 0) as completed_sales
    from users
    left join activity on users.user_id = activity.user_id
    left join listing_counts on users.user_id = listing_counts.user_id
    left join purchases on users.user_id = purchases.user_id
    left join sales on users.user_id = sales.user_id
)

select
    {{ keyed_hash('user_id') }} as user_key,
    region_id,
    signup_at,
    signup_date,
    cohort_week,
    user_status,
    first_active_date,
    last_active_date,
    cast(active_days as bigint) as active_days,
    cast(listings_created as bigint) as listings_created,
    cast(completed_purchases as bigint) as completed_purchases,
    cast(completed_sales as bigint) as completed_sales
from final
