"""What a soak samples each minute (bench/soak.py): the memory (proportional set size) of every
process of the stack (Postgres with its backends, its shared memory apart, PostgREST, nginx with
its workers, the services, the dispatcher, the calendar sync) and the size of every table with its indexes; and
whether a series levels off (its second half grows less than a third of its first half's
growth, or under 5 % of its value or 1 MB)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from mentorships.stack import Stack

SHARED = "postgres shared"


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return out


def _pss_kb(pid: int) -> tuple[int, int]:
    """The process's proportional set size (pages shared between processes split among them),
    as (private and file-backed, shared memory): Postgres's backends all map its shared memory
    segment, whose size is fixed (shared_memory_size). Without smaps_rollup: the resident set
    size, all counted private."""
    try:
        fields = {
            line.split(":")[0]: int(line.split()[1])
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
            if line.startswith(("Pss:", "Pss_Shmem:"))
        }
        return fields["Pss"] - fields.get("Pss_Shmem", 0), fields.get("Pss_Shmem", 0)
    except (OSError, KeyError, ValueError, IndexError):
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]), 0
    except OSError:
        pass
    return 0, 0


def _tree_mb(pid: int | None, children: dict[int, list[int]]) -> tuple[float, float]:
    """MB (private, shared) of a process with its children."""
    if not pid:
        return 0.0, 0.0
    todo, private, shared = [pid], 0, 0
    while todo:
        p = todo.pop()
        own, common = _pss_kb(p)
        private, shared = private + own, shared + common
        todo += children.get(p, [])
    return round(private / 1024, 1), round(shared / 1024, 1)


def postmaster_pid(stack: Stack) -> int | None:
    try:
        return int((stack.postgres.p.pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def memory(stack: Stack) -> dict[str, float]:
    """MB by component (a process with its children, proportional set size). Postgres's in two:
    its processes' own memory ("postgres"), and their share of its shared memory segment
    ("postgres shared": it fills as pages are read, up to the segment's fixed size)."""
    children = _children()
    private, shared = _tree_mb(postmaster_pid(stack), children)
    out = {"postgres": private, SHARED: shared}
    for name, pid in (
        ("postgrest", stack.postgrest.pid()),
        ("gateway", stack.gateway.pid()),
        ("services", stack.services.pid()),
        ("dispatcher", stack.worker.pid()),
        ("gcal-worker", stack.gcal.pid()),
    ):
        out[name] = round(sum(_tree_mb(pid, children)), 1)
    return out


def shared_memory_mb(conn: psycopg.Connection) -> float:
    """The size of Postgres's shared memory segment (shared_memory_size: shared_buffers and the
    rest), in MB: what "postgres shared" can reach and no more."""
    row = conn.execute(
        "select setting from pg_settings where name = 'shared_memory_size'"
    ).fetchone()
    return float(row[0]) if row else 0.0


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
