"""Fixtures for the pure domain tests: the shared real data, a school calendar, and helpers."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from medapp.domain.school import SchoolCalendar

# The district's real data sits beside the clone (../shared/data); CI has it there too.
DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def sigs_dir() -> Path:
    path = DATA_DIR / "sigs"
    if not path.is_dir():
        pytest.skip(f"real data not found at {path}")
    return path


@pytest.fixture
def calendar() -> SchoolCalendar:
    return SchoolCalendar(
        timezone="America/New_York",
        day_start=time(8, 0),
        day_end=time(15, 0),
        lunch_time=time(12, 0),
        closed_dates=frozenset({date(2024, 11, 28)}),
        school_year_end=date(2025, 6, 20),
    )
