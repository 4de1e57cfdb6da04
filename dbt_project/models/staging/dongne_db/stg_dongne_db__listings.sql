with

source as (
    select * from {{ source('dongne_db', 'listings') }}
),

renamed as (
    select
        listing_id,
        seller_id,
        category_id,
        region_id,
        title,
        description,
        price_krw,
        status as listing_status,
        created_at,
        updated_at,
        _file as source_file,
        _file_date as source_file_date,
        _line as source_line
    from source
)

select * from renamed
