{% test one_row_per_calendar_date(model, column_name) %}
    {#- Daily marts have exactly one row per calendar date: none missing, none extra. -#}
    with

    calendar as (
        select date_day from {{ ref('int_calendar_dates') }}
    ),

    mart_dates as (
        select {{ column_name }} as date_day, count(*) as row_count
        from {{ model }}
        group by {{ column_name }}
    ),

    compared as (
        select
            coalesce(calendar.date_day, mart_dates.date_day) as date_day,
            calendar.date_day is null as not_in_calendar,
            mart_dates.date_day is null as missing_from_mart,
            coalesce(mart_dates.row_count, 0) as row_count
        from calendar
        full outer join mart_dates on calendar.date_day = mart_dates.date_day
    )

    select *
    from compared
    where not_in_calendar or missing_from_mart or row_count <> 1
{% endtest %}
