{#
    The sources are the Parquet lake the landing assets write, declared once in the
    sources' yml: each source table names its folder under DONGNE_LAKE_DIR in
    `meta.lake_path`. DuckDB reads those folders directly (`external_location`); Spark
    reads them through tables of its catalog, declared here before every run (a table
    over a folder costs no copy; declaring it again picks up files landed since), under
    DONGNE_LAKE_URI when the cluster reads the lake elsewhere (s3a://...; docs/spark.md).
#}
{% macro declare_lake_tables() -%}
    {{ return(adapter.dispatch('declare_lake_tables', 'dongne')()) }}
{%- endmacro %}

{% macro default__declare_lake_tables() -%}
{%- endmacro %}

{% macro spark__declare_lake_tables() -%}
    {%- if execute -%}
        {#- The lake as the engine reads it: a cluster may read object storage. -#}
        {%- set lake = env_var('DONGNE_LAKE_URI', env_var('DONGNE_LAKE_DIR', '../data/lake')) -%}
        {%- for source in graph.sources.values() -%}
            {%- set folder = source.meta.get('lake_path') -%}
            {%- if not folder -%}
                {{ exceptions.raise_compiler_error("source " ~ source.source_name ~ "." ~ source.name ~ " has no meta.lake_path") }}
            {%- endif -%}
            {%- set relation = source.schema ~ '.' ~ source.identifier -%}
            {%- do run_query('create database if not exists ' ~ source.schema) -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {#- Hidden folders (.staging, a swap in progress) and _schema files are not read. -#}
            {%- do run_query(
                "create table " ~ relation ~ " using parquet options ("
                ~ "path '" ~ lake ~ "/" ~ folder.replace('{name}', source.name) ~ "', "
                ~ "recursiveFileLookup 'true', mergeSchema 'true')"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
