-- The Experiments dashboard's figures, defined once: each variant's conversion with its
-- 95 % Wilson score interval, lift and p-value against the control, and the sample-ratio
-- check in plain words.
{% set z = 1.959963984540054 %}
{% set srm_alpha = 0.001 %}

with

results as (
    select * from {{ ref('fct_experiment_results') }}
),

intervals as (
    select
        *,
        ({{ z }} * {{ z }}) / assigned_users as z2_over_n,
        {{ z }} * sqrt(
            conversion_rate * (1 - conversion_rate) / assigned_users
            + ({{ z }} * {{ z }}) / (4.0 * assigned_users * assigned_users)
        ) as half_width_numerator
    from results
    where assigned_users > 0
),

final as (
    select
        results.experiment_id,
        results.variant,
        results.is_control,
        results.assigned_users,
        results.converted_users,
        results.conversion_rate,
        -- At a rate of 0 or 1 the interval ends there exactly (not a rounding error away).
        greatest(0.0, least(intervals.conversion_rate, (
            intervals.conversion_rate + intervals.z2_over_n / 2
            - intervals.half_width_numerator
        ) / (1 + intervals.z2_over_n))) as conversion_ci_low,
        least(1.0, greatest(intervals.conversion_rate, (
            intervals.conversion_rate + intervals.z2_over_n / 2
            + intervals.half_width_numerator
        ) / (1 + intervals.z2_over_n))) as conversion_ci_high,
        results.lift_vs_control,
        results.p_value,
        results.srm_p_value,
        coalesce(results.srm_p_value < {{ srm_alpha }}, false) as is_sample_ratio_mismatch,
        case
            when results.srm_p_value is null then 'No users assigned: nothing to check'
            when results.srm_p_value < {{ srm_alpha }}
                then 'Split is off: users were not assigned as planned, do not trust this result'
            else 'Split as planned'
        end as sample_ratio_check
    from results
    left join intervals
        on results.experiment_id = intervals.experiment_id
            and results.variant = intervals.variant
)

select
    experiment_id,
    variant,
    is_control,
    assigned_users,
    converted_users,
    conversion_rate,
    cast(conversion_ci_low as double) as conversion_ci_low,
    cast(conversion_ci_high as double) as conversion_ci_high,
    lift_vs_control,
    p_value,
    srm_p_value,
    is_sample_ratio_mismatch,
    sample_ratio_check
from final
