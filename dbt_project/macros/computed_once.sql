{#
    A CTE that several parts of one statement read, computed once per run on Spark.

    Spark inlines a deterministic CTE at every mention and evaluates it again at each
    (its optimizer rule InlineCTE): int_events_sessionized's recompute points (the
    touched keys' stored history, scanned in full) were computed three times in each
    one-day statement. On Spark, a model's run caches the CTE's query as a temporary view
    of the model's session (`cache table`, eager) while its SQL is compiled, and the CTE
    reads that view; the model's post-hook `drop_computed_once` frees it (a session is
    the model's own: dbt opens one per node and closes it after). Everywhere else the CTE
    stays a CTE: on DuckDB, in unit tests (their inputs are fixture rows, not tables),
    and when the SQL is only compiled (`dbt compile`, `dbt docs generate`), so nothing
    runs but the build.
#}
{% macro computed_once(name, sql) -%}
    {{ return(adapter.dispatch('computed_once', 'dongne')(name, sql)) }}
{%- endmacro %}

{% macro default__computed_once(name, sql) -%}
    {{ name }} as (
        {{ sql }}
    )
{%- endmacro %}

{% macro spark__computed_once(name, sql) -%}
    {%- if computed_once_is_cached() -%}
        {%- set view = computed_once_view(name) -%}
        {%- do run_query('drop view if exists ' ~ view) -%}
        {%- do run_query('cache table ' ~ view ~ ' as ' ~ sql) -%}
        {{ name }} as (
            select * from {{ view }}
        )
    {%- else -%}
        {{ default__computed_once(name, sql) }}
    {%- endif -%}
{%- endmacro %}

{# The post-hook that frees what computed_once cached (nothing to do elsewhere). #}
{% macro drop_computed_once(name) -%}
    {%- if target.type == 'spark' and computed_once_is_cached() -%}
        drop view if exists {{ computed_once_view(name) }}
    {%- endif -%}
{%- endmacro %}

{# A model's run (not a unit test, not `dbt compile` or `dbt docs`) caches. #}
{% macro computed_once_is_cached() -%}
    {{ return(execute and model.resource_type == 'model' and flags.WHICH in ('run', 'build', 'retry')) }}
{%- endmacro %}

{% macro computed_once_view(name) -%}
    {{ return(this.identifier ~ '__' ~ name) }}
{%- endmacro %}

{#
    The earliest date of `column` (a timestamp) in a computed_once CTE: a date literal
    where the CTE is cached (read from it once, so Spark reads only the date partitions
    from there on), a scalar subquery of the CTE everywhere else. Null (no row) selects
    nothing.
#}
{% macro computed_once_min_date(name, column) -%}
    {%- if target.type == 'spark' and computed_once_is_cached() -%}
        {%- set found = run_query(
            'select cast(min(cast(' ~ column ~ ' as date)) as string) from ' ~ computed_once_view(name)
        ).columns[0].values()[0] -%}
        {{- "date'" ~ found ~ "'" if found else 'cast(null as date)' -}}
    {%- else -%}
        (select min(cast({{ column }} as date)) from {{ name }})
    {%- endif -%}
{%- endmacro %}
