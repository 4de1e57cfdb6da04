{{ config(severity='warn') }}

-- A warning, never a failed build: events outside the tracking plan are valid events
-- (docs/sources.md). Each row names a day, an event name and what is wrong with it; the
-- newest day first (the build shows the first rows).
select
    event_date,
    event_name,
    case
        when not is_planned then 'not in the tracking plan'
        else {{ dbt.concat(["'missing its required property '", 'required_property']) }}
    end as problem,
    case when not is_planned then event_count else missing_property_count end as events
from {{ ref('fct_event_tracking_daily') }}
where not is_planned or missing_property_count > 0
order by event_date desc, event_name asc
