{#
    A CTE that several parts of one statement read, computed once per run on Spark.

    Spark inlines a deterministic CTE at every mention and evaluates it again at each
    (its optimizer rule InlineCTE): int_events_sessionized's recompute points (the
    touched keys' stored history, scanned in full) were computed three times in each
    one-day statement. On Spark, a model's run caches the CTE's query as a temporary view
    (`cache table`, eager) while the model's SQL is compiled, and the CTE reads that view;
    the model's post-hook `drop_computed_once` drops it. The view lives in the session
    that runs the model: on a cluster (`method: thrift`) dbt opens a session per model
    and closes it after the model; the local engine (`method: session`) has one session
    for the whole dbt run, one model at a time, where a model that fails before its
    post-hook leaves the view until its next run replaces it or the process ends.
    Nothing is cached outside a model's run: on DuckDB, in unit tests (their inputs are
    fixture rows, not tables) and when SQL is only compiled (`dbt compile`, `dbt docs
    generate`, `dbt show`) the CTE stays a CTE.
#}
{% macro computed_once(name, sql) -%}
    {%- if computed_once_is_cached() -%}
        {%- set view = computed_once_view(name) -%}
        {%- do run_query('drop view if exists ' ~ view) -%}
        {%- do run_query('cache table ' ~ view ~ ' as ' ~ sql) -%}
        {{ name }} as (
            select * from {{ view }}
        )
    {%- else -%}
        {{ name }} as (
            {{ sql }}
        )
    {%- endif -%}
{%- endmacro %}

{# The post-hook that drops what computed_once cached (nothing where it cached nothing). #}
{% macro drop_computed_once(name) -%}
    {%- if computed_once_is_cached() -%}
        drop view if exists {{ computed_once_view(name) }}
    {%- endif -%}
{%- endmacro %}

{#
    The earliest date of `column` (a timestamp) in a computed_once CTE: a date literal
    where the CTE is cached (read from the view once, so Spark reads only the date
    partitions from there on), a scalar subquery of the CTE everywhere else. With no row
    it is null, and a filter `>=` it selects nothing.
#}
{% macro computed_once_min_date(name, column) -%}
    {%- if computed_once_is_cached() -%}
        {%- set found = run_query(
            'select cast(min(cast(' ~ column ~ ' as date)) as string) from ' ~ computed_once_view(name)
        ).columns[0].values()[0] -%}
        {{- "date'" ~ found ~ "'" if found else 'cast(null as date)' -}}
    {%- else -%}
        (select min(cast({{ column }} as date)) from {{ name }})
    {%- endif -%}
{%- endmacro %}

{#
    Whether this rendering caches: on Spark, in a model's run (`dbt run` or `dbt build`;
    `dbt retry` re-runs with the retried command's flags). Not in a unit test, whose
    `model` is the test.
#}
{% macro computed_once_is_cached() -%}
    {{ return(adapter.dispatch('computed_once_is_cached', 'dongne')()) }}
{%- endmacro %}

{% macro default__computed_once_is_cached() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro spark__computed_once_is_cached() -%}
    {{ return(execute and model.resource_type == 'model' and flags.WHICH in ('run', 'build')) }}
{%- endmacro %}

{% macro computed_once_view(name) -%}
    {{ return(this.identifier ~ '__' ~ name) }}
{%- endmacro %}
