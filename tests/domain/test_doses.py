"""Dose status: every status, the matcher's one-log-one-dose rule, corrections, time zones."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medapp.domain.doses import (
    DayStatus,
    DoseLog,
    DoseStatus,
    LogStatus,
    NotGivenReason,
    bulk_dose_statuses,
    correct,
    current_logs,
    dose_statuses,
    history,
    mark_entered_in_error,
    validate_new_log,
)
from medapp.domain.schedule import Prescription, ScheduledDose, doses_due_at_school
from medapp.domain.school import SchoolCalendar
from tests.domain.helpers import ny

DAY = date(2024, 10, 15)
_ids = itertools.count(1)


def dose(hh: int, mm: int = 0, rx: str = "rx") -> ScheduledDose:
    return ScheduledDose(rx, ny(DAY, hh, mm))


def given_at(
    hh: int, mm: int = 0, *, rx: str = "rx", for_: datetime | None = None, **kw: object
) -> DoseLog:
    return DoseLog(
        id=f"log-{next(_ids)}",
        prescription_id=rx,
        status=LogStatus.GIVEN,
        time_given=ny(DAY, hh, mm),
        scheduled_for=for_,
        nurse_name="J. Smith",
        **kw,  # type: ignore[arg-type]
    )


def not_given(
    hh: int, mm: int = 0, reason: NotGivenReason = NotGivenReason.REFUSED, **kw: object
) -> DoseLog:
    return DoseLog(
        id=f"log-{next(_ids)}",
        prescription_id="rx",
        status=LogStatus.NOT_GIVEN,
        time_given=ny(DAY, hh, mm),
        reason=reason,
        **kw,  # type: ignore[arg-type]
    )


def statuses(result: DayStatus) -> list[DoseStatus]:
    return [s.status for s in result.doses]


class TestEachStatus:
    @pytest.mark.parametrize(
        ("now", "expected"),
        [
            ((10, 59), DoseStatus.UPCOMING),
            ((11, 0), DoseStatus.DUE),  # window opens 60 minutes before
            ((12, 0), DoseStatus.DUE),
            ((13, 0), DoseStatus.DUE),  # and closes 60 minutes after
            ((13, 1), DoseStatus.MISSED),
        ],
    )
    def test_without_a_log(self, now: tuple[int, int], expected: DoseStatus) -> None:
        result = dose_statuses([dose(12)], [], ny(DAY, *now))
        assert statuses(result) == [expected]
        assert result.doses[0].log is None

    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ((11, 0), DoseStatus.COMPLETED),
            ((12, 45), DoseStatus.COMPLETED),
            ((13, 0), DoseStatus.COMPLETED),
            ((13, 1), DoseStatus.LATE),
            ((14, 30), DoseStatus.LATE),
        ],
    )
    def test_given(self, given: tuple[int, int], expected: DoseStatus) -> None:
        log = given_at(*given)
        result = dose_statuses([dose(12)], [log], ny(DAY, 15))
        assert statuses(result) == [expected]
        assert result.doses[0].log == log

    def test_late_is_flagged_for_the_nurse(self) -> None:
        state = dose_statuses([dose(12)], [given_at(14)], ny(DAY, 15)).doses[0]
        assert state.status is DoseStatus.LATE and state.needs_attention

    @pytest.mark.parametrize("reason", list(NotGivenReason))
    def test_not_given_with_each_reason(self, reason: NotGivenReason) -> None:
        notes = "field trip" if reason is NotGivenReason.OTHER else None
        log = not_given(12, 5, reason, notes=notes)
        state = dose_statuses([dose(12)], [log], ny(DAY, 15)).doses[0]
        assert state.status is DoseStatus.NOT_GIVEN
        assert state.reason is reason

    def test_reason_labels(self) -> None:
        assert [r.label for r in NotGivenReason] == [
            "Refused",
            "Absent",
            "Held",
            "No supply",
            "Parent called",
            "Other",
        ]

    def test_window_is_configurable(self) -> None:
        narrow = timedelta(minutes=30)
        result = dose_statuses([dose(12)], [given_at(12, 40)], ny(DAY, 15), narrow)
        assert statuses(result) == [DoseStatus.LATE]
        assert statuses(dose_statuses([dose(12)], [], ny(DAY, 11, 20), narrow)) == [
            DoseStatus.UPCOMING
        ]


class TestMatching:
    def test_one_log_never_satisfies_two_close_doses(self) -> None:
        result = dose_statuses([dose(8), dose(8, 30)], [given_at(8, 15)], ny(DAY, 8, 20))
        assert sorted(statuses(result)) == sorted([DoseStatus.COMPLETED, DoseStatus.DUE])
        assert sum(s.log is not None for s in result.doses) == 1

    def test_nearest_dose_wins(self) -> None:
        result = dose_statuses([dose(8), dose(8, 30)], [given_at(8, 25)], ny(DAY, 10))
        assert statuses(result) == [DoseStatus.MISSED, DoseStatus.COMPLETED]

    def test_two_logs_two_close_doses(self) -> None:
        result = dose_statuses(
            [dose(8), dose(8, 30)], [given_at(8, 20), given_at(8, 25)], ny(DAY, 10)
        )
        assert statuses(result) == [DoseStatus.COMPLETED, DoseStatus.COMPLETED]

    def test_exact_scheduled_for_beats_nearest(self) -> None:
        log = given_at(8, 50, for_=ny(DAY, 8))
        result = dose_statuses([dose(8), dose(9)], [log], ny(DAY, 9, 30))
        assert statuses(result) == [DoseStatus.COMPLETED, DoseStatus.DUE]
        assert result.doses[0].log == log

    def test_exact_log_late_for_its_own_dose(self) -> None:
        log = given_at(10, 30, for_=ny(DAY, 8))
        result = dose_statuses([dose(8), dose(10)], [log], ny(DAY, 12))
        assert statuses(result) == [DoseStatus.LATE, DoseStatus.MISSED]

    def test_given_beats_not_given_for_the_same_dose(self) -> None:
        refused = not_given(12, 0, scheduled_for=ny(DAY, 12))
        came_back = given_at(12, 40, for_=ny(DAY, 12))
        for logs in ([refused, came_back], [came_back, refused]):
            result = dose_statuses([dose(12), dose(13)], logs, ny(DAY, 13, 30))
            assert statuses(result) == [DoseStatus.COMPLETED, DoseStatus.DUE]
            assert result.unmatched == (refused,)  # shown, but it does not satisfy 13:00

    def test_late_log_goes_to_the_latest_passed_dose(self) -> None:
        result = dose_statuses([dose(8), dose(10)], [given_at(12, 30)], ny(DAY, 13))
        assert statuses(result) == [DoseStatus.MISSED, DoseStatus.LATE]

    def test_late_only_on_the_same_day(self) -> None:
        next_morning = DoseLog("x", "rx", LogStatus.GIVEN, ny(DAY + timedelta(days=1), 7))
        result = dose_statuses([dose(12)], [next_morning], ny(DAY + timedelta(days=1), 8))
        assert statuses(result) == [DoseStatus.MISSED]
        assert result.unmatched == (next_morning,)

    def test_early_log_does_not_complete_a_later_dose(self) -> None:
        early = given_at(9, 30)
        result = dose_statuses([dose(12)], [early], ny(DAY, 11, 30))
        assert statuses(result) == [DoseStatus.DUE]
        assert result.unmatched == (early,)

    def test_logs_in_utc_match_doses_in_school_time(self) -> None:
        utc_log = DoseLog("u", "rx", LogStatus.GIVEN, datetime(2024, 10, 15, 16, 5, tzinfo=UTC))
        result = dose_statuses([dose(12)], [utc_log], ny(DAY, 14))  # 16:05Z = 12:05 EDT
        assert statuses(result) == [DoseStatus.COMPLETED]
        tagged = DoseLog(
            "t",
            "rx",
            LogStatus.GIVEN,
            datetime(2024, 10, 15, 16, 50, tzinfo=UTC),
            scheduled_for=datetime(2024, 10, 15, 16, 0, tzinfo=UTC),
        )
        result = dose_statuses([dose(12), dose(13)], [tagged], ny(DAY, 14))
        assert statuses(result) == [DoseStatus.COMPLETED, DoseStatus.DUE]

    def test_results_are_in_time_order(self) -> None:
        result = dose_statuses([dose(14), dose(8), dose(12)], [], ny(DAY, 7))
        assert [s.dose.scheduled_for.hour for s in result.doses] == [8, 12, 14]

    def test_no_doses_returns_all_logs_unmatched(self) -> None:
        log = given_at(10)
        assert dose_statuses([], [log], ny(DAY, 12)) == DayStatus((), (log,))

    def test_naive_now_is_refused(self) -> None:
        with pytest.raises(ValueError):
            dose_statuses([dose(12)], [], datetime(2024, 10, 15, 12))


class TestCorrections:
    def test_superseded_log_is_ignored_and_kept_in_history(self) -> None:
        wrong = given_at(12, 5, for_=ny(DAY, 12))
        old, marker = mark_entered_in_error(
            wrong, id="fix-1", at=ny(DAY, 12, 30), nurse_name="A. Lee", notes="wrong student"
        )
        assert old.superseded and marker.supersedes_id == wrong.id
        assert marker.status is LogStatus.ENTERED_IN_ERROR
        result = dose_statuses([dose(12)], [old, marker], ny(DAY, 14))
        assert statuses(result) == [DoseStatus.MISSED]
        assert history([old, marker], marker.id) == [old, marker]
        assert history([old, marker], old.id) == [old, marker]

    def test_a_correction_replaces_the_record(self) -> None:
        first = given_at(12, 5, for_=ny(DAY, 12))
        replacement = not_given(12, 5, NotGivenReason.ABSENT, scheduled_for=ny(DAY, 12))
        old, new = correct(first, replacement)
        assert (old.superseded, new.supersedes_id) == (True, first.id)
        result = dose_statuses([dose(12)], [old, new], ny(DAY, 14))
        assert statuses(result) == [DoseStatus.NOT_GIVEN]

    def test_superseded_by_link_even_without_the_flag(self) -> None:
        first = given_at(12, 5)
        _, new = correct(first, not_given(12, 6, NotGivenReason.HELD))
        assert current_logs([first, new]) == [new]  # the stale copy still says not superseded

    def test_only_the_newest_record_can_be_corrected(self) -> None:
        old, new = correct(given_at(12), given_at(12, 1))
        with pytest.raises(ValueError, match="newest"):
            correct(old, given_at(12, 2))
        with pytest.raises(ValueError):
            correct(new, given_at(12, 3, rx="other"))
        with pytest.raises(ValueError):
            correct(new, new)
        with pytest.raises(ValueError):
            mark_entered_in_error(new, id="e", at=ny(DAY, 13), nurse_name="x", notes="  ")


class TestLogValidation:
    def test_future_given_time_is_refused_beyond_clock_skew(self) -> None:
        now = ny(DAY, 12)
        validate_new_log(given_at(12, 4), now)  # within the 5-minute skew
        validate_new_log(given_at(12, 5), now)
        with pytest.raises(ValueError, match="future"):
            validate_new_log(given_at(12, 6), now)

    def test_mirrors_the_database_constraints(self) -> None:
        with pytest.raises(ValueError):
            DoseLog("a", "rx", LogStatus.NOT_GIVEN, ny(DAY, 12))  # no reason
        with pytest.raises(ValueError):
            DoseLog("a", "rx", LogStatus.GIVEN, ny(DAY, 12), reason=NotGivenReason.HELD)
        with pytest.raises(ValueError):
            DoseLog("a", "rx", LogStatus.NOT_GIVEN, ny(DAY, 12), reason=NotGivenReason.OTHER)
        with pytest.raises(ValueError):
            DoseLog("a", "rx", LogStatus.ENTERED_IN_ERROR, ny(DAY, 12))
        with pytest.raises(ValueError):
            DoseLog("a", "rx", LogStatus.GIVEN, datetime(2024, 10, 15, 12))  # naive


class TestPrescriptionChange:
    def test_a_change_does_not_turn_earlier_doses_into_missed(
        self, calendar: SchoolCalendar
    ) -> None:
        change = ny(DAY, 10, 30)
        old = Prescription(
            "v1", "at 8:00 and 12:00", date(2024, 9, 3), schedule_effective_until=change
        )
        new = Prescription(
            "v2", "at 9:00 and 13:00", date(2024, 9, 3), schedule_effective_from=change
        )
        logs = [given_at(8, 2, rx="v1")]
        plans = {p.id: doses_due_at_school(p, calendar, DAY).doses for p in (old, new)}
        result = bulk_dose_statuses(plans, logs, ny(DAY, 14, 30))
        assert statuses(result["v1"]) == [DoseStatus.COMPLETED]
        # 09:00 of the new schedule was never due: it is not MISSED, it does not exist.
        assert statuses(result["v2"]) == [DoseStatus.MISSED]
        assert [s.dose.scheduled_for.hour for s in result["v2"].doses] == [13]


class TestBulk:
    def test_groups_logs_by_prescription(self) -> None:
        doses = {"a": [dose(8, rx="a"), dose(12, rx="a")], "b": [dose(12, rx="b")], "c": []}
        logs = [given_at(8, 5, rx="a"), given_at(12, 1, rx="b"), given_at(12, 1, rx="zzz")]
        result = bulk_dose_statuses(doses, logs, ny(DAY, 12, 30))
        assert set(result) == {"a", "b", "c"}
        assert statuses(result["a"]) == [DoseStatus.COMPLETED, DoseStatus.DUE]
        assert statuses(result["b"]) == [DoseStatus.COMPLETED]
        assert result["c"] == DayStatus(())

    def test_bulk_equals_one_by_one(self) -> None:
        rng = random.Random(7)
        doses: dict[str, list[ScheduledDose]] = {}
        logs: list[DoseLog] = []
        for k in range(200):
            rx = f"rx{k}"
            doses[rx] = [
                dose(h, rx=rx) for h in sorted(rng.sample(range(8, 16), rng.randint(0, 3)))
            ]
            for _ in range(rng.randint(0, 3)):
                logs.append(given_at(rng.randint(7, 15), rng.randint(0, 59), rx=rx))
        now = ny(DAY, 13)
        bulk = bulk_dose_statuses(doses, logs, now)
        for rx, rx_doses in doses.items():
            mine = [log for log in logs if log.prescription_id == rx]
            assert bulk[rx] == dose_statuses(rx_doses, mine, now)


@st.composite
def day_of_doses(draw: st.DrawFn) -> tuple[list[ScheduledDose], list[DoseLog], datetime]:
    minutes = draw(st.lists(st.integers(7 * 60, 16 * 60), max_size=6, unique=True))
    log_minutes = draw(st.lists(st.integers(6 * 60, 17 * 60), max_size=6, unique=True))
    doses = [dose(m // 60, m % 60) for m in minutes]
    logs = [given_at(m // 60, m % 60) for m in log_minutes]
    now = ny(DAY, 17, 30)
    return doses, logs, now


@settings(max_examples=300)
@given(day_of_doses(), st.randoms())
def test_matching_invariants(
    case: tuple[list[ScheduledDose], list[DoseLog], datetime], rnd: random.Random
) -> None:
    doses, logs, now = case
    result = dose_statuses(doses, logs, now)
    used = [s.log for s in result.doses if s.log is not None]
    assert len(used) == len({id(log) for log in used}), "a log satisfies at most one dose"
    assert len(used) + len(result.unmatched) == len(logs), "every log is accounted for"
    for state in result.doses:
        s = state.dose.scheduled_for
        if state.status is DoseStatus.COMPLETED:
            assert state.log is not None and abs(state.log.time_given - s) <= timedelta(hours=1)
        if state.status is DoseStatus.LATE:
            assert state.log is not None and state.log.time_given > s + timedelta(hours=1)
    shuffled = list(logs)
    rnd.shuffle(shuffled)
    assert statuses(dose_statuses(doses, shuffled, now)) == statuses(result)
