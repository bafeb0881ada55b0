"""The end-of-day rules: when a day closes, MISSED record ids, the summary's classification."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medapp.domain.doses import DoseStatus, NotGivenReason
from medapp.domain.end_of_day import close_moment, missed_log_id, summarize
from medapp.domain.school import SchoolCalendar

NY = ZoneInfo("America/New_York")
CAL = SchoolCalendar(timezone="America/New_York")
DAY = dt.date(2026, 11, 2)


def at(h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 2, h, m, tzinfo=NY)


def test_a_day_closes_after_the_last_window_and_the_grace() -> None:
    assert close_moment(CAL, DAY, [at(9), at(12, 15)]) == at(13, 45)
    assert close_moment(CAL, DAY, [at(12)], dt.timedelta(minutes=5)) == at(13, 5)


def test_a_day_without_doses_closes_after_the_school_day() -> None:
    assert close_moment(CAL, DAY, []) == at(15, 30)


def test_a_negative_grace_is_refused() -> None:
    with pytest.raises(ValueError, match="grace"):
        close_moment(CAL, DAY, [at(12)], dt.timedelta(minutes=-1))


@given(
    st.lists(st.integers(min_value=8 * 60, max_value=15 * 60), min_size=1, max_size=8),
    st.integers(min_value=0, max_value=180),
)
def test_the_close_is_never_inside_a_dose_window(minutes: list[int], grace: int) -> None:
    times = [at(0) + dt.timedelta(minutes=m) for m in minutes]
    closes = close_moment(CAL, DAY, times, dt.timedelta(minutes=grace))
    assert all(closes >= t + CAL.dose_window for t in times)


@given(st.uuids(), st.integers(min_value=0, max_value=10**6))
def test_missed_ids_name_the_instant_not_its_timezone(rx: uuid.UUID, seconds: int) -> None:
    moment = at(8) + dt.timedelta(seconds=seconds)
    assert missed_log_id(rx, moment) == missed_log_id(rx, moment.astimezone(dt.UTC))
    assert missed_log_id(rx, moment) != missed_log_id(rx, moment + dt.timedelta(seconds=1))


STATUSES = st.sampled_from(list(DoseStatus))
REASONS = st.sampled_from([r.value for r in NotGivenReason])


@given(st.lists(st.tuples(STATUSES, REASONS)))
def test_every_dose_is_counted_once(doses: list[tuple[DoseStatus, str]]) -> None:
    rows = [(s, r if s is DoseStatus.NOT_GIVEN else None) for s, r in doses]
    counts = summarize(rows)
    assert counts.total == len(rows)
    assert sum(counts.not_given_reasons.values()) == counts.not_given
    assert counts.missed == sum(1 for s, _ in rows if s is DoseStatus.MISSED)
