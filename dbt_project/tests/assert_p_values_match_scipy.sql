-- macros/statistics.sql's p-values against scipy's (seeds/p_value_reference.csv): within
-- 1e-12 relative wherever scipy's value is above 1e-300, below 1e-300 where it is not.
-- Every returned row is a case where the SQL of this engine is off.
with

reference as (
    select * from {{ ref('p_value_reference') }}
),

computed as (
    select
        case_id,
        test_kind,
        statistic,
        degrees_of_freedom,
        expected_p_value,
        case
            when test_kind = 'normal' then {{ normal_two_sided_p_value('statistic') }}
            else {{ chi_square_p_value('statistic', 'degrees_of_freedom') }}
        end as p_value
    from reference
)

select *
from computed
where
    p_value is null
    or (expected_p_value > 1e-300 and abs(p_value - expected_p_value) > 1e-12 * expected_p_value)
    or (expected_p_value <= 1e-300 and p_value > 1e-300)
