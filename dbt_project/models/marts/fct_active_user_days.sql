-- One row per logged-in user and KST day with at least one valid event: what DAU, WAU and
-- MAU count (the semantic layer's `user_activity`). The user is published as its key.
with

active_days as (
    select * from {{ ref('int_users_daily_active') }}
),

complete_days as (
    select
        date_day,
        is_complete
    from {{ ref('int_day_completeness') }}
),

final as (
    select
        active_days.activity_date,
        {{ keyed_hash('user_id') }} as user_key,
        coalesce(complete_days.is_complete, false) as is_complete
    from active_days
    left join complete_days on active_days.activity_date = complete_days.date_day
)

select
    activity_date,
    user_key,
    is_complete
from final
