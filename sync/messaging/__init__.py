"""Messages of the outbox (public.notifications): the renderer (templates.py) turns a message and
what the dispatcher looked up about it (context.py) into an email (subject, text, HTML, and an
iCalendar invite for session changes, invite.py) or a Discord message. Rendering is pure: no
network, no database, no clock."""
