with

source as (
    select * from {{ source('dongne_db', 'trades') }}
),

renamed as (
    select
        trade_id,
        listing_id,
        buyer_id,
        seller_id,
        price_krw,
        status as trade_status,
        completed_at,
        updated_at,
        _file as source_file,
        _file_date as source_file_date,
        _line as source_line
    from source
)

select * from renamed
