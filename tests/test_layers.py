"""The package layers, read from the source (ast), so a cycle cannot creep back in unnoticed:
nothing below ui/ imports ui/, runtime/ has no widgets, and domain/ stays pure Python."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "medapp"


def imported_modules(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (absolute names; relative ones resolved against ``root``,
    the folder holding the ``medapp`` package), with its line."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # "from medapp import ui" imports medapp.ui
                yield node.lineno, f"{module}.{alias.name}"


def offences(layer: str, forbidden: tuple[str, ...], package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted((package / layer).rglob("*.py")):
        for line, module in imported_modules(path, package.parent):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(package.parent)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("layer", ["jobs", "services", "domain", "db", "cache", "runtime"])
def test_lower_layers_do_not_import_the_ui(layer: str) -> None:
    assert offences(layer, ("medapp.ui",)) == []


def test_runtime_has_no_widgets() -> None:
    assert offences("runtime", ("PySide6.QtWidgets", "PySide6.QtGui")) == []


def test_domain_imports_nothing_of_the_project_and_no_qt() -> None:
    forbidden = tuple(
        f"medapp.{p.name}" for p in PACKAGE.iterdir() if p.is_dir() and p.name != "domain"
    ) + ("PySide6", "shiboken6", "sqlalchemy", "psycopg", "diskcache", "apscheduler")
    assert offences("domain", forbidden) == []


def test_the_check_sees_an_offending_import(tmp_path: Path) -> None:
    """The walker itself: a ui import, absolute, relative or "from medapp import ui", is found."""
    layer = tmp_path / "medapp" / "jobs"
    layer.mkdir(parents=True)
    (layer / "probe.py").write_text(
        "from ..ui import workers\nimport medapp.ui.app\nfrom medapp import ui\nimport os\n",
        encoding="utf-8",
    )
    found = offences("jobs", ("medapp.ui",), tmp_path / "medapp")
    assert sorted({int(f.split(":")[1].split()[0]) for f in found}) == [1, 2, 3]
