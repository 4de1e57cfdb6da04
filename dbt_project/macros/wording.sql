{#
    Figures in words, for the sentences the marts hold (fct_metric_anomalies,
    fct_experiment_readout): the same text on every engine (up to how an exact tie in the
    last digit rounds: Spark's format_string rounds half up, DuckDB's format the binary
    value). A null figure gives a null text on every engine: callers coalesce it.
#}

{# A date's weekday in English ('Monday' .. 'Sunday'). #}
{% macro weekday_name(date_expr) -%}
    {{ return(adapter.dispatch('weekday_name', 'dongne')(date_expr)) }}
{%- endmacro %}

{% macro default__weekday_name(date_expr) -%}
    dayname({{ date_expr }})
{%- endmacro %}

{% macro spark__weekday_name(date_expr) -%}
    date_format({{ date_expr }}, 'EEEE')
{%- endmacro %}


{# A number rounded to a whole one, with thousands separators: 1234567.4 -> '1,234,567'. #}
{% macro whole_number_text(expr) -%}
    {{ return(adapter.dispatch('whole_number_text', 'dongne')(expr)) }}
{%- endmacro %}

{% macro default__whole_number_text(expr) -%}
    format('{:,}', cast(round({{ expr }}) as bigint))
{%- endmacro %}

{% macro spark__whole_number_text(expr) -%}
    format_number(cast(round({{ expr }}) as bigint), 0)
{%- endmacro %}


{# A share as a signed percentage with one decimal, no thousands separator: 0.1234 -> '+12.3 %'. #}
{% macro signed_percent_text(expr) -%}
    {{ return(adapter.dispatch('signed_percent_text', 'dongne')(expr)) }}
{%- endmacro %}

{% macro default__signed_percent_text(expr) -%}
    format('{:+.1f} %', 100 * ({{ expr }}))
{%- endmacro %}

{# Java's formatter writes a null as 'null' (cut to the precision): null stays null here. #}
{% macro spark__signed_percent_text(expr) -%}
    case when ({{ expr }}) is not null then format_string('%+.1f %%', 100 * ({{ expr }})) end
{%- endmacro %}


{# A number with a fixed count of decimals, no thousands separator: (0.01234, 3) -> '0.012'. #}
{% macro decimal_text(expr, decimals) -%}
    {{ return(adapter.dispatch('decimal_text', 'dongne')(expr, decimals)) }}
{%- endmacro %}

{% macro default__decimal_text(expr, decimals) -%}
    format('{:.{{ decimals }}f}', {{ expr }})
{%- endmacro %}

{% macro spark__decimal_text(expr, decimals) -%}
    case when ({{ expr }}) is not null then format_string('%.{{ decimals }}f', {{ expr }}) end
{%- endmacro %}


{# A share as a percentage with one decimal, no thousands separator: 0.1234 -> '12.3 %'. #}
{% macro percent_text(expr) -%}
    {{ return(adapter.dispatch('percent_text', 'dongne')(expr)) }}
{%- endmacro %}

{% macro default__percent_text(expr) -%}
    format('{:.1f} %', 100 * ({{ expr }}))
{%- endmacro %}

{% macro spark__percent_text(expr) -%}
    case when ({{ expr }}) is not null then format_string('%.1f %%', 100 * ({{ expr }})) end
{%- endmacro %}
