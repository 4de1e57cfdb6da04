with

versions as (
    select * from {{ ref('stg_dongne_db__listings') }}
),

-- The earliest exported version of each listing: what was known when it was posted
-- (earliest updated_at; a tie goes to the earlier file, then the earlier line).
first_versions as (
    select *
    from versions
    qualify row_number() over (
            partition by listing_id
            order by {{ version_order('asc') }}
        ) = 1
)

select
    listing_id,
    price_krw as first_price_krw,
    listing_status as first_listing_status,
    updated_at as first_updated_at
from first_versions
