with

categories as (
    select * from {{ ref('stg_reference__categories') }}
)

select
    category_id,
    category_name
from categories
