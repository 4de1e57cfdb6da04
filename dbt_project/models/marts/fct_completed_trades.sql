-- One row per completed trade (current state completed), dated by the KST date of
-- completed_at: what completed trades, GMV and buyers count. People are published as keys.
with

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

complete_days as (
    select
        date_day,
        is_complete
    from {{ ref('int_day_completeness') }}
),

final as (
    select
        completed_trades.trade_id,
        completed_trades.listing_id,
        {{ keyed_hash('completed_trades.buyer_id') }} as buyer_key,
        {{ keyed_hash('completed_trades.seller_id') }} as seller_key,
        completed_trades.price_krw,
        completed_trades.completed_at,
        completed_trades.completed_date,
        coalesce(complete_days.is_complete, false) as is_complete
    from completed_trades
    left join complete_days on completed_trades.completed_date = complete_days.date_day
)

select
    trade_id,
    listing_id,
    buyer_key,
    seller_key,
    cast(price_krw as bigint) as price_krw,
    completed_at,
    completed_date,
    is_complete
from final
