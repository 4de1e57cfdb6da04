{% test is_person_key(model, column_name) %}
    {#-
        A person's key is 64 lowercase hex digits (HMAC-SHA256), never the id itself.
        A row whose value has another shape fails; nulls pass (not_null says otherwise).
    -#}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
        and not {{ matches_fully(column_name, '[0-9a-f]{64}') }}
{% endtest %}
