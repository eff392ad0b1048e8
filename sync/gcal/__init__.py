"""Google Calendar: a mentor connects their calendar (connect.py), the refresh tokens sealed at
rest (sealing.py), Google's client libraries built for the configured addresses (google.py), busy
times in (busy.py), session events out (events.py), the worker running both (worker.py)."""

# Where Google sends the mentor back (here, not in connect.py, so that the local stack can name it
# without importing Google's libraries).
CALLBACK_PATH = "/oauth/google/callback"
