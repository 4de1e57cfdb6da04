with

versions as (
    select * from {{ ref('stg_dongne_db__posts') }}
),

-- Current state: the version with the latest updated_at; a tie goes to the later file.
current_state as (
    {{ latest_version('versions', 'post_id',
        'updated_at desc nulls last, source_file_date desc, source_file desc, source_line desc') }}
)

select * from current_state
