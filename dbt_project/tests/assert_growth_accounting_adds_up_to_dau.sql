{{ config(meta={'dagster': {'ref': {'name': 'fct_growth_accounting'}}}) }}

-- docs/marts.md: dau(d) = new + retained + resurrected, and dau(d-1) = retained + churned.
-- Every returned row is a day where the identities do not hold.
with

growth as (
    select * from {{ ref('fct_growth_accounting') }}
),

active as (
    select * from {{ ref('fct_daily_active_users') }}
),

compared as (
    select
        growth.activity_date,
        active.dau,
        growth.new_users + growth.retained_users + growth.resurrected_users as dau_from_growth,
        coalesce(previous.dau, 0) as previous_dau,
        growth.retained_users + growth.churned_users as previous_dau_from_growth
    from growth
    inner join active on growth.activity_date = active.activity_date
    left join active as previous
        on previous.activity_date = {{ dbt.dateadd('day', -1, 'growth.activity_date') }}
)

select *
from compared
where dau <> dau_from_growth or previous_dau <> previous_dau_from_growth
