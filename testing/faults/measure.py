"""What a load's samples say: requests per second held by kind, and around a fault the outage
window (from the fault to the first success after it, by kind) and the failures outside it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from testing.faults.load import Sample


def rates(samples: list[Sample], start: float, end: float) -> dict[str, float]:
    """Answered (not failed) requests per second by kind in [start, end)."""
    seconds = max(end - start, 1e-9)
    counts = Counter(s.kind for s in samples if start <= s.started < end and not s.failed)
    return {kind: round(n / seconds, 2) for kind, n in sorted(counts.items())}


def statuses(samples: list[Sample]) -> dict[str, dict[int, int]]:
    out: dict[str, Counter[int]] = {}
    for s in samples:
        out.setdefault(s.kind, Counter())[s.status] += 1
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


@dataclass(frozen=True)
class Window:
    """Around a fault at `fault_at`: the failed requests by kind, when the last kind to fail
    answered again (`recovered_at`: the end of the first success starting after its last failure),
    and the failures that lie outside [fault_at, recovered_at] (none is the claim)."""

    fault_at: float
    failed: dict[str, int]
    recovered_at: float | None
    outside: list[Sample]

    @property
    def outage_seconds(self) -> float:
        if not self.failed:
            return 0.0
        if self.recovered_at is None:
            return float("inf")
        return round(self.recovered_at - self.fault_at, 2)


def window(samples: list[Sample], fault_at: float) -> Window:
    failed = [s for s in samples if s.failed]
    inside = [s for s in failed if s.ended >= fault_at]
    outside = [s for s in failed if s.ended < fault_at]
    recovered: float | None = fault_at
    for kind in {s.kind for s in inside}:
        last = max(s.started for s in inside if s.kind == kind)
        back = [s.ended for s in samples if s.kind == kind and not s.failed and s.started > last]
        if not back:
            recovered = None
            break
        recovered = max(recovered or 0.0, min(back))
    if recovered is not None:
        outside += [s for s in inside if s.ended > recovered]
    return Window(
        fault_at,
        dict(Counter(s.kind for s in inside)),
        recovered if inside else None,
        outside,
    )
