with

calendar as (
    select
        date_day,
        is_complete
    from {{ ref('int_day_completeness') }}
),

segment_days as (
    select * from {{ ref('int_marketplace_segment_days') }}
),

-- The segments summed per day: the by-segment mart's days add up to this one's.
days as (
    select
        activity_date,
        sum(listings_created) as listings_created,
        sum(completed_trades) as completed_trades,
        sum(gmv_krw) as gmv_krw
    from segment_days
    group by activity_date
),

final as (
    select
        calendar.date_day as kpi_date,
        calendar.is_complete,
        coalesce(days.listings_created, 0) as listings_created,
        coalesce(days.completed_trades, 0) as completed_trades,
        coalesce(days.gmv_krw, 0) as gmv_krw
    from calendar
    left join days on calendar.date_day = days.activity_date
)

select
    kpi_date,
    cast(listings_created as bigint) as listings_created,
    cast(completed_trades as bigint) as completed_trades,
    cast(gmv_krw as bigint) as gmv_krw,
    is_complete
from final
