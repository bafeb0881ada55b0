"""Rule 4 in the domain: one dose, one truth, whatever the dose tag says; override reasons are
sentences; plausibility findings (issue 9)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medapp.domain.checks import (
    DoseRefused,
    Override,
    OverrideReasonError,
    WarningCode,
    check_can_give,
    check_can_record_not_given,
    override_reason_problem,
)
from medapp.domain.doses import DoseLog, LogStatus, NotGivenReason
from medapp.domain.schedule import Prescription
from medapp.domain.school import SchoolCalendar
from tests.domain.helpers import ny

DAY = date(2024, 10, 15)  # a Tuesday
NOON = ny(DAY, 12)


def rx(frequency: str = "at 12:00", **kw: object) -> Prescription:
    return Prescription(
        **{"id": "rx", "frequency": frequency, "start_date": date(2024, 9, 3), **kw}
    )  # type: ignore[arg-type]


def given_log(
    at: datetime, tag: datetime | None, id: str = "g1", nurse: str = "David Chen"
) -> DoseLog:
    return DoseLog(id, "rx", LogStatus.GIVEN, at, scheduled_for=tag, nurse_name=nurse)


def not_given_log(at: datetime, tag: datetime | None, id: str = "n1") -> DoseLog:
    return DoseLog(
        id,
        "rx",
        LogStatus.NOT_GIVEN,
        at,
        scheduled_for=tag,
        nurse_name="Nora Nurse",
        reason=NotGivenReason.REFUSED,
    )


def codes(decision: object) -> set[WarningCode]:
    return {w.code for w in decision.warnings}  # type: ignore[attr-defined]


class TestWhateverTheTag:
    @pytest.mark.parametrize(
        "tag",
        [
            NOON,
            NOON + timedelta(seconds=1),
            NOON - timedelta(seconds=1),
            NOON + timedelta(minutes=1),
            NOON + timedelta(seconds=59),
            None,
        ],
    )
    def test_a_second_given_is_refused(self, calendar: SchoolCalendar, tag: object) -> None:
        first = given_log(ny(DAY, 12, 5), tag)  # type: ignore[arg-type]
        for second_tag in (NOON, NOON + timedelta(seconds=1), None):
            decision = check_can_give(
                rx(),
                calendar,
                at=ny(DAY, 12, 20),
                now=ny(DAY, 12, 20),
                logs=[first],
                scheduled_for=second_tag,
            )
            assert codes(decision) == {WarningCode.ALREADY_GIVEN}
            with pytest.raises(DoseRefused) as refused:
                decision.authorize(Override("student says they did not get it"))
            assert refused.value.existing_log_id == "g1"
            assert str(refused.value) == (
                "Already given at 12:05 by David Chen. If that record is wrong, use Correct… on it."
            )

    def test_a_tag_off_by_seconds_is_snapped_to_the_dose(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(),
            calendar,
            at=ny(DAY, 12, 5),
            now=ny(DAY, 12, 5),
            scheduled_for=NOON + timedelta(seconds=1),
        )
        assert decision.allowed and decision.scheduled_for == NOON


def test_doses_a_window_apart_are_two_doses(calendar: SchoolCalendar) -> None:
    p = rx("at 11:00 and 12:00")
    first = given_log(ny(DAY, 11, 5), ny(DAY, 11))
    decision = check_can_give(
        p, calendar, at=ny(DAY, 12, 5), now=ny(DAY, 12, 5), logs=[first], scheduled_for=NOON
    )
    assert decision.allowed and decision.scheduled_for == NOON


class TestEarlyAndLate:
    def test_an_early_dose_with_override_satisfies_the_dose(self, calendar: SchoolCalendar) -> None:
        early = check_can_give(rx(), calendar, at=ny(DAY, 10, 55), now=ny(DAY, 10, 55))
        assert codes(early) == {WarningCode.EARLY_DOSE} and early.scheduled_for == NOON
        early.authorize(Override("field trip leaves at eleven"))
        logged = given_log(ny(DAY, 10, 55), early.scheduled_for)
        # 65 minutes later, from the reminder list: refused
        again = check_can_give(
            rx(), calendar, at=ny(DAY, 12), now=ny(DAY, 12), logs=[logged], scheduled_for=NOON
        )
        assert codes(again) == {WarningCode.ALREADY_GIVEN}

    def test_an_early_tagged_dose_needs_an_override(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(), calendar, at=ny(DAY, 10, 30), now=ny(DAY, 10, 30), scheduled_for=NOON
        )
        assert codes(decision) == {WarningCode.EARLY_DOSE}

    def test_an_untagged_late_dose_is_linked_to_the_missed_dose(
        self, calendar: SchoolCalendar
    ) -> None:
        decision = check_can_give(rx(), calendar, at=ny(DAY, 13, 30), now=ny(DAY, 13, 30))
        assert codes(decision) == {WarningCode.NOT_SCHEDULED}
        assert decision.scheduled_for == NOON

    def test_a_late_extra_dose_after_the_day_is_done_is_refused(
        self, calendar: SchoolCalendar
    ) -> None:
        decision = check_can_give(
            rx(),
            calendar,
            at=ny(DAY, 14, 30),
            now=ny(DAY, 14, 30),
            logs=[given_log(ny(DAY, 12, 1), NOON)],
        )
        assert codes(decision) == {WarningCode.ALREADY_GIVEN}


class TestNotGiven:
    def test_not_given_refused_when_given(self, calendar: SchoolCalendar) -> None:
        decision = check_can_record_not_given(
            rx(),
            calendar,
            at=ny(DAY, 12, 30),
            now=ny(DAY, 12, 30),
            logs=[given_log(ny(DAY, 12, 5), NOON + timedelta(seconds=30))],
            scheduled_for=NOON,
        )
        assert codes(decision) == {WarningCode.GIVEN_ON_FILE}
        with pytest.raises(DoseRefused, match="Correct…") as refused:
            decision.authorize(Override("the student vomited it out"))
        assert refused.value.existing_log_id == "g1"

    def test_given_after_not_given_asks_and_supersedes(self, calendar: SchoolCalendar) -> None:
        refused = not_given_log(ny(DAY, 12), NOON)
        decision = check_can_give(
            rx(), calendar, at=ny(DAY, 12, 20), now=ny(DAY, 12, 20), logs=[refused]
        )
        assert codes(decision) == {WarningCode.NOT_GIVEN_ON_FILE}
        assert decision.supersedes_id == "n1" and decision.scheduled_for == NOON
        with pytest.raises(DoseRefused, match="written override reason"):
            decision.authorize()
        assert decision.authorize(Override("student came back and took it"))

    def test_not_given_twice_is_refused(self, calendar: SchoolCalendar) -> None:
        decision = check_can_record_not_given(
            rx(),
            calendar,
            at=ny(DAY, 12, 30),
            now=ny(DAY, 12, 30),
            logs=[not_given_log(ny(DAY, 11, 50), None)],
            scheduled_for=NOON,
        )
        assert codes(decision) == {WarningCode.ALREADY_NOT_GIVEN}

    def test_sent_home_sick_covers_todays_remaining_doses_only(
        self, calendar: SchoolCalendar
    ) -> None:
        p = rx("at 11:00 and 14:00")
        today = check_can_record_not_given(
            p, calendar, at=ny(DAY, 10), now=ny(DAY, 10), scheduled_for=ny(DAY, 14)
        )
        assert today.allowed and today.scheduled_for == ny(DAY, 14)
        tomorrow = check_can_record_not_given(
            p,
            calendar,
            at=ny(DAY, 10),
            now=ny(DAY, 10),
            scheduled_for=ny(DAY, 11) + timedelta(days=1),
        )
        assert codes(tomorrow) == {WarningCode.LATER_DAY}
        with pytest.raises(DoseRefused, match="later school day"):
            tomorrow.authorize(Override("the parent called about tomorrow"))

    def test_given_for_a_later_day_is_refused(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(),
            calendar,
            at=ny(DAY, 12),
            now=ny(DAY, 12),
            scheduled_for=NOON + timedelta(days=1),
        )
        assert WarningCode.LATER_DAY in codes(decision) and decision.blockers


class TestPrnWhateverTheCommand:
    p = rx("1 tab q4h prn headache, max 2 per day")

    def test_a_scheduled_for_does_not_skip_the_limits(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            self.p,
            calendar,
            at=ny(DAY, 11),
            now=ny(DAY, 11),
            logs=[given_log(ny(DAY, 9), None)],
            scheduled_for=ny(DAY, 11),
        )
        assert codes(decision) == {WarningCode.PRN_MIN_INTERVAL}
        assert decision.scheduled_for is None  # a PRN dose carries no dose tag

    def test_unreadable_prn_text_still_uses_the_entered_limits(
        self, calendar: SchoolCalendar
    ) -> None:
        p = rx("per nurse", is_prn=True, prn_min_interval=timedelta(hours=4))
        decision = check_can_give(
            p, calendar, at=ny(DAY, 11), now=ny(DAY, 11), logs=[given_log(ny(DAY, 9), None)]
        )
        assert WarningCode.PRN_MIN_INTERVAL in codes(decision)


class TestOverrideReasons:
    @pytest.mark.parametrize("reason", ["", "   ", "ok", "asked", "..........", "1234567890!"])
    def test_not_a_sentence(self, reason: str) -> None:
        assert override_reason_problem(reason)
        with pytest.raises(OverrideReasonError) as exc:
            Override(reason)
        assert str(exc.value).endswith(".") and len(str(exc.value)) > 30

    @pytest.mark.parametrize("reason", ["Dr. Lee phoned: may give", "field trip at 10"])
    def test_sentences(self, reason: str) -> None:
        assert override_reason_problem(reason) is None
        assert Override(reason).reason == reason


class TestPlausibilityFindings:
    def test_dose_text_and_quantity_need_a_reason(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(),
            calendar,
            at=ny(DAY, 12),
            now=ny(DAY, 12),
            order_dose="1 tab",
            dosage_given="50 tablets",
            quantity_used=25,
            product_strength="10 mg",
        )
        assert codes(decision) == {WarningCode.DOSE_DIFFERS, WarningCode.QUANTITY_OVER_ORDER}
        assert not decision.blockers and decision.needs_override

    def test_same_dose_written_differently_is_fine(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(),
            calendar,
            at=ny(DAY, 12),
            now=ny(DAY, 12),
            order_dose="1 tab",
            dosage_given="1 tablet",
            quantity_used=1,
        )
        assert decision.allowed

    def test_order_strength_conflict_is_a_notice(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(),
            calendar,
            at=ny(DAY, 12),
            now=ny(DAY, 12),
            order_dose="15 mg",
            product_strength="10 mg",
        )
        assert codes(decision) == {WarningCode.DOSE_STRENGTH_CONFLICT} and decision.allowed


_OFFSETS = st.integers(min_value=-90 * 60, max_value=90 * 60)


@settings(max_examples=200, deadline=None)
@given(
    first=st.tuples(_OFFSETS, st.one_of(st.none(), _OFFSETS)),
    second=st.tuples(_OFFSETS, st.one_of(st.none(), _OFFSETS)),
)
def test_property_the_rules_never_allow_two_givens_for_one_dose(
    first: tuple[int, int | None], second: tuple[int, int | None]
) -> None:
    """Whatever the two tags and times, if the first GIVEN satisfies the noon dose, the second
    is refused — or it is for no dose at all and a blocking finding asks for a reason."""
    calendar = SchoolCalendar(timezone="America/New_York")
    at1, tag1 = first
    at2, tag2 = second
    now = NOON + timedelta(hours=2)
    log = given_log(
        NOON + timedelta(seconds=at1),
        NOON + timedelta(seconds=tag1) if tag1 is not None else None,
    )
    key = log.scheduled_for or log.time_given
    decision = check_can_give(
        rx(),
        calendar,
        at=NOON + timedelta(seconds=at2),
        now=now,
        logs=[log],
        scheduled_for=NOON + timedelta(seconds=tag2) if tag2 is not None else None,
    )
    if abs(key - NOON) <= calendar.dose_window and decision.scheduled_for == NOON:
        assert decision.has(WarningCode.ALREADY_GIVEN) and decision.blockers
