"""The Python services: one ASGI app (sync.app.create_app) with a package per provider.

Run it with `python -m sync` (or `mentorships serve`); `mentorships up` starts it as a component
of the local stack."""
