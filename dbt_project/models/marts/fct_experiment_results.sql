with

variants as (
    select * from {{ ref('int_experiment_variants') }}
),

participants as (
    select * from {{ ref('int_experiment_participants') }}
    where not is_excluded
),

counts as (
    select
        variants.experiment_id,
        variants.variant,
        variants.is_control,
        variants.expected_fraction,
        count(participants.user_id) as assigned_users,
        count(case when participants.has_converted then 1 end) as converted_users
    from variants
    left join participants
        on
            variants.experiment_id = participants.experiment_id
            and variants.variant = participants.variant
    group by variants.experiment_id, variants.variant, variants.is_control, variants.expected_fraction
),

rates as (
    select
        *,
        case when assigned_users > 0 then cast(converted_users as double) / assigned_users end
            as conversion_rate,
        sum(assigned_users) over (partition by experiment_id) as experiment_users,
        count(*) over (partition by experiment_id) as experiment_variants
    from counts
),

control as (
    select
        experiment_id,
        assigned_users as control_users,
        converted_users as control_converted,
        conversion_rate as control_rate
    from rates
    where is_control
),

-- Two-proportion z-test against the control with the pooled variance.
compared as (
    select
        rates.*,
        control.control_rate,
        cast(rates.converted_users + control.control_converted as double)
        / nullif(rates.assigned_users + control.control_users, 0) as pooled_rate,
        control.control_users
    from rates
    left join control on rates.experiment_id = control.experiment_id
),

z_scores as (
    select
        *,
        (conversion_rate - control_rate) / nullif(sqrt(
            pooled_rate * (1 - pooled_rate)
            * (1.0 / nullif(assigned_users, 0) + 1.0 / nullif(control_users, 0))
        ), 0) as z_score
    from compared
),

-- Sample-ratio mismatch: chi-square goodness of fit of assigned users to the expected split.
srm as (
    select
        experiment_id,
        sum(
            (assigned_users - experiment_users * expected_fraction)
            * (assigned_users - experiment_users * expected_fraction)
            / nullif(experiment_users * expected_fraction, 0)
        ) as chi_square,
        max(experiment_variants) - 1 as degrees_of_freedom,
        max(experiment_users) as experiment_users
    from rates
    group by experiment_id
),

final as (
    select
        z_scores.experiment_id,
        z_scores.variant,
        z_scores.assigned_users,
        z_scores.converted_users,
        z_scores.conversion_rate,
        case
            when not z_scores.is_control then z_scores.conversion_rate / nullif(z_scores.control_rate, 0) - 1
        end as lift_vs_control,
        case
            when not z_scores.is_control then {{ normal_two_sided_p_value('z_scores.z_score') }}
        end as p_value,
        case
            when srm.experiment_users > 0
                then {{ chi_square_p_value('srm.chi_square', 'srm.degrees_of_freedom') }}
        end as srm_p_value,
        z_scores.is_control
    from z_scores
    inner join srm on z_scores.experiment_id = srm.experiment_id
)

select
    experiment_id,
    variant,
    cast(assigned_users as bigint) as assigned_users,
    cast(converted_users as bigint) as converted_users,
    cast(conversion_rate as double) as conversion_rate,
    cast(lift_vs_control as double) as lift_vs_control,
    cast(p_value as double) as p_value,
    cast(srm_p_value as double) as srm_p_value,
    is_control
from final
