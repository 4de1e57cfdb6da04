{#
    Engine shims: SQL that DuckDB and Spark spell differently, each behind
    adapter.dispatch, so the models run unchanged on both. Differences that belong to one
    concern sit with it, dispatched the same way: person keys, their pads' check and
    contact scrubbing in privacy.sql, the lake's tables in lake_tables.sql, constraints in
    contract_constraints.sql, the incremental models' writes in delivery_window.sql,
    figures in words in wording.sql. The p-values (statistics.sql) are one SQL for every
    engine but the error a too-large df raises (raise_sql_error), and the versions of
    exported rows (versions.sql) are one SQL for every engine.
#}

{# Fractional seconds from start to end, exact to the microsecond. #}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('seconds_between', 'dongne')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__seconds_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'millisecond') }} / 1000.0)
{%- endmacro %}

{% macro duckdb__seconds_between(start_ts, end_ts) -%}
    ((epoch_us({{ end_ts }}) - epoch_us({{ start_ts }})) / 1000000.0)
{%- endmacro %}

{% macro spark__seconds_between(start_ts, end_ts) -%}
    (timestampdiff(microsecond, {{ start_ts }}, {{ end_ts }}) / 1000000.0)
{%- endmacro %}


{#
    dbt's own dateadd, for Spark: dbt-spark's goes through unix seconds (dropping the
    microseconds) and fails on a null. timestampadd keeps both as DuckDB's does.
#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}


{# A JSON object's member as text (null when missing); `json_text` is text of JSON. #}
{% macro json_member_text(json_text, member) -%}
    {{ return(adapter.dispatch('json_member_text', 'dongne')(json_text, member)) }}
{%- endmacro %}

{% macro duckdb__json_member_text(json_text, member) -%}
    json_extract_string({{ json_text }}, '$.{{ member }}')
{%- endmacro %}

{% macro spark__json_member_text(json_text, member) -%}
    get_json_object({{ json_text }}, '$.{{ member }}')
{%- endmacro %}


{# A naive UTC timestamp as KST wall-clock time. KST is UTC+9 all year (no DST). #}
{% macro utc_to_kst(utc_ts) -%}
    {{ dbt.dateadd('hour', 9, utc_ts) }}
{%- endmacro %}


{# One row per date from start_date to end_date (both included), in a column `date_day`. #}
{% macro date_rows(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_rows', 'dongne')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__date_rows(start_date, end_date) -%}
    select cast(day_value as date) as date_day
    from unnest(generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day))
        as days(day_value)
{%- endmacro %}

{% macro duckdb__date_rows(start_date, end_date) -%}
    select cast(unnest(generate_series(
        cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day
    )) as date) as date_day
{%- endmacro %}

{% macro spark__date_rows(start_date, end_date) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date),
        interval 1 day)) as date_day
{%- endmacro %}


{# A stable bucket 0 .. buckets-1 of a text key (first 32 bits of its md5). #}
{% macro stable_bucket(expr, buckets) -%}
    {{ return(adapter.dispatch('stable_bucket', 'dongne')(expr, buckets)) }}
{%- endmacro %}

{% macro duckdb__stable_bucket(expr, buckets) -%}
    (cast(('0x' || left(md5({{ expr }}), 8)) as bigint) % {{ buckets }})
{%- endmacro %}

{% macro spark__stable_bucket(expr, buckets) -%}
    (cast(conv(substr(md5({{ expr }}), 1, 8), 16, 10) as bigint) % {{ buckets }})
{%- endmacro %}


{# Split a delimited text into rows: one row per item, in a column named `item`. #}
{% macro split_to_rows(relation, key_columns, text_column, delimiter) -%}
    {{ return(adapter.dispatch('split_to_rows', 'dongne')(relation, key_columns, text_column, delimiter)) }}
{%- endmacro %}

{% macro duckdb__split_to_rows(relation, key_columns, text_column, delimiter) -%}
    select
        {% for column in key_columns %}{{ column }},{% endfor %}
        unnest(string_split({{ text_column }}, '{{ delimiter }}')) as item
    from {{ relation }}
{%- endmacro %}

{% macro spark__split_to_rows(relation, key_columns, text_column, delimiter) -%}
    select
        {% for column in key_columns %}{{ column }},{% endfor %}
        explode(split({{ text_column }}, '{{ delimiter }}')) as item
    from {{ relation }}
{%- endmacro %}


{# The median of a numeric expression (an aggregate). #}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'dongne')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro spark__median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}


{# Whether a text matches a regular expression as a whole (not just somewhere in it). #}
{% macro matches_fully(expr, pattern) -%}
    {{ return(adapter.dispatch('matches_fully', 'dongne')(expr, pattern)) }}
{%- endmacro %}

{% macro duckdb__matches_fully(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__matches_fully(expr, pattern) -%}
    ({{ expr }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}
