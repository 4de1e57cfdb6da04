-- One row per completed trade (current state completed), dated by the KST date of
-- completed_at: what completed trades, GMV and buyers count. People are published as keys.
with

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

final as (
    select
        trade_id,
        listing_id,
        {{ keyed_hash('buyer_id') }} as buyer_key,
        {{ keyed_hash('seller_id') }} as seller_key,
        price_krw,
        completed_at,
        completed_date
    from completed_trades
)

select
    trade_id,
    listing_id,
    buyer_key,
    seller_key,
    cast(price_krw as bigint) as price_krw,
    completed_at,
    completed_date
from final
