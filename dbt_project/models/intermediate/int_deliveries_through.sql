{#
    How far the deliveries reach, in one row (docs/marts.md, "Complete days"): the latest
    time a valid event was received (the collector's clock, in KST) and the newest day a
    database export covers. What is complete, and whether an experiment reached its end,
    is judged from these, never from the wall clock.
#}

with

events_received as (
    select {{ utc_to_kst('max(received_at_utc)') }} as events_received_through
    from {{ ref('int_events_dated') }}
),

-- The export job writes a day's changes of every table at once, after the day; a table
-- without changes that day writes no file. So the newest file of any of them says how far
-- the exports have come.
exports_by_table as (
    select max(source_file_date) as exported_through from {{ ref('stg_dongne_db__users') }}
    union all
    select max(source_file_date) as exported_through from {{ ref('stg_dongne_db__listings') }}
    union all
    select max(source_file_date) as exported_through from {{ ref('stg_dongne_db__trades') }}
),

exports as (
    select max(exported_through) as exported_through
    from exports_by_table
)

select
    events_received.events_received_through,
    exports.exported_through
from events_received
cross join exports
