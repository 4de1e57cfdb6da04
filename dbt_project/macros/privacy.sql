{#
    Privacy: what the marts publish about people (docs/marts.md, "Person identifiers" and
    "Free text"). Person ids become keyed pseudonyms, typed contacts become placeholders.
#}

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


{#
    On Spark the pads arrive as session settings (profiles.yml). A Thrift server that drops
    them would substitute an empty text, and every key would become an unkeyed hash: the
    build stops first (an on-run-start hook), naming the cause.
#}
{% macro check_person_key_pads() -%}
    {{ return(adapter.dispatch('check_person_key_pads', 'dongne')()) }}
{%- endmacro %}

{% macro default__check_person_key_pads() -%}
{%- endmacro %}

{% macro spark__check_person_key_pads() -%}
    {%- if execute -%}
        {%- set lengths = run_query(
            "select length('${dongne.hmac_inner}') as inner_length, "
            ~ "length('${dongne.hmac_outer}') as outer_length"
        ) -%}
        {%- if lengths.rows[0][0] != 128 or lengths.rows[0][1] != 128 -%}
            {{ exceptions.raise_compiler_error(
                "the person keys' HMAC pads (dongne.hmac_inner, dongne.hmac_outer) are not set "
                ~ "on this Spark session: every key would be an unkeyed hash. A Thrift server "
                ~ "takes them as server_side_parameters named `set:hiveconf:<key>` "
                ~ "(dbt_project/profiles.yml)."
            ) }}
        {%- endif -%}
    {%- endif -%}
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
