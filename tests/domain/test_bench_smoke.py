"""The domain benchmark runs and reports the agreed shape (timings are not asserted)."""

from __future__ import annotations

from datetime import time

from medapp.bench.domain_bench import build_school_day, format_table, run_domain_bench
from medapp.domain.doses import DoseStatus, bulk_dose_statuses


def test_run_domain_bench_shape() -> None:
    rows = run_domain_bench(prescriptions=50, parse_runs=20, status_runs=2)
    names = [row["name"] for row in rows]
    assert names[:3] == ["parse_cached", "parse_uncached", "status_50_prescriptions"]
    for row in rows:
        assert set(row) == {"name", "runs", "p50_ms", "p95_ms", "max_ms"}
        assert row["runs"] > 0 and 0 <= row["p50_ms"] <= row["p95_ms"] <= row["max_ms"]
    assert "parse_cached" in format_table(rows)


def test_bench_day_is_realistic() -> None:
    calendar, day, _rxs, plans, logs = build_school_day(500)
    result = bulk_dose_statuses(plans, logs, calendar.at(day, time(13, 30)))
    seen = {state.status for status in result.values() for state in status.doses}
    assert {
        DoseStatus.COMPLETED,
        DoseStatus.LATE,
        DoseStatus.NOT_GIVEN,
        DoseStatus.DUE,
        DoseStatus.MISSED,
    } <= seen
