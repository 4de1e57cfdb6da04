{% test expression_is_true(model, expression, column_name=none, where_clause=none) %}
    {#- Rows for which the expression is false or null: each one is a failure. -#}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
    {%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}
