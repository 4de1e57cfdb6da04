with

source as (
    select * from {{ source('dongne_db', 'posts') }}
),

renamed as (
    select
        post_id,
        author_id,
        region_id,
        topic,
        body,
        status as post_status,
        created_at,
        updated_at,
        _file as source_file,
        _file_date as source_file_date,
        _line as source_line
    from source
)

select * from renamed
