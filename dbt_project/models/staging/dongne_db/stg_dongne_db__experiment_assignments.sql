with

source as (
    select * from {{ source('dongne_db', 'experiment_assignments') }}
),

renamed as (
    select
        experiment_id,
        user_id,
        variant,
        assigned_at,
        _file as source_file,
        _line as source_line
    from source
)

select * from renamed
