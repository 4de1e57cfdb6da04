with

regions as (
    select * from {{ ref('stg_reference__regions') }}
),

final as (
    select
        region_id,
        city,
        district,
        neighborhood,
        {{ dbt.concat(['city', "' '", 'district', "' '", 'neighborhood']) }} as region_name
    from regions
)

select
    region_id,
    city,
    district,
    neighborhood,
    region_name
from final
