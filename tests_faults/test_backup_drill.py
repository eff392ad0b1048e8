"""The backup and restore drill (testing/faults/drill.py): the demo's seed dumped (roles and
database) and restored into a fresh cluster, `db apply` on top; the invariants hold there and
every table has the rows it had."""

from __future__ import annotations

from testing.faults import drill, record


def test_restore_of_a_seeded_stack_is_whole() -> None:
    d = drill.run(progress=lambda _: None)
    record.EXTRA["backup drill"] = {
        "seconds": d.seconds,
        "dump_bytes": d.dump_bytes,
        "tables": len(d.source_rows),
        "rows": sum(d.source_rows.values()),
    }
    assert d.source_rows["public.sessions"] == d.seeded["sessions"] > 0
    assert d.source_rows["public.notifications"] > 0
    assert d.differences() == {}
    assert d.broken == {}
