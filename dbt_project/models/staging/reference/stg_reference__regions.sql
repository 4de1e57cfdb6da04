with

source as (
    select * from {{ source('reference', 'regions') }}
),

renamed as (
    select
        region_id,
        city,
        district,
        neighborhood
    from source
)

select * from renamed
