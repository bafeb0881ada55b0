"""Lint, format and type checks are part of the suite, so CI and a newcomer see the same bar."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "args",
    [
        ("ruff", "check", "medapp", "tests", "migrations"),
        ("ruff", "format", "--check", "medapp", "tests", "migrations/env.py"),
        ("mypy",),
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_passes(args: tuple[str, ...]) -> None:
    result = _run(*args)
    assert result.returncode == 0, result.stdout + result.stderr


def test_domain_never_imports_qt_or_the_database() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for layer in ("domain",)
        for path in (ROOT / "medapp" / layer).rglob("*.py")
        if any(
            word in path.read_text(encoding="utf-8")
            for word in ("PySide6", "sqlalchemy", "medapp.db")
        )
    ]
    assert offenders == []


def test_core_layers_never_import_qt() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for layer in ("domain", "db", "cache", "services", "demo")
        for path in (ROOT / "medapp" / layer).rglob("*.py")
        if "PySide6" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
