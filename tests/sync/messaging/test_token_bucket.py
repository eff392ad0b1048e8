"""The token bucket the transports share between their concurrent sends: requests 1/rate apart,
in the order they asked; a pause holds everyone and the queue resumes after it in that order."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from sync.messaging.token_bucket import TokenBucket


def test_requests_go_one_interval_apart_in_the_order_they_asked() -> None:
    async def main() -> list[tuple[int, float]]:
        bucket = TokenBucket(rate=50)
        went: list[tuple[int, float]] = []

        async def one(n: int) -> None:
            await bucket.take()
            went.append((n, time.monotonic()))

        await asyncio.gather(*(one(n) for n in range(10)))
        return went

    went = asyncio.run(main())
    assert [n for n, _ in went] == list(range(10))
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(went)]
    assert all(gap >= 1 / 50 - 0.002 for gap in gaps)


def test_an_idle_bucket_lets_the_next_request_go_at_once_but_no_burst_after_it() -> None:
    async def main() -> tuple[float, float]:
        bucket = TokenBucket(rate=10)
        await bucket.take()
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await bucket.take()
        first = time.monotonic() - started
        await bucket.take()
        return first, time.monotonic() - started

    first, second = asyncio.run(main())
    assert first < 0.05
    assert second >= 0.1 - 0.002


def test_a_pause_holds_everyone_and_keeps_their_order() -> None:
    async def main() -> tuple[float, list[int]]:
        bucket = TokenBucket(rate=1000)
        order: list[int] = []
        await bucket.take()
        started = time.monotonic()
        bucket.pause(0.2)

        async def one(n: int) -> None:
            await bucket.take()
            order.append(n)

        await asyncio.gather(*(one(n) for n in range(5)))
        return time.monotonic() - started, order

    elapsed, order = asyncio.run(main())
    assert elapsed >= 0.2
    assert order == list(range(5))


def test_a_caller_asking_again_after_a_pause_queues_behind_the_waiting_ones() -> None:
    async def main() -> list[str]:
        bucket = TokenBucket(rate=100)
        order: list[str] = []

        async def waiting(name: str) -> None:
            await bucket.take()
            order.append(name)

        await bucket.take()  # the request that met the 429
        others = [asyncio.ensure_future(waiting(n)) for n in ("b", "c")]
        await asyncio.sleep(0)  # they hold their tickets
        bucket.pause(0.1)
        await bucket.take()
        order.append("again")
        await asyncio.gather(*others)
        return order

    assert asyncio.run(main()) == ["b", "c", "again"]


@pytest.mark.parametrize("rate", [0, -1.0])
def test_a_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate)
