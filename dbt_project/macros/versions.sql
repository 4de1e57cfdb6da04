{#
    The versions of a row the database exports deliver (docs/sources.md): their order, the
    current state, and the history (SCD type 2). One SQL on every engine.
#}

{#
    docs/sources.md's order of a row's versions: by updated_at, a tie going to the later
    export file, then the later line. 'desc' puts the current state first.
#}
{% macro version_order(direction='asc') -%}
    updated_at {{ direction }} nulls last, source_file_date {{ direction }}, source_file {{ direction }},
    source_line {{ direction }}
{%- endmacro %}


{# Latest version of each row: docs/sources.md's "current state". #}
{% macro current_state(relation, key) -%}
    select *
    from {{ relation }}
    qualify row_number() over (partition by {{ key }} order by {{ version_order('desc') }}) = 1
{%- endmacro %}


{#
    SCD type 2 over the versions in `relation`: each exported version of a `key` is valid
    from its updated_at until the next version's (next_updated_at; the last one has none),
    and the newest one is current (is_current).
#}
{% macro scd2_versions(relation, key) -%}
    select
        *,
        lead(updated_at) over (
            partition by {{ key }}
            order by {{ version_order('asc') }}
        ) as next_updated_at,
        row_number() over (
            partition by {{ key }}
            order by {{ version_order('desc') }}
        ) = 1 as is_current
    from {{ relation }}
{%- endmacro %}
