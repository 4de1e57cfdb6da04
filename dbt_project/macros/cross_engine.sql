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
    A person's key (docs/marts.md, "Person identifiers"): the lowercase hex HMAC-SHA256 of
    the id's text, keyed with DONGNE_PII_SALT. Every published person column is this macro
    of the raw id, and only this. HMAC(k, m) = H((k xor opad) || H((k xor ipad) || m)):
    on DuckDB it runs natively (sha256 over blobs, vectorised and parallel), with the two
    padded keys set as session variables by orchestration/dbt_plugins.py, so the salt
    never appears in compiled SQL, dbt's logs or target/.
#}
{% macro keyed_hash(expr) -%}
    {{ return(adapter.dispatch('keyed_hash', 'dongne')(expr)) }}
{%- endmacro %}

{% macro duckdb__keyed_hash(expr) -%}
    sha256(
        getvariable('dongne_hmac_outer')
        || unhex(sha256(getvariable('dongne_hmac_inner') || encode(cast({{ expr }} as varchar))))
    )
{%- endmacro %}

{% macro spark__keyed_hash(expr) -%}
    {#- Spark: the same HMAC in Spark SQL; the pads are session settings that the profile
        sets from the environment, substituted by Spark (not by dbt) when it runs. -#}
    sha2(
        concat(unhex('${dongne.hmac_outer}'), unhex(sha2(
            concat(unhex('${dongne.hmac_inner}'), encode(cast({{ expr }} as string), 'UTF-8')), 256
        ))),
        256
    )
{%- endmacro %}


{# Two-sided p-value of a standard normal statistic. #}
{% macro normal_two_sided_p_value(z) -%}
    dongne_normal_two_sided_p(cast({{ z }} as double))
{%- endmacro %}


{# Upper-tail probability of a chi-square statistic with df degrees of freedom. #}
{% macro chi_square_p_value(statistic, df) -%}
    dongne_chi2_sf(cast({{ statistic }} as double), cast({{ df }} as bigint))
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


{#
    Free text with the phone numbers and e-mail addresses people typed into it replaced by
    `<phone>` and `<email>` (docs/marts.md): every published text column goes through this.
    E-mails first (an address may hold digits). A phone is a Korean number, mobile or
    landline, with or without +82, its groups joined by nothing, '-', '.' or a space
    (010-1234-5678, 01012345678, 010 1234 5678, +82 10-1234-5678, 02-123-4567), not
    inside a longer run of digits. The pattern takes the characters on either side (no
    look-around in RE2): a second pass catches a number right after a replaced one.
#}
{% macro contact_patterns() -%}
    {{ return({
        'email': '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)+',
        'phone': '(^|[^0-9])(([+]82[ .-]?0?|0)(1[016789]|2|[3-6][1-5])[ .-]?[0-9]{3,4}[ .-]?[0-9]{4})([^0-9]|$)',
    }) }}
{%- endmacro %}

{% macro scrub_contacts(expr) -%}
    {{ return(adapter.dispatch('scrub_contacts', 'dongne')(expr)) }}
{%- endmacro %}

{% macro duckdb__scrub_contacts(expr) -%}
    {%- set patterns = contact_patterns() -%}
    {%- set emails_scrubbed = "regexp_replace(" ~ expr ~ ", '" ~ patterns.email ~ "', '<email>', 'g')" -%}
    {%- set once = "regexp_replace(" ~ emails_scrubbed ~ ", '" ~ patterns.phone ~ "', '\\1<phone>\\5', 'g')" -%}
    regexp_replace({{ once }}, '{{ patterns.phone }}', '\1<phone>\5', 'g')
{%- endmacro %}

{% macro spark__scrub_contacts(expr) -%}
    {#- Java regular expressions: the same patterns; groups are $1 and $5. -#}
    {%- set patterns = contact_patterns() -%}
    {%- set emails_scrubbed = "regexp_replace(" ~ expr ~ ", '" ~ patterns.email ~ "', '<email>')" -%}
    {%- set once = "regexp_replace(" ~ emails_scrubbed ~ ", '" ~ patterns.phone ~ "', '$1<phone>$5')" -%}
    regexp_replace({{ once }}, '{{ patterns.phone }}', '$1<phone>$5')
{%- endmacro %}


{#
    How the incremental models (tag:daily) replace the rows a window touches. DuckDB:
    `delete+insert` by their unique key. Spark's Parquet tables have no row-level delete
    or merge (that takes Delta or Iceberg), so on Spark every build of these models is a
    full rebuild (`insert_overwrite` of the whole table, `full_refresh` forced): the
    result is the same tables, at the cost of a rebuild (see the README's Spark section).
#}
{% macro replace_rows_strategy() -%}
    {{ return(adapter.dispatch('replace_rows_strategy', 'dongne')()) }}
{%- endmacro %}

{% macro default__replace_rows_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__replace_rows_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{% macro rebuild_whole() -%}
    {{ return(adapter.dispatch('rebuild_whole', 'dongne')()) }}
{%- endmacro %}

{% macro default__rebuild_whole() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__rebuild_whole() -%}
    {{ return(true) }}
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
