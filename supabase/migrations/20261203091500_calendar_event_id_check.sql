-- The event id check of private.calendar_events: Postgres regular expressions repeat at most 255
-- times, so {5,1024} was refused when a row was written; the length is checked on its own.
alter table private.calendar_events
  drop constraint calendar_events_event_id_check,
  add constraint calendar_events_event_id_check
    check (event_id ~ '^[a-v0-9]+$' and length(event_id) between 5 and 1024);
