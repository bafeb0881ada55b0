"""PRN limits: minimum interval and daily maximum, with the earliest allowed time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from medapp.domain.doses import DoseLog, LogStatus, NotGivenReason, correct
from medapp.domain.frequency import parse_frequency
from medapp.domain.prn import PrnLimits, PrnRule, check_prn
from medapp.domain.school import SchoolCalendar
from tests.domain.helpers import ny

DAY = date(2024, 10, 15)
NEXT = DAY + timedelta(days=1)
PREV = DAY - timedelta(days=1)


def given(day: date, hh: int, mm: int = 0, nurse: str = "J. Smith") -> DoseLog:
    return DoseLog(f"{day}-{hh}-{mm}", "rx", LogStatus.GIVEN, ny(day, hh, mm), nurse_name=nurse)


def test_no_limits_no_logs(calendar: SchoolCalendar) -> None:
    decision = check_prn(PrnLimits(), [], ny(DAY, 10), calendar)
    assert decision.allowed and decision.rules == () and decision.earliest_allowed is None


class TestMinInterval:
    limits = PrnLimits(min_interval=timedelta(hours=4))

    def test_too_soon_is_refused_with_the_earliest_time(self, calendar: SchoolCalendar) -> None:
        decision = check_prn(self.limits, [given(DAY, 10, 5)], ny(DAY, 12), calendar)
        assert not decision.allowed
        assert decision.rules == (PrnRule.MIN_INTERVAL,)
        assert decision.earliest_allowed == ny(DAY, 14, 5)
        assert "10:05" in decision.reason and "J. Smith" in decision.reason
        assert "14:05" in decision.reason

    def test_allowed_exactly_at_the_interval(self, calendar: SchoolCalendar) -> None:
        assert check_prn(self.limits, [given(DAY, 10, 5)], ny(DAY, 14, 5), calendar).allowed

    def test_back_dated_dose_cannot_squeeze_between(self, calendar: SchoolCalendar) -> None:
        decision = check_prn(self.limits, [given(DAY, 13)], ny(DAY, 11), calendar)
        assert not decision.allowed and decision.earliest_allowed == ny(DAY, 17)

    def test_from_a_parsed_frequency(self, calendar: SchoolCalendar) -> None:
        f = parse_frequency("2 puffs q4h prn wheezing")
        assert not check_prn(f, [given(DAY, 9)], ny(DAY, 12, 59), calendar).allowed
        assert check_prn(f, [given(DAY, 9)], ny(DAY, 13), calendar).allowed


class TestDailyMaximum:
    limits = PrnLimits(max_per_day=2)

    def test_counts_the_school_local_calendar_day(self, calendar: SchoolCalendar) -> None:
        logs = [given(DAY, 8), given(DAY, 10)]
        decision = check_prn(self.limits, logs, ny(DAY, 13), calendar)
        assert not decision.allowed and decision.rules == (PrnRule.MAX_PER_DAY,)
        assert decision.doses_counted == 2
        assert decision.earliest_allowed == ny(NEXT, 0)
        assert "2 of 2 doses today" in decision.reason
        assert check_prn(self.limits, logs, ny(NEXT, 8), calendar).allowed

    def test_yesterday_does_not_count(self, calendar: SchoolCalendar) -> None:
        logs = [given(PREV, 13), given(PREV, 14)]
        assert check_prn(self.limits, logs, ny(DAY, 8), calendar).allowed

    def test_rolling_24_hours_when_the_order_says_so(self, calendar: SchoolCalendar) -> None:
        rolling = PrnLimits(max_per_day=2, rolling_24h=True)
        logs = [given(PREV, 14), given(DAY, 8)]
        decision = check_prn(rolling, logs, ny(DAY, 10), calendar)
        assert not decision.allowed
        assert decision.earliest_allowed == ny(DAY, 14)  # yesterday's 14:00 drops out
        assert "in 24 hours" in decision.reason

    def test_not_given_and_corrected_logs_do_not_count(self, calendar: SchoolCalendar) -> None:
        refused = DoseLog("r", "rx", LogStatus.NOT_GIVEN, ny(DAY, 8), reason=NotGivenReason.REFUSED)
        wrong, fixed = correct(
            given(DAY, 9),
            DoseLog("f", "rx", LogStatus.NOT_GIVEN, ny(DAY, 9), reason=NotGivenReason.ABSENT),
        )
        assert check_prn(
            self.limits, [refused, wrong, fixed, given(DAY, 10)], ny(DAY, 12), calendar
        ).allowed


def test_both_limits_give_one_earliest_time_that_keeps_both(calendar: SchoolCalendar) -> None:
    limits = PrnLimits(min_interval=timedelta(hours=4), max_per_day=2, rolling_24h=True)
    logs = [given(PREV, 16), given(DAY, 9)]
    decision = check_prn(limits, logs, ny(DAY, 10), calendar)
    assert set(decision.rules) == {PrnRule.MIN_INTERVAL, PrnRule.MAX_PER_DAY}
    assert decision.earliest_allowed == ny(DAY, 16)  # 13:00 keeps the interval, not the max
    assert check_prn(limits, logs, decision.earliest_allowed, calendar).allowed


def test_limits_validation() -> None:
    with pytest.raises(ValueError):
        PrnLimits(min_interval=timedelta(0))
    with pytest.raises(ValueError):
        PrnLimits(max_per_day=0)
