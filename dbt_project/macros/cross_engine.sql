{#
    Engine differences live here and only here, each behind adapter.dispatch, so the
    models run unchanged on DuckDB (today) and Spark (when the data outgrows a machine).
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
    ((unix_micros({{ end_ts }}) - unix_micros({{ start_ts }})) / 1000000.0)
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


{# Latest version of each row: SOURCES.md's "current state". #}
{% macro latest_version(relation, key, order_by) -%}
    select *
    from {{ relation }}
    qualify row_number() over (partition by {{ key }} order by {{ order_by }}) = 1
{%- endmacro %}
