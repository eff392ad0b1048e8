"""A test imports what it shares from testing/, never from a conftest or another test module
(STYLE.md, "Test support"): every import under tests/, at any depth, resolved (relative ones
too) to the module it names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def imported(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a file, and of each name a `from ... import`
    takes (it may be a module)."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def forbidden(module: str) -> bool:
    """A conftest anywhere, or a test module of tests/."""
    parts = module.split(".")
    return "conftest" in parts or (
        parts[0] == "tests" and any(p.startswith("test_") for p in parts[1:])
    )


def offences(path: Path, root: Path = ROOT) -> list[str]:
    return [
        f"{path.relative_to(root)}:{line}: {module}"
        for line, module in imported(path, root)
        if forbidden(module)
    ]


def test_no_test_imports_a_conftest_or_another_test_module() -> None:
    files = sorted((ROOT / "tests").rglob("*.py"))
    assert len(files) > 30
    found = [o for f in files for o in offences(f)]
    assert not found, "import what tests share from testing/ instead:\n" + "\n".join(found)


def _offences_of(tmp_path: Path, where: str, source: str) -> list[str]:
    path = tmp_path / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source + "\n")
    return offences(path, tmp_path)


@pytest.mark.parametrize(
    ("where", "source"),
    [
        ("tests/test_x.py", "from tests.conftest import Clock"),
        ("tests/test_x.py", "import tests.conftest"),
        ("tests/test_x.py", "from conftest import ACTORS"),
        ("tests/test_x.py", "def f() -> None:\n    from tests import conftest"),
        ("tests/sync/test_x.py", "from tests.sync.conftest import Shop"),
        ("tests/sync/test_x.py", "from .conftest import Shop"),
        ("tests/sync/test_x.py", "from . import conftest"),
        ("tests/sync/test_x.py", "from tests.sync.stripe.test_checkout import expect_create"),
        ("tests/sync/test_x.py", "from tests.sync.stripe import test_checkout"),
        ("tests/sync/paypal/test_x.py", "from ..stripe.test_checkout import expect_create"),
    ],
)
def test_each_kind_of_forbidden_import_is_caught(tmp_path: Path, where: str, source: str) -> None:
    assert _offences_of(tmp_path, where, source), source


@pytest.mark.parametrize(
    "source",
    [
        "from testing.factories import Scenario",
        "from testing.fakes.http import StrictFake",
        "from testing import world as world_",
        "from tests.sync import helpers",
        "import pytest",
        "from sync.app import create_app",
    ],
)
def test_imports_from_testing_pass(tmp_path: Path, source: str) -> None:
    assert not _offences_of(tmp_path, "tests/sync/test_x.py", source)
