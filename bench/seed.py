"""How long `mentorships seed` takes at a few scales, on the bench stack (an empty database,
the gateway and the services running on their local provider keys, as after `mentorships up`):
the median wall time of the runs, what each run played, and the share of the time spent in
the hourly job runs."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo import play
from mentorships.stack import Stack
from testing.stacks import bench_settings, running_bench_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1,10", help="comma-separated scales [1,10]")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scale, median [3]")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    if not scales or min(scales) < 1 or args.repeat < 1:
        parser.error("--scales takes whole numbers from 1, --repeat at least 1")
    stack = Stack(bench_settings())
    figures: dict[str, dict[str, object]] = {}
    with running_bench_stack(stack, keep=args.keep):
        stack.services.start()
        for scale in scales:
            runs: list[float] = []
            played: list[str] = []
            for i in range(args.repeat):
                started = time.monotonic()
                summary = play.run(
                    stack.settings, scale=scale, random_seed=20261121, progress=played.append
                )
                runs.append(time.monotonic() - started)
                print(f"scale {scale} run {i + 1}: {runs[-1]:.1f} s", file=sys.stderr)
            figures[f"scale {scale}"] = {
                "median_s": round(statistics.median(runs), 1),
                "runs_s": [round(r, 1) for r in runs],
                "played": next(
                    (
                        line.strip()
                        for line in reversed(played)
                        if line.strip().startswith("played")
                    ),
                    "",
                ),
                "sessions": summary["sessions"],
                "orders": summary["orders"],
            }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for name, f in figures.items():
        print(
            f"{name}: median {f['median_s']} s of {f['runs_s']}; {f['orders']} orders, "
            f"{f['sessions']} sessions\n  {f['played']}"
        )


if __name__ == "__main__":
    main()
