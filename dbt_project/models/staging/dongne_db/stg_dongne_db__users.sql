with

source as (
    select * from {{ source('dongne_db', 'users') }}
),

-- nickname, email and phone are personal data: they stop here and reach no model.
renamed as (
    select
        user_id,
        region_id,
        signup_at,
        status as user_status,
        updated_at,
        _file as source_file,
        _file_date as source_file_date,
        _line as source_line
    from source
)

select * from renamed
