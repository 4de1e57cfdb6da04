with

source as (
    select * from {{ source('dongne_db', 'moderation_labels') }}
),

renamed as (
    select
        label_id,
        target_type,
        target_id,
        label,
        source as label_source,
        labeled_at,
        _file as source_file,
        _line as source_line
    from source
)

select * from renamed
