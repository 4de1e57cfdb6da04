{{ config(tags=['daily']) }}

with

source as (
    select * from {{ source('app', 'events') }}
),

-- The collector delivers at least once: keep the copy received first (SOURCES.md), and
-- on a tie the one delivered first (earlier file, then earlier line).
first_delivery as (
    select *
    from source
    qualify row_number() over (
            partition by event_id
            order by received_at_utc, _file, _line
        ) = 1
),

renamed as (
    select
        event_id,
        event_name,
        user_id,
        device_id,
        occurred_at_utc,
        received_at_utc,
        platform,
        app_version,
        properties,
        try_cast(json_extract_string(properties, '$.listing_id') as bigint) as listing_id,
        try_cast(json_extract_string(properties, '$.post_id') as bigint) as post_id,
        json_extract_string(properties, '$.query') as search_query,
        json_extract_string(properties, '$.screen') as screen_name,
        _file as source_file,
        _line as source_line
    from first_delivery
)

select * from renamed
