{#
    docs/marts.md, "Complete days": a KST day is complete once the deliveries show it is
    over, never by the wall clock. Its events have been received (collector's clock) up to
    the allowed lateness past the day's end, and the database export of the day has
    arrived.
#}
{% set lateness_hours = var('complete_after_hours') %}

with

calendar as (
    select date_day from {{ ref('int_calendar_dates') }}
),

deliveries as (
    select * from {{ ref('int_deliveries_through') }}
),

final as (
    select
        calendar.date_day,
        coalesce(
            deliveries.events_received_through >= {{ dbt.dateadd(
                'hour',
                24 + lateness_hours,
                dbt.cast('calendar.date_day', api.Column.translate_type('timestamp')),
            ) }}
            and calendar.date_day <= deliveries.exported_through,
            false
        ) as is_complete
    from calendar
    cross join deliveries
)

select
    date_day,
    is_complete
from final
