with

source as (
    select * from {{ source('reference', 'experiments') }}
),

renamed as (
    select
        experiment_id,
        name as experiment_name,
        control_variant,
        variants as variants_spec,
        started_at,
        ended_at,
        primary_metric
    from source
)

select * from renamed
