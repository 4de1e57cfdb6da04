with

versions as (
    select * from {{ ref('stg_dongne_db__listings') }}
),

-- SCD type 2 from the change exports (scd2_versions): each exported version is valid from its updated_at
-- until the next version's updated_at (the last one has no end).
ordered as (
    {{ scd2_versions('versions', 'listing_id') }}
)

select
    {{ dbt.hash(dbt.concat([
        dbt.cast('listing_id', api.Column.translate_type('string')), "'|'",
        'source_file', "'|'",
        dbt.cast('source_line', api.Column.translate_type('string'))
    ])) }} as listing_version_id,
    listing_id,
    {{ keyed_hash('seller_id') }} as seller_key,
    category_id,
    region_id,
    {{ scrub_contacts('title') }} as title,
    price_krw,
    listing_status,
    created_at,
    updated_at as valid_from,
    next_updated_at as valid_to,
    is_current,
    source_file
from ordered
