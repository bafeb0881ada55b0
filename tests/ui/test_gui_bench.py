"""`medapp bench`'s two GUI rows still run as the desk does now — the search pane needs someone
signed in, and a cold start signs a nurse in for real (the password on standard input)."""

from __future__ import annotations

import pytest

from medapp.bench.gui_bench import gui_cold_start, gui_search_keystroke
from medapp.db.engine import Database


def test_keystroke_row_on_the_school_demo(qtbot, demo_db: Database) -> None:  # noqa: ANN001
    row = gui_search_keystroke(demo_db, words=("amoxicillin",))
    assert row["name"] == "gui_search_keystroke" and row["runs"] >= 5
    assert row["p50_ms"] > 0


@pytest.mark.slow
def test_cold_start_signs_in_and_reports_ready(demo_db: Database) -> None:
    row = gui_cold_start(demo_db, runs=1)
    assert row["name"] == "gui_cold_start" and row["runs"] == 1 and row["p50_ms"] > 0
