{#
    docs/marts.md, "Metric anomalies": each complete day's DAU, new users, new listings,
    completed trades and GMV against a robust band from the same weekday of the four
    weeks before: median ± 3 · max(1.4826 · MAD, √median, 0.15 · median). Judged only
    with enough volume: an expected count of 20 (for GMV, 20 expected completed trades).
#}
{% set band_width = 3 %}
{% set minimum_volume = 20 %}
{% set day_start = dbt.cast('bands.metric_date', api.Column.translate_type('timestamp')) %}

with

growth as (
    select * from {{ ref('fct_daily_growth_kpis') }}
),

marketplace as (
    select * from {{ ref('fct_daily_marketplace') }}
),

incidents as (
    select * from {{ ref('stg_reference__incidents') }}
),

daily_figures as (
    select
        activity_date as metric_date,
        is_complete,
        'dau' as metric,
        cast(dau as double) as figure
    from growth
    union all
    select
        activity_date as metric_date,
        is_complete,
        'new_users' as metric,
        cast(new_users as double) as figure
    from growth
    union all
    select
        kpi_date as metric_date,
        is_complete,
        'new_listings' as metric,
        cast(listings_created as double) as figure
    from marketplace
    union all
    select
        kpi_date as metric_date,
        is_complete,
        'completed_trades' as metric,
        cast(completed_trades as double) as figure
    from marketplace
    union all
    select
        kpi_date as metric_date,
        is_complete,
        'gmv_krw' as metric,
        cast(gmv_krw as double) as figure
    from marketplace
),

-- Each complete day beside the same weekday of each of the four weeks before it.
same_weekdays as (
    select
        judged.metric,
        judged.metric_date,
        judged.figure,
        earlier.figure as earlier_figure
    from daily_figures as judged
    inner join daily_figures as earlier
        on
            judged.metric = earlier.metric
            and earlier.metric_date in (
                {{ dbt.dateadd('day', -7, 'judged.metric_date') }},
                {{ dbt.dateadd('day', -14, 'judged.metric_date') }},
                {{ dbt.dateadd('day', -21, 'judged.metric_date') }},
                {{ dbt.dateadd('day', -28, 'judged.metric_date') }}
            )
    where judged.is_complete
),

medians as (
    select
        metric,
        metric_date,
        figure,
        {{ median('earlier_figure') }} as expected
    from same_weekdays
    group by metric, metric_date, figure
    -- A day with fewer than four earlier same weekdays in the calendar is not judged.
    having count(*) = 4
),

-- Enough volume to judge: below 20 expected a day, chance swings are as large as an outage.
judged_days as (
    select medians.*
    from medians
    left join medians as trades
        on
            medians.metric_date = trades.metric_date
            and trades.metric = 'completed_trades'
    where
        case
            when medians.metric = 'gmv_krw' then trades.expected
            else medians.expected
        end >= {{ minimum_volume }}
),

deviations as (
    select
        judged_days.metric,
        judged_days.metric_date,
        judged_days.figure,
        judged_days.expected,
        abs(same_weekdays.earlier_figure - judged_days.expected) as deviation
    from judged_days
    inner join same_weekdays
        on
            judged_days.metric = same_weekdays.metric
            and judged_days.metric_date = same_weekdays.metric_date
),

median_deviations as (
    select
        metric,
        metric_date,
        figure,
        expected,
        {{ median('deviation') }} as median_absolute_deviation
    from deviations
    group by metric, metric_date, figure, expected
),

-- A robust standard deviation (1.4826 · MAD), never below a count's Poisson noise (√median)
-- nor 15 % of the median: four calm weeks must not make an ordinary day an alarm.
spreads as (
    select
        *,
        greatest(1.4826 * median_absolute_deviation, sqrt(expected), 0.15 * expected) as spread
    from median_deviations
),

bands as (
    select
        metric,
        metric_date,
        figure,
        expected,
        greatest(0.0, expected - {{ band_width }} * spread) as lower_bound,
        expected + {{ band_width }} * spread as upper_bound
    from spreads
),

-- The incident open on the day, if any (the smallest id when several; one without an end is
-- open from its start on), as the likely cause.
day_incidents as (
    select
        bands.metric,
        bands.metric_date,
        min(incidents.incident_id) as incident_id
    from bands
    inner join incidents
        on
            incidents.started_at < {{ dbt.dateadd('day', 1, day_start) }}
            and (incidents.ended_at is null or incidents.ended_at > {{ day_start }})
    group by bands.metric, bands.metric_date
),

judged as (
    select
        bands.*,
        case
            when bands.figure < bands.lower_bound then 'drop'
            when bands.figure > bands.upper_bound then 'spike'
        end as direction,
        case bands.metric
            when 'dau' then 'DAU'
            when 'new_users' then 'New users'
            when 'new_listings' then 'New listings'
            when 'completed_trades' then 'Completed trades'
            when 'gmv_krw' then 'GMV (KRW)'
        end as metric_label,
        day_incidents.incident_id
    from bands
    left join day_incidents
        on
            bands.metric = day_incidents.metric
            and bands.metric_date = day_incidents.metric_date
),

final as (
    select
        metric,
        metric_label,
        metric_date,
        figure,
        expected,
        lower_bound,
        upper_bound,
        direction is not null as is_anomaly,
        direction,
        incident_id,
        {{ dbt.concat([
            'metric_label', "' on '", weekday_name('metric_date'), "' '",
            dbt.cast('metric_date', api.Column.translate_type('string')), "' was '",
            whole_number_text('figure'),
            "case direction when 'drop' then ', below' when 'spike' then ', above' else ', within' end",
            "' the expected '", whole_number_text('lower_bound'), "' to '",
            whole_number_text('upper_bound'), "' (median of the four '",
            weekday_name('metric_date'), "'s before: '", whole_number_text('expected'), "')'",
            "case when incident_id is not null then "
            ~ dbt.concat(["'; incident '", 'incident_id', "' was open that day'"])
            ~ " else '' end",
            "'.'",
        ]) }} as sentence
    from judged
)

select
    metric,
    metric_label,
    metric_date,
    cast(figure as double) as figure,
    cast(expected as double) as expected,
    cast(lower_bound as double) as lower_bound,
    cast(upper_bound as double) as upper_bound,
    is_anomaly,
    direction,
    incident_id,
    sentence
from final
