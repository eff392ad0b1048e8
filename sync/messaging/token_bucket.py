"""A token bucket for the sends of one transport: at most ``rate`` requests a second, shared by
every concurrent send, and a pause everyone honours when the provider says "wait" (a 429).

    bucket = TokenBucket(rate=2.0)
    await bucket.take()          # returns when this request may go
    bucket.pause(1.5)            # nobody goes for the next 1.5 s

The bucket holds one token (no burst): each ``take`` reserves the next free slot, 1/rate after
the one before, so any window of T seconds sees at most T * rate + 1 requests. Waiters are served
in the order they asked.
"""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be a positive number of requests a second, not {rate!r}")
        self.rate = rate
        self.interval = 1.0 / rate
        # When the next request may go, and until when everyone waits (time.monotonic()).
        self._next = 0.0
        self._paused_until = 0.0

    async def take(self) -> None:
        """Waits for this request's slot (reserved at once, so concurrent callers queue); a
        caller whose slot falls in a pause set while it waited takes a slot after the pause."""
        while True:
            now = time.monotonic()
            slot = max(now, self._next, self._paused_until)
            self._next = slot + self.interval
            if slot > now:
                await asyncio.sleep(slot - now)
            if time.monotonic() >= self._paused_until:
                return

    def pause(self, seconds: float) -> None:
        """Nobody goes before ``seconds`` from now."""
        self._paused_until = max(self._paused_until, time.monotonic() + max(seconds, 0.0))
