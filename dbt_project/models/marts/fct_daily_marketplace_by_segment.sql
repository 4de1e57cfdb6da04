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

-- Only calendar days (as in fct_daily_marketplace); segments without activity have no row.
final as (
    select
        segment_days.*,
        calendar.is_complete
    from segment_days
    inner join calendar on segment_days.activity_date = calendar.date_day
)

select
    activity_date as kpi_date,
    region_id,
    category_id,
    cast(listings_created as bigint) as listings_created,
    cast(completed_trades as bigint) as completed_trades,
    cast(gmv_krw as bigint) as gmv_krw,
    is_complete
from final
