with

source as (
    select * from {{ source('reference', 'incidents') }}
),

renamed as (
    select
        incident_id,
        started_at,
        ended_at,
        description as incident_description
    from source
)

select * from renamed
