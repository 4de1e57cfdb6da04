-- One row per logged-in user and KST day with at least one valid event: what DAU, WAU and
-- MAU count (the semantic layer's `user_activity`). The user is published as its key.
with

active_days as (
    select * from {{ ref('int_users_daily_active') }}
),

final as (
    select
        activity_date,
        {{ keyed_hash('user_id') }} as user_key
    from active_days
)

select
    activity_date,
    user_key
from final
