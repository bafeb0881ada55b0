"""Domain micro-benchmarks: frequency parsing (cached, uncached) and dose status at scale.

Targets from the issue: cached parse < 2 µs, uncached parse < 100 µs, status of 5,000
prescriptions with their day's logs < 20 ms. Numbers are wall-clock (``perf_counter_ns``) on
this machine; unit tests never assert on them.

* ``parse_cached`` — one ``parse_frequency`` call on a warm cache; timed in batches of 1,000
  calls (a single call is shorter than the clock's resolution) and reported per call.
* ``parse_uncached`` — one call right after ``clear_parse_cache()``, cycling through common
  school wordings, so memoisation cannot help.
* ``status_5000_prescriptions`` — ``bulk_dose_statuses`` over 5,000 prescriptions' scheduled
  doses for one school day and about 7,000 logs (given on time, late, not given, corrected),
  at 13:30. The doses are computed beforehand (``plan_5000_prescriptions`` times that step).

Garbage collection stays on. The day's doses and logs are long-lived data (the app loads them
once and recomputes statuses every minute), so, as the app should after loading them, the
benchmark moves them out of the collector's generations with ``gc.freeze()``; otherwise a full
collection walking those ~20,000 objects lands in some runs (about +7 ms at p95 here).

Run: ``python -m medapp.bench.domain_bench``.
"""

from __future__ import annotations

import gc
import random
import statistics
import time as _clock
from collections.abc import Callable, Hashable, Sequence
from datetime import date, time, timedelta
from typing import Any

from medapp.domain.doses import DoseLog, LogStatus, NotGivenReason, bulk_dose_statuses
from medapp.domain.frequency import clear_parse_cache, parse_frequency
from medapp.domain.schedule import Prescription, ScheduledDose, doses_due_at_school
from medapp.domain.school import SchoolCalendar

__all__ = ["COMMON_FREQUENCIES", "run_domain_bench"]

COMMON_FREQUENCIES = (
    "twice daily",
    "1 tab PO bid",
    "take 1 tablet by mouth daily",
    "three times daily",
    "2 puffs q4h prn wheezing",
    "every 4-6 hours as needed for pain, max 4 per day",
    "at 11:30",
    "daily with lunch",
    "Mon/Wed/Fri at 12:30 pm",
    "qid",
    "every 6 hours as needed",
    "1 tab po tid prn muscle spasms",
    "at bedtime",
    "every other day",
    "take 1 capsule by mouth every morning",
    "q4h",
)

SCHEDULED_MIX = (
    "daily at 11:30",
    "with lunch",
    "tid with meals",
    "qid",
    "q4h",
    "bid",  # a home order: no school dose (issue 9), still planned every day
    "at 10:00 and 13:30",
    "M/W/F at 12:30 pm",
    "every morning at school",
    "twice daily at 8:30 am and 2:30 pm",
)


def _summary(name: str, samples_ns: Sequence[float]) -> dict[str, Any]:
    ordered = sorted(samples_ns)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {
        "name": name,
        "runs": len(ordered),
        "p50_ms": statistics.median(ordered) / 1e6,
        "p95_ms": p95 / 1e6,
        "max_ms": ordered[-1] / 1e6,
    }


def _time(fn: Callable[[], object], runs: int) -> list[float]:
    samples: list[float] = []
    for _ in range(runs):
        start = _clock.perf_counter_ns()
        fn()
        samples.append(_clock.perf_counter_ns() - start)
    return samples


def bench_parse_cached(runs: int = 200, batch: int = 1000) -> dict[str, Any]:
    for text in COMMON_FREQUENCIES:
        parse_frequency(text)
    texts = [COMMON_FREQUENCIES[k % len(COMMON_FREQUENCIES)] for k in range(batch)]

    def one_batch() -> None:
        for text in texts:
            parse_frequency(text)

    one_batch()
    return _summary("parse_cached", [ns / batch for ns in _time(one_batch, runs)])


def bench_parse_uncached(runs: int = 2000) -> dict[str, Any]:
    samples: list[float] = []
    for k in range(runs):
        text = COMMON_FREQUENCIES[k % len(COMMON_FREQUENCIES)]
        clear_parse_cache()
        start = _clock.perf_counter_ns()
        parse_frequency(text)
        samples.append(_clock.perf_counter_ns() - start)
    clear_parse_cache()
    return _summary("parse_uncached", samples)


def build_school_day(
    prescriptions: int = 5000, seed: int = 1
) -> tuple[
    SchoolCalendar, date, list[Prescription], dict[Hashable, list[ScheduledDose]], list[DoseLog]
]:
    """A deterministic school day: prescriptions, their doses, and a realistic set of logs."""
    rng = random.Random(seed)
    calendar = SchoolCalendar()
    day = date(2024, 10, 15)
    rxs = [
        Prescription(
            id=f"rx{k}",
            frequency=SCHEDULED_MIX[k % len(SCHEDULED_MIX)],
            start_date=date(2024, 9, 3),
            administration_times=(time(9, 15),) if k % 17 == 0 else None,
        )
        for k in range(prescriptions)
    ]
    plans: dict[Hashable, list[ScheduledDose]] = {
        rx.id: list(doses_due_at_school(rx, calendar, day).doses) for rx in rxs
    }
    now = calendar.at(day, time(13, 30))
    logs: list[DoseLog] = []
    serial = 0
    for rx_id, doses in plans.items():
        for dose in doses:
            if dose.scheduled_for > now:
                continue
            serial += 1
            roll = rng.random()
            if roll < 0.70:
                at = dose.scheduled_for + timedelta(minutes=rng.randint(-40, 45))
                tagged = dose.scheduled_for if rng.random() < 0.5 else None
                logs.append(DoseLog(serial, rx_id, LogStatus.GIVEN, at, tagged, "R. Nurse"))
            elif roll < 0.78:
                at = dose.scheduled_for + timedelta(minutes=rng.randint(70, 150))
                logs.append(DoseLog(serial, rx_id, LogStatus.GIVEN, at, None, "R. Nurse"))
            elif roll < 0.86:
                logs.append(
                    DoseLog(
                        serial,
                        rx_id,
                        LogStatus.NOT_GIVEN,
                        dose.scheduled_for,
                        dose.scheduled_for,
                        "R. Nurse",
                        NotGivenReason.ABSENT,
                    )
                )
            elif roll < 0.90:  # recorded, then corrected
                at = dose.scheduled_for + timedelta(minutes=5)
                logs.append(
                    DoseLog(serial, rx_id, LogStatus.GIVEN, at, None, "R. Nurse", superseded=True)
                )
                serial += 1
                logs.append(
                    DoseLog(
                        serial,
                        rx_id,
                        LogStatus.NOT_GIVEN,
                        at,
                        None,
                        "R. Nurse",
                        NotGivenReason.REFUSED,
                        supersedes_id=serial - 1,
                    )
                )
    rng.shuffle(logs)
    return calendar, day, rxs, plans, logs


def bench_status(prescriptions: int = 5000, runs: int = 30) -> list[dict[str, Any]]:
    calendar, day, rxs, plans, logs = build_school_day(prescriptions)
    now = calendar.at(day, time(13, 30))
    bulk_dose_statuses(plans, logs, now)  # warm up
    gc.collect()
    gc.freeze()
    try:
        status = _summary(
            f"status_{prescriptions}_prescriptions",
            _time(lambda: bulk_dose_statuses(plans, logs, now), runs),
        )
        plan = _summary(
            f"plan_{prescriptions}_prescriptions",
            _time(
                lambda: [doses_due_at_school(rx, calendar, day) for rx in rxs], max(3, runs // 3)
            ),
        )
    finally:
        gc.unfreeze()
    return [status, plan]


def run_domain_bench(
    *, prescriptions: int = 5000, parse_runs: int = 2000, status_runs: int = 30
) -> list[dict[str, Any]]:
    """All domain benchmarks: one dict per benchmark (name, runs, p50_ms, p95_ms, max_ms)."""
    return [
        bench_parse_cached(runs=max(10, parse_runs // 10)),
        bench_parse_uncached(runs=parse_runs),
        *bench_status(prescriptions, status_runs),
    ]


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    header = f"{'benchmark':<28} {'runs':>6} {'p50 ms':>11} {'p95 ms':>11} {'max ms':>11}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['name']:<28} {row['runs']:>6} {row['p50_ms']:>11.6f} {row['p95_ms']:>11.6f} "
            f"{row['max_ms']:>11.6f}"
        )
    return "\n".join(lines)


def main() -> None:
    print(format_table(run_domain_bench()))


if __name__ == "__main__":
    main()
