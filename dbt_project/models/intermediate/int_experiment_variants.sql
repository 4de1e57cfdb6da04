with

experiments as (
    select * from {{ ref('stg_reference__experiments') }}
),

-- variants_spec lists "variant:share" items separated by ';' (the expected split).
items as (
    {{ split_to_rows('experiments', ['experiment_id', 'control_variant'], 'variants_spec', ';') }}
),

parsed as (
    select
        experiment_id,
        control_variant,
        trim({{ dbt.split_part('item', "':'", 1) }}) as variant,
        cast(trim({{ dbt.split_part('item', "':'", 2) }}) as double) as expected_share
    from items
    where trim(item) <> ''
),

final as (
    select
        experiment_id,
        variant,
        expected_share,
        expected_share / sum(expected_share) over (partition by experiment_id) as expected_fraction,
        variant = control_variant as is_control
    from parsed
)

select * from final
