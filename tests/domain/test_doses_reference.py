"""The optimised matcher agrees with a naive O(n·m) statement of the same rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from medapp.domain.doses import (
    DoseLog,
    DoseStatus,
    LogStatus,
    NotGivenReason,
    current_logs,
    dose_statuses,
)
from medapp.domain.schedule import ScheduledDose
from tests.domain.helpers import ny

DAY = date(2024, 10, 15)
W = timedelta(hours=1)


def reference(
    doses: list[ScheduledDose], logs: list[DoseLog], now: datetime
) -> tuple[list[tuple[DoseStatus, object]], set[object]]:
    doses = sorted(doses, key=lambda d: d.scheduled_for)
    logs = current_logs(logs)
    claim: dict[int, DoseLog] = {}
    out: set[object] = set()
    free: list[DoseLog] = []
    # 1. exact: GIVEN beats NOT_GIVEN, then the newest; losers are unmatched
    for log in logs:
        hits = [k for k, d in enumerate(doses) if d.scheduled_for == log.scheduled_for]
        if not hits:
            free.append(log)
            continue
        k = hits[0]
        rank = (log.status is LogStatus.GIVEN, log.time_given)
        if k not in claim:
            claim[k] = log
        elif rank > (claim[k].status is LogStatus.GIVEN, claim[k].time_given):
            out.add(claim[k].id)
            claim[k] = log
        else:
            out.add(log.id)
    # 2. window: repeatedly take the globally nearest pair
    while True:
        pairs = [
            (
                abs(log.time_given - d.scheduled_for),
                k,
                log.status is not LogStatus.GIVEN,
                log.time_given,
                j,
            )
            for j, log in enumerate(free)
            for k, d in enumerate(doses)
            if k not in claim and abs(log.time_given - d.scheduled_for) <= W
        ]
        if not pairs:
            break
        _, k, _, _, j = min(pairs)
        claim[k] = free.pop(j)
    # 3. late: oldest log first takes the latest passed unclaimed dose of its own day
    for log in sorted(free, key=lambda g: g.time_given):
        passed = [
            k
            for k, d in enumerate(doses)
            if k not in claim and d.scheduled_for + W < log.time_given
        ]
        if (
            passed
            and doses[passed[-1]].scheduled_for.date()
            == log.time_given.astimezone(doses[0].scheduled_for.tzinfo).date()
        ):
            claim[passed[-1]] = log
        else:
            out.add(log.id)
    result = []
    for k, d in enumerate(doses):
        log = claim.get(k)
        if log is None:
            if now < d.scheduled_for - W:
                status = DoseStatus.UPCOMING
            elif now <= d.scheduled_for + W:
                status = DoseStatus.DUE
            else:
                status = DoseStatus.MISSED
        elif log.status is LogStatus.NOT_GIVEN:
            status = DoseStatus.NOT_GIVEN
        elif log.time_given > d.scheduled_for + W:
            status = DoseStatus.LATE
        else:
            status = DoseStatus.COMPLETED
        result.append((status, log.id if log else None))
    return result, out


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[ScheduledDose], list[DoseLog], datetime]:
    dose_minutes = draw(
        st.lists(st.integers(7 * 60, 16 * 60).map(lambda m: m - m % 5), max_size=5, unique=True)
    )
    doses = [ScheduledDose("rx", ny(DAY, m // 60, m % 60)) for m in dose_minutes]
    logs = []
    for j in range(draw(st.integers(0, 5))):
        day = DAY + timedelta(days=draw(st.sampled_from([0, 0, 0, 0, 1, -1])))
        minute = draw(st.integers(6 * 60, 18 * 60))
        tagged = None
        if dose_minutes and draw(st.booleans()):
            m = draw(st.sampled_from(dose_minutes))
            tagged = ny(DAY, m // 60, m % 60)
        status = draw(st.sampled_from([LogStatus.GIVEN, LogStatus.GIVEN, LogStatus.NOT_GIVEN]))
        logs.append(
            DoseLog(
                f"l{j}",
                "rx",
                status,
                ny(day, minute // 60, minute % 60),
                tagged,
                reason=NotGivenReason.REFUSED if status is LogStatus.NOT_GIVEN else None,
                superseded=draw(st.integers(0, 9)) == 0,
            )
        )
    now = ny(DAY, draw(st.integers(6, 18)), draw(st.integers(0, 59)))
    return doses, logs, now


@settings(max_examples=1500)
@given(scenario())
def test_matches_the_naive_reference(
    case: tuple[list[ScheduledDose], list[DoseLog], datetime],
) -> None:
    doses, logs, now = case
    expected, expected_out = reference(doses, logs, now)
    result = dose_statuses(doses, logs, now)
    assert [(s.status, s.log.id if s.log else None) for s in result.doses] == expected
    assert {log.id for log in result.unmatched} == expected_out
