{{ config(severity='warn') }}

-- A warning, never a failed build: a metric that moved is news for a person, not bad data
-- (docs/marts.md, "Metric anomalies"). Only the seven newest judged days: an anomaly of
-- last month was told then. Each row names the metric, the day, the figure and the band;
-- the newest day first (the build and the alert show the first rows).
with

anomalies as (
    select * from {{ ref('fct_metric_anomalies') }}
),

newest as (
    select max(metric_date) as newest_date from anomalies
)

select
    anomalies.metric_date,
    anomalies.metric,
    anomalies.direction,
    anomalies.figure,
    anomalies.lower_bound,
    anomalies.upper_bound,
    anomalies.sentence
from anomalies
cross join newest
where
    anomalies.is_anomaly
    and anomalies.metric_date > {{ dbt.dateadd('day', -7, 'newest.newest_date') }}
order by anomalies.metric_date desc, anomalies.metric asc
