"""sync/ is deployable on its own: none of its modules imports mentorships (the local stack and
the CLI import sync, never the other way) or testing (the test support, not installed)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import sync

SYNC_DIR = Path(sync.__file__).resolve().parent
OUTSIDE = ("mentorships", "testing")


def _imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", OUTSIDE)
def test_no_module_of_sync_imports(package: str) -> None:
    files = sorted(SYNC_DIR.rglob("*.py"))
    assert len(files) > 10
    offending = [
        f"{path.relative_to(SYNC_DIR.parent)}:{line} imports {module}"
        for path in files
        for line, module in _imported(path)
        if module.split(".")[0] == package
    ]
    assert offending == []


def test_importing_every_module_of_sync_loads_nothing_from_outside() -> None:
    """At run time too (an import hidden from the walk above, through importlib, say). The
    checkout is on the path, so an import of testing would succeed and show here."""
    script = (
        "import pkgutil, sys, sync\n"
        "for m in pkgutil.walk_packages(sync.__path__, 'sync.'):\n"
        "    if m.name != 'sync.__main__':\n"
        "        __import__(m.name)\n"
        f"loaded = sorted(n for n in sys.modules if n.split('.')[0] in {OUTSIDE!r})\n"
        "print(len([n for n in sys.modules if n.startswith('sync.')]), loaded)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=SYNC_DIR.parent,
    )
    count, loaded = proc.stdout.split(" ", 1)
    assert int(count) > 10
    assert loaded.strip() == "[]"
