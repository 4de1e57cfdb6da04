with

versions as (
    select * from {{ ref('stg_dongne_db__users') }}
),

-- Current state: the version with the latest updated_at; a tie goes to the later file.
current_state as (
    {{ current_state('versions', 'user_id') }}
)

select * from current_state
