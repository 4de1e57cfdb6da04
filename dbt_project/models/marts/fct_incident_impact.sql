with

incidents as (
    select * from {{ ref('stg_reference__incidents') }}
),

completed_trades as (
    select * from {{ ref('int_trades_completed') }}
),

-- The incident window W (k = 0) and the same window 1 to 4 weeks earlier (k = 1 .. 4).
windows as (
    {% for weeks_back in range(5) %}
        select
            incident_id,
            {{ weeks_back }} as weeks_back,
            {{ dbt.dateadd('day', -7 * weeks_back, 'started_at') }} as window_start,
            {{ dbt.dateadd('day', -7 * weeks_back, 'ended_at') }} as window_end
        from incidents
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

window_trades as (
    select
        windows.incident_id,
        windows.weeks_back,
        count(completed_trades.trade_id) as trades,
        coalesce(sum(completed_trades.price_krw), 0) as gmv_krw
    from windows
    left join completed_trades
        on
            windows.window_start <= completed_trades.completed_at
            and windows.window_end > completed_trades.completed_at
    group by windows.incident_id, windows.weeks_back
),

impact as (
    select
        incident_id,
        sum(case when weeks_back = 0 then trades else 0 end) as actual_trades,
        sum(case when weeks_back = 0 then gmv_krw else 0 end) as actual_gmv_krw,
        sum(case when weeks_back > 0 then trades else 0 end) / 4.0 as baseline_trades,
        sum(case when weeks_back > 0 then gmv_krw else 0 end) / 4.0 as baseline_gmv_krw
    from window_trades
    group by incident_id
),

final as (
    select
        incidents.incident_id,
        incidents.started_at,
        incidents.ended_at,
        incidents.incident_description,
        impact.actual_trades,
        impact.actual_gmv_krw,
        impact.baseline_trades,
        impact.baseline_gmv_krw,
        impact.baseline_trades - impact.actual_trades as estimated_lost_trades,
        impact.baseline_gmv_krw - impact.actual_gmv_krw as estimated_lost_gmv_krw
    from incidents
    inner join impact on incidents.incident_id = impact.incident_id
)

select
    incident_id,
    cast(actual_trades as bigint) as actual_trades,
    cast(actual_gmv_krw as bigint) as actual_gmv_krw,
    cast(baseline_trades as double) as baseline_trades,
    cast(baseline_gmv_krw as double) as baseline_gmv_krw,
    cast(estimated_lost_trades as double) as estimated_lost_trades,
    cast(estimated_lost_gmv_krw as double) as estimated_lost_gmv_krw,
    started_at,
    ended_at,
    incident_description
from final
