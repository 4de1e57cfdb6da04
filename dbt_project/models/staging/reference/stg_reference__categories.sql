with

source as (
    select * from {{ source('reference', 'categories') }}
),

renamed as (
    select
        category_id,
        name as category_name
    from source
)

select * from renamed
