{{ config(tags=['daily']) }}

-- One row per event_id, typed and renamed; the SQL is in macros/app_events.sql, shared
-- with int_events_dated's incremental branch.
{{ staged_app_events() }}
