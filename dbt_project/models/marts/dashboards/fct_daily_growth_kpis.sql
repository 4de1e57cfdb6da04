-- The Growth dashboard's figures, defined once: active users, stickiness, growth
-- accounting and the quick ratio, one row per calendar date.
with

active_users as (
    select * from {{ ref('fct_daily_active_users') }}
),

growth as (
    select * from {{ ref('fct_growth_accounting') }}
),

final as (
    select
        active_users.activity_date,
        active_users.dau,
        active_users.wau,
        active_users.mau,
        cast(active_users.dau as double) / nullif(active_users.mau, 0) as stickiness,
        growth.new_users,
        growth.retained_users,
        growth.resurrected_users,
        growth.churned_users,
        cast(growth.new_users + growth.resurrected_users as double)
        / nullif(growth.churned_users, 0) as quick_ratio,
        active_users.is_complete
    from active_users
    inner join growth on active_users.activity_date = growth.activity_date
)

select
    activity_date,
    dau,
    wau,
    mau,
    cast(stickiness as double) as stickiness,
    new_users,
    retained_users,
    resurrected_users,
    churned_users,
    cast(quick_ratio as double) as quick_ratio,
    is_complete
from final
