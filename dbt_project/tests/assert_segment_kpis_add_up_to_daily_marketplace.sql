{{ config(meta={'dagster': {'ref': {'name': 'fct_daily_marketplace_by_segment'}}}) }}

-- Summed over segments, each day's KPIs equal fct_daily_marketplace's.
with

segments as (
    select
        kpi_date,
        sum(listings_created) as listings_created,
        sum(completed_trades) as completed_trades,
        sum(gmv_krw) as gmv_krw
    from {{ ref('fct_daily_marketplace_by_segment') }}
    group by kpi_date
),

daily as (
    select * from {{ ref('fct_daily_marketplace') }}
)

select
    daily.kpi_date,
    daily.listings_created,
    segments.listings_created as segment_listings,
    daily.completed_trades,
    segments.completed_trades as segment_trades
from daily
left join segments on daily.kpi_date = segments.kpi_date
where
    daily.listings_created <> coalesce(segments.listings_created, 0)
    or daily.completed_trades <> coalesce(segments.completed_trades, 0)
    or daily.gmv_krw <> coalesce(segments.gmv_krw, 0)
