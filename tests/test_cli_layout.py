"""The command's package keeps its shape: commands over shared modules, the library under both."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import feed_export

PACKAGE = Path(feed_export.__file__).parent
COMMANDS = {"push", "pull", "catalog", "sandbox"}
SHARED = {"flags", "groups", "settings", "logs", "terminal", "outputs"}


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_listing_is_the_expected_one() -> None:
    found = {p.stem for p in (PACKAGE / "cli").glob("*.py")}
    assert found == COMMANDS | SHARED | {"__init__"}


@pytest.mark.parametrize("name", sorted(SHARED), ids=sorted(SHARED))
def test_a_shared_module_imports_no_command(name: str) -> None:
    imported = _imported(PACKAGE / "cli" / f"{name}.py")
    command_modules = {f"feed_export.cli.{c}" for c in COMMANDS}
    assert not imported & (command_modules | {"feed_export.cli"})


@pytest.mark.parametrize("name", sorted(COMMANDS), ids=sorted(COMMANDS))
def test_a_command_imports_no_other_command(name: str) -> None:
    imported = _imported(PACKAGE / "cli" / f"{name}.py")
    others = {f"feed_export.cli.{c}" for c in COMMANDS - {name}}
    assert not imported & (others | {"feed_export.cli"})


def test_the_library_never_imports_the_command() -> None:
    importers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "cli" not in path.relative_to(PACKAGE).parts[:1]
        and any(n == "feed_export.cli" or n.startswith("feed_export.cli.") for n in _imported(path))
    ]
    assert importers == ["__main__.py"]
