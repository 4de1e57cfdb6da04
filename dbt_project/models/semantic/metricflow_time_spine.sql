-- The day-grain time spine MetricFlow joins metrics to (2020 .. 2035).
with

days as (
    {{ date_rows("'2020-01-01'", "'2035-12-31'") }}
)

select date_day
from days
