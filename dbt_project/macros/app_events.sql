{#
    The staging of app events, as a macro so that two places run the same SQL:
    stg_app__events (a view over every copy of every event) and the incremental branch
    of int_events_dated, which stages only the events its window touches. A filter
    outside the view would reach the raw copies only after the de-duplication window ran
    over all of them; here `where` narrows the copies first. It must keep or drop all
    copies of an event together (a filter on event_id), or the kept copy could change.
#}
{% macro staged_app_events(where=none) -%}
with

source as (
    select * from {{ source('app', 'events') }}
    {% if where %}where {{ where }}{% endif %}
),

-- The collector delivers at least once: keep the copy received first (docs/sources.md), and
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
        try_cast({{ json_member_text('properties', 'listing_id') }} as bigint) as listing_id,
        try_cast({{ json_member_text('properties', 'post_id') }} as bigint) as post_id,
        {{ json_member_text('properties', 'query') }} as search_query,
        {{ json_member_text('properties', 'screen') }} as screen_name,
        _file as source_file,
        _line as source_line
    from first_delivery
)

select * from renamed
{%- endmacro %}
