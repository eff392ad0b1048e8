"""Wakes the calendar sync when a push notification made a mentor's sync due: LISTEN
calendar_sync_due (google_push sends it) on a direct Postgres connection
(MENTORSHIPS_GCAL_DATABASE_URL), in a thread, as the dispatcher listens for notifications_due.

    listener = Listener(dsn, wake, stop); listener.start()   # each NOTIFY sets `wake`
"""

from __future__ import annotations

import logging
import threading

import psycopg

log = logging.getLogger("sync.gcal")

RECONNECT_SECONDS = 1.0


class Listener(threading.Thread):
    def __init__(self, dsn: str, wake: threading.Event, stop: threading.Event) -> None:
        super().__init__(name="gcal-listen", daemon=True)
        self.dsn = dsn
        self.wake = wake
        self.stop = stop
        self.listening = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute("listen calendar_sync_due")
                    self.listening.set()
                    self.wake.set()  # anything that committed before the LISTEN
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.wake.set()
            except psycopg.Error as e:
                log.warning("LISTEN connection lost", extra={"error": type(e).__name__})
            self.listening.clear()
            self.stop.wait(RECONNECT_SECONDS)
