with

experiments as (
    select * from {{ ref('stg_reference__experiments') }}
),

assignments as (
    select * from {{ ref('stg_dongne_db__experiment_assignments') }}
),

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

-- docs/marts.md: an assignment counts when assigned_at lies in [started_at, ended_at).
counting_assignments as (
    select
        assignments.experiment_id,
        assignments.user_id,
        assignments.variant,
        assignments.assigned_at,
        experiments.ended_at
    from assignments
    inner join experiments
        on assignments.experiment_id = experiments.experiment_id
    where
        assignments.user_id is not null
        and assignments.assigned_at >= experiments.started_at
        and assignments.assigned_at < experiments.ended_at
),

-- A user with counting assignments to more than one variant is excluded; a user's
-- assignment time is their earliest counting assigned_at.
users as (
    select
        experiment_id,
        user_id,
        min(variant) as variant,
        count(distinct variant) as variant_count,
        min(assigned_at) as assigned_at,
        min(ended_at) as ended_at
    from counting_assignments
    group by experiment_id, user_id
),

-- A user converts as the buyer of a completed trade in [assignment time, ended_at).
conversions as (
    select
        users.experiment_id,
        users.user_id,
        count(*) as conversion_trades
    from users
    inner join completed_trades
        on
            users.user_id = completed_trades.buyer_id
            and users.assigned_at <= completed_trades.completed_at
            and users.ended_at > completed_trades.completed_at
    group by users.experiment_id, users.user_id
),

final as (
    select
        users.experiment_id,
        users.user_id,
        users.variant,
        users.assigned_at,
        users.variant_count > 1 as is_excluded,
        coalesce(conversions.conversion_trades, 0) > 0 as has_converted,
        -- The guardrail (fct_experiment_readout): completed trades as the buyer in the window.
        coalesce(conversions.conversion_trades, 0) as conversion_trades
    from users
    left join conversions
        on
            users.experiment_id = conversions.experiment_id
            and users.user_id = conversions.user_id
)

select * from final
