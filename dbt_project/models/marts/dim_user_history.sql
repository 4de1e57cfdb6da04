with

versions as (
    select * from {{ ref('stg_dongne_db__users') }}
),

-- SCD type 2 from the change exports (scd2_versions); no personal data: staging dropped it.
ordered as (
    {{ scd2_versions('versions', 'user_id') }}
)

select
    -- One version is one line of one export: named by that, never by the user's id.
    {{ dbt.hash(dbt.concat([
        'source_file', "'|'",
        dbt.cast('source_line', api.Column.translate_type('string'))
    ])) }} as user_version_id,
    {{ keyed_hash('user_id') }} as user_key,
    region_id,
    signup_at,
    user_status,
    updated_at as valid_from,
    next_updated_at as valid_to,
    is_current,
    source_file
from ordered
