{#
    The event dates this run's deliveries can change (delivery_window.sql,
    window_event_dates), queried once per run for the three incremental models, which read
    them as date literals. Each row names the dbt invocation that built it: a model run
    without this one (a selection of one model) queries the lake itself. Without a window
    (a full build) every event is touched: every date with an event.
#}

with

window_dates as (
    {% if delivery_window_is_set() %}
        {{ window_event_dates_query() }}
    {% else %}
        select distinct event_date from {{ source('app', 'events') }}
    {% endif %}
),

final as (
    select
        event_date,
        '{{ invocation_id }}' as invocation_id
    from window_dates
)

select * from final
