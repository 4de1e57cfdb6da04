{#
    Models land in the schema dbt_project.yml gives their folder (staging, intermediate,
    marts, ml; the semantic folder's time spine in marts), not in
    "<target schema>_<folder>": analysts query marts.fct_... directly.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
