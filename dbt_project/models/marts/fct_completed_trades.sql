-- One row per completed trade (current state completed), dated by the KST date of
-- completed_at: what completed trades, GMV and buyers count. People are published as keys.
with

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

-- Every day up to the last complete one is complete (docs/marts.md), a trade dated before
-- the calendar's first day included.
last_complete as (
    select max(case when is_complete then date_day end) as last_complete_date
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
        coalesce(completed_trades.completed_date <= last_complete.last_complete_date, false)
            as is_complete
    from completed_trades
    cross join last_complete
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
