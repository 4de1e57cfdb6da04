{#
    Contract constraints on Spark. DuckDB enforces a contract's `not_null` constraints
    as it writes the table; Spark's Parquet tables cannot hold constraints (only Delta
    can). So on Spark, after a contracted table is written, the same constraints are
    checked by a query, and a violation fails the model just as DuckDB's insert would:
    nothing downstream builds, and nothing is published.
#}
{% macro spark__persist_constraints(relation, model) -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if contract_config.enforced and config.get('file_format', 'parquet') == 'delta' -%}
        {% do alter_table_add_constraints(relation, model.constraints) %}
        {% do alter_column_set_constraints(relation, model.columns) %}
    {%- elif contract_config.enforced -%}
        {% do check_not_null_constraints(relation, model) %}
    {%- endif -%}
{%- endmacro %}

{% macro check_not_null_constraints(relation, model) -%}
    {%- set columns = [] -%}
    {%- for column in model.columns.values() -%}
        {%- for constraint in column.constraints if constraint.type == 'not_null' -%}
            {%- do columns.append(column.name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if columns -%}
        {%- set counts -%}
            select
            {%- for column in columns %}
                sum(case when {{ adapter.quote(column) }} is null then 1 else 0 end) as {{ adapter.quote(column) }}
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
            from {{ relation }}
        {%- endset -%}
        {%- set row = run_query(counts).rows[0] -%}
        {%- set violated = [] -%}
        {%- for column in columns -%}
            {%- if row[loop.index0] and row[loop.index0] > 0 -%}
                {%- do violated.append(column ~ ' (' ~ row[loop.index0] ~ ' nulls)') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if violated -%}
            {{ exceptions.raise_database_error(
                "contract not_null constraint violated in " ~ relation ~ ": " ~ violated | join(', ')
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
