with

trades as (
    select * from {{ ref('int_trades_current') }}
),

-- docs/marts.md: a completed trade is one whose current state is completed; its date is the
-- KST date of completed_at.
final as (
    select
        trade_id,
        listing_id,
        buyer_id,
        seller_id,
        price_krw,
        completed_at,
        cast(completed_at as date) as completed_date
    from trades
    where trade_status = 'completed'
)

select * from final
