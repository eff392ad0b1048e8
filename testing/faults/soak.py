"""What a soak samples each minute (bench/soak.py): the memory (proportional set size) of every
process of the stack (Postgres with its backends, PostgREST, nginx with its workers, the
services, the dispatcher, the calendar sync) and the size of every table with its indexes; and
whether a series levels off (its second half grows less than a third of its first half's
growth, or under 5 % of its value or 1 MB)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from mentorships.stack import Stack


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return out


def _rss_kb(pid: int) -> int:
    """The process's proportional set size (shared pages split between the processes sharing
    them: Postgres's backends all map its shared buffers), else its resident set size."""
    for path, field in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(field):
                    return int(line.split()[1])
        except OSError:
            continue
    return 0


def _tree_rss_mb(pid: int | None, children: dict[int, list[int]]) -> float:
    if not pid:
        return 0.0
    todo, total = [pid], 0
    while todo:
        p = todo.pop()
        total += _rss_kb(p)
        todo += children.get(p, [])
    return round(total / 1024, 1)


def postmaster_pid(stack: Stack) -> int | None:
    try:
        return int((stack.postgres.p.pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def memory(stack: Stack) -> dict[str, float]:
    """MB resident by component (a process with its children)."""
    children = _children()
    return {
        "postgres": _tree_rss_mb(postmaster_pid(stack), children),
        "postgrest": _tree_rss_mb(stack.postgrest.pid(), children),
        "gateway": _tree_rss_mb(stack.gateway.pid(), children),
        "services": _tree_rss_mb(stack.services.pid(), children),
        "dispatcher": _tree_rss_mb(stack.worker.pid(), children),
        "gcal-worker": _tree_rss_mb(stack.gcal.pid(), children),
    }


def table_sizes(conn: psycopg.Connection) -> dict[str, float]:
    """MB of every table with its indexes and TOAST, in the schemas the platform writes."""
    rows = conn.execute(
        """select format('%I.%I', n.nspname, c.relname), pg_total_relation_size(c.oid)
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where c.relkind in ('r', 'p') and n.nspname in ('public', 'private', 'auth', 'cron')
            order by 1"""
    ).fetchall()
    return {name: round(size / 2**20, 3) for name, size in rows}


def levels_off(series: list[float]) -> bool:
    """Whether the series' second half grew less than a third of its first half's growth, or
    less than 5 % of its last value, or less than 1 (MB) (a flat series levels off). The first
    sample (before the load) is left out when there are more than three."""
    if len(series) > 3:
        series = series[1:]
    if len(series) < 3:
        return True
    mid = len(series) // 2
    first, second = series[mid] - series[0], series[-1] - series[mid]
    return second <= max(first / 3, 0.05 * abs(series[-1]), 1.0)
