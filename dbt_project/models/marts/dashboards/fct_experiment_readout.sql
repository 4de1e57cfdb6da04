{#
    The Experiments dashboard's figures and decisions, defined once (docs/marts.md,
    "Experiment decisions"): each variant's conversion with its 95 % Wilson score interval,
    the lift with its 95 % interval, p-values Holm-adjusted across the experiment's
    variants, the minimum detectable lift at 80 % power, whether the test reached its end
    date, the guardrail (completed trades per assigned user) with its interval, the
    sample-ratio check, and a decision in words.
#}
{% set z = 1.959963984540054 %}
{% set z_power = 0.8416212335729143 %}
{% set alpha = 0.05 %}
{% set srm_alpha = 0.001 %}
{% set smallest_lift = var('experiment_smallest_lift_worth_shipping') %}
{% set lateness_hours = var('complete_after_hours') %}

with

results as (
    select * from {{ ref('fct_experiment_results') }}
),

experiments as (
    select * from {{ ref('stg_reference__experiments') }}
),

participants as (
    select * from {{ ref('int_experiment_participants') }}
    where not is_excluded
),

-- How far the deliveries reach: a test whose end lies beyond has not run its course.
deliveries as (
    select * from {{ ref('int_deliveries_through') }}
),

-- The guardrail per variant: completed trades bought per assigned user, with the sums a
-- variance needs.
guardrail_sums as (
    select
        experiment_id,
        variant,
        count(*) as user_count,
        sum(conversion_trades) as trades,
        sum(conversion_trades * conversion_trades) as trades_squared
    from participants
    group by experiment_id, variant
),

guardrails as (
    select
        experiment_id,
        variant,
        user_count,
        cast(trades as double) / user_count as trades_per_user,
        case
            when user_count > 1
                then (trades_squared - cast(trades as double) * trades / user_count) / (user_count - 1)
        end as trades_variance
    from guardrail_sums
),

control as (
    select
        results.experiment_id,
        results.assigned_users as control_users,
        results.converted_users as control_converted,
        results.conversion_rate as control_rate,
        guardrails.trades_per_user as control_trades_per_user,
        guardrails.trades_variance as control_trades_variance
    from results
    left join guardrails
        on
            results.experiment_id = guardrails.experiment_id
            and results.variant = guardrails.variant
    where results.is_control
),

-- Holm's step-down across an experiment's variants: the k-th smallest of m p-values is
-- multiplied by m - k + 1, and an adjusted p-value never falls below an earlier one.
ranked_p_values as (
    select
        experiment_id,
        variant,
        p_value,
        row_number() over (partition by experiment_id order by p_value, variant) as p_rank,
        count(*) over (partition by experiment_id) as tested_variants
    from results
    where not is_control and p_value is not null
),

holm as (
    select
        experiment_id,
        variant,
        least(1.0, max((tested_variants - p_rank + 1) * p_value) over (
            partition by experiment_id order by p_rank
            rows between unbounded preceding and current row
        )) as holm_p_value
    from ranked_p_values
),

compared as (
    select
        results.*,
        experiments.ended_at,
        -- The deliveries cover ended_at as they cover a complete day: events received up to
        -- the allowed lateness past it, and the export of its last day.
        coalesce(
            deliveries.events_received_through
            >= {{ dbt.dateadd('hour', lateness_hours, 'experiments.ended_at') }}
            and deliveries.exported_through
            >= cast({{ dbt.dateadd('second', -1, 'experiments.ended_at') }} as date),
            false
        ) as has_ended,
        control.control_users,
        control.control_converted,
        control.control_rate,
        holm.holm_p_value,
        guardrails.trades_per_user,
        guardrails.trades_variance,
        control.control_trades_per_user,
        control.control_trades_variance,
        ({{ z }} * {{ z }}) / nullif(results.assigned_users, 0) as z2_over_n,
        {{ z }} * sqrt(
            results.conversion_rate * (1 - results.conversion_rate) / nullif(results.assigned_users, 0)
            + ({{ z }} * {{ z }}) / nullif(4.0 * results.assigned_users * results.assigned_users, 0)
        ) as wilson_half_width
    from results
    inner join experiments on results.experiment_id = experiments.experiment_id
    cross join deliveries
    left join control on results.experiment_id = control.experiment_id
    left join holm
        on
            results.experiment_id = holm.experiment_id
            and results.variant = holm.variant
    left join guardrails
        on
            results.experiment_id = guardrails.experiment_id
            and results.variant = guardrails.variant
),

intervals as (
    select
        *,
        -- At a rate of 0 or 1 the interval ends there exactly (not a rounding error away).
        greatest(0.0, least(conversion_rate, (
            conversion_rate + z2_over_n / 2 - wilson_half_width
        ) / (1 + z2_over_n))) as conversion_ci_low,
        least(1.0, greatest(conversion_rate, (
            conversion_rate + z2_over_n / 2 + wilson_half_width
        ) / (1 + z2_over_n))) as conversion_ci_high,
        -- The lift's interval on the log of the rate ratio (Katz): needs conversions on
        -- both sides.
        case
            when not is_control and converted_users > 0 and control_converted > 0
                then {{ z }} * sqrt(
                        1.0 / converted_users - 1.0 / assigned_users
                        + 1.0 / control_converted - 1.0 / control_users
                    )
        end as log_lift_half_width,
        -- The smallest lift this sample finds at α = 0.05 (two-sided) 80 % of the time.
        case
            when not is_control and control_rate > 0 and assigned_users > 0 and control_users > 0
                then ({{ z }} + {{ z_power }}) * sqrt(
                        control_rate * (1 - control_rate)
                        * (1.0 / assigned_users + 1.0 / control_users)
                    ) / control_rate
        end as minimum_detectable_lift,
        case
            when not is_control then trades_per_user - control_trades_per_user
        end as guardrail_difference,
        case
            when not is_control and assigned_users > 0 and control_users > 0
                then {{ z }} * sqrt(
                        trades_variance / assigned_users + control_trades_variance / control_users
                    )
        end as guardrail_half_width
    from compared
),

bounded as (
    select
        *,
        case
            when log_lift_half_width is not null
                then exp(ln(conversion_rate / control_rate) - log_lift_half_width) - 1
        end as lift_ci_low,
        case
            when log_lift_half_width is not null
                then exp(ln(conversion_rate / control_rate) + log_lift_half_width) - 1
        end as lift_ci_high,
        guardrail_difference - guardrail_half_width as guardrail_ci_low,
        guardrail_difference + guardrail_half_width as guardrail_ci_high,
        coalesce(srm_p_value < {{ srm_alpha }}, false) as is_sample_ratio_mismatch,
        coalesce(holm_p_value < {{ alpha }}, false) as is_clear,
        coalesce(conversion_rate > control_rate, false) as converts_more,
        coalesce(guardrail_difference + guardrail_half_width < 0, false) as is_guardrail_down
    from intervals
),

decided as (
    select
        *,
        case
            when is_control then null
            when is_sample_ratio_mismatch then 'do not trust: the split is off'
            when not has_ended then 'keep running: not at its end date yet'
            when is_clear and converts_more and not is_guardrail_down then 'ship'
            when is_clear then 'do not ship'
            when minimum_detectable_lift is null or minimum_detectable_lift > {{ smallest_lift }}
                then 'keep running: too small to tell'
            else 'do not ship'
        end as decision
    from bounded
),

final as (
    select
        *,
        case
            when is_control then 'The control: every variant is compared with it.'
            when is_sample_ratio_mismatch
                then {{ dbt.concat([
                    "'Users were not assigned as planned (sample-ratio p = '",
                    decimal_text('srm_p_value', 4),
                    "' < " ~ srm_alpha ~ "): fix the assignment, then run the test again.'",
                ]) }}
            when not has_ended
                then {{ dbt.concat([
                    "'The test runs until '",
                    "coalesce(" ~ dbt.cast('ended_at', api.Column.translate_type('string')) ~ ", 'an end not given')",
                    "' and the deliveries do not cover that yet; deciding earlier reads noise as an effect.'",
                ]) }}
            when is_clear
                then {{ dbt.concat([
                    "'Converts '", percent_text('conversion_rate'), "' against '",
                    percent_text('control_rate'), "' in the control (lift '",
                    "coalesce(" ~ signed_percent_text('lift_vs_control') ~ ", 'not defined')",
                    "', 95 % interval '", "coalesce(" ~ signed_percent_text('lift_ci_low') ~ ", 'n/a')",
                    "' to '", "coalesce(" ~ signed_percent_text('lift_ci_high') ~ ", 'n/a')",
                    "'), Holm-adjusted p '", decimal_text('holm_p_value', 3), "' < " ~ alpha ~ "'",
                    "case when is_guardrail_down then "
                    ~ dbt.concat([
                        "'; but completed trades per user fell by '", decimal_text('-guardrail_difference', 3),
                        "' (95 % interval of the change '", decimal_text('guardrail_ci_low', 3), "' to '",
                        decimal_text('guardrail_ci_high', 3), "')'",
                    ])
                    ~ " when converts_more then '; trades per user did not fall' else '' end",
                    "'.'",
                ]) }}
            when decision = 'do not ship'
                then {{ dbt.concat([
                    "'No clear effect (Holm-adjusted p '", decimal_text('holm_p_value', 3),
                    "'), and the test could have found a lift of '",
                    signed_percent_text('minimum_detectable_lift'),
                    "' (80 % power): no lift worth shipping is there.'",
                ]) }}
            else {{ dbt.concat([
                    "'No clear effect (Holm-adjusted p '", "coalesce(" ~ decimal_text('holm_p_value', 3) ~ ", 'none')",
                    "'), and this sample finds only a lift of '",
                    "coalesce(" ~ signed_percent_text('minimum_detectable_lift') ~ ", 'any size')",
                    "' or more (80 % power): more users are needed to tell.'",
                ]) }}
        end as decision_reason,
        case
            when srm_p_value is null then 'No users assigned: nothing to check'
            when is_sample_ratio_mismatch
                then 'Split is off: users were not assigned as planned, do not trust this result'
            else 'Split as planned'
        end as sample_ratio_check
    from decided
)

select
    experiment_id,
    variant,
    is_control,
    assigned_users,
    converted_users,
    conversion_rate,
    cast(case when assigned_users > 0 then conversion_ci_low end as double) as conversion_ci_low,
    cast(case when assigned_users > 0 then conversion_ci_high end as double) as conversion_ci_high,
    lift_vs_control,
    p_value,
    srm_p_value,
    is_sample_ratio_mismatch,
    sample_ratio_check,
    cast(lift_ci_low as double) as lift_ci_low,
    cast(lift_ci_high as double) as lift_ci_high,
    cast(holm_p_value as double) as holm_p_value,
    cast(minimum_detectable_lift as double) as minimum_detectable_lift,
    ended_at,
    has_ended,
    cast(trades_per_user as double) as trades_per_user,
    cast(guardrail_difference as double) as guardrail_difference,
    cast(guardrail_ci_low as double) as guardrail_ci_low,
    cast(guardrail_ci_high as double) as guardrail_ci_high,
    decision,
    decision_reason
from final
