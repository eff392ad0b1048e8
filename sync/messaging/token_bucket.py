"""A token bucket for the sends of one transport: at most ``rate`` requests a second, shared by
every concurrent send, and a pause everyone honours when the provider says "wait" (a 429).

    bucket = TokenBucket(rate=2.0)
    await bucket.take()          # returns when this request may go
    bucket.pause(1.5)            # nobody goes for the next 1.5 s

The bucket holds one token (no burst): callers take numbered tickets and go in their order,
ticket n at ``anchor time + (n - anchor ticket) / rate`` (re-anchored on a ticket that went late),
so requests go at least 1/rate apart and any window of T seconds sees at most T * rate + 1. A pause moves the whole queue behind it in the same order: the first
ticket still waiting goes when the pause ends, the others 1/rate apart after it; a caller that
takes a ticket again after its 429 queues behind them, so one unlucky send cannot be the one
that meets every 429 while the others wait.
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
        self._issued = 0  # tickets handed out
        self._served = 0  # the first ticket that has not gone yet
        # Ticket t goes at anchor_time + (t - anchor_ticket) * interval (time.monotonic()).
        self._anchor_ticket = 0
        self._anchor_time = 0.0
        self._paused_until = 0.0

    def _slot(self, ticket: int) -> float:
        return self._anchor_time + (ticket - self._anchor_ticket) * self.interval

    async def take(self) -> None:
        """Waits for this request's turn."""
        ticket = self._issued
        self._issued += 1
        now = time.monotonic()
        if self._slot(ticket) < now:
            # Nobody is queued before this ticket (the queue drained): it may go now.
            self._anchor_ticket, self._anchor_time = ticket, max(now, self._paused_until)
        while True:
            wake = max(self._slot(ticket), self._paused_until)
            now = time.monotonic()
            if wake <= now:
                break
            await asyncio.sleep(wake - now)
        if now > self._slot(ticket):
            # Late (the loop was busy): the next one goes a full interval after this one.
            self._anchor_ticket, self._anchor_time = ticket, now
        self._served = max(self._served, ticket + 1)

    def pause(self, seconds: float) -> None:
        """Nobody goes before ``seconds`` from now; the waiting queue resumes then, in order."""
        until = time.monotonic() + max(seconds, 0.0)
        if until > self._paused_until:
            self._paused_until = until
            self._anchor_ticket, self._anchor_time = self._served, until
