"""Google Calendar: a mentor connects their calendar (connect.py), the refresh tokens sealed at
rest (sealing.py), Google's client libraries built for the configured addresses (google.py)."""
