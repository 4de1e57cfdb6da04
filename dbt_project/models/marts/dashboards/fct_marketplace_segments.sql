-- The Marketplace dashboard's breakdown: fct_daily_marketplace_by_segment with the
-- region's and the category's names, so that a chart needs no join of its own.
with

segments as (
    select * from {{ ref('fct_daily_marketplace_by_segment') }}
),

regions as (
    select * from {{ ref('dim_regions') }}
),

categories as (
    select * from {{ ref('dim_categories') }}
),

final as (
    select
        segments.kpi_date,
        segments.region_id,
        coalesce(regions.region_name, 'unknown region') as region_name,
        regions.district,
        segments.category_id,
        coalesce(categories.category_name, 'unknown category') as category_name,
        segments.listings_created,
        segments.completed_trades,
        segments.gmv_krw,
        segments.is_complete
    from segments
    left join regions on segments.region_id = regions.region_id
    left join categories on segments.category_id = categories.category_id
)

select
    kpi_date,
    region_id,
    region_name,
    district,
    category_id,
    category_name,
    listings_created,
    completed_trades,
    gmv_krw,
    is_complete
from final
