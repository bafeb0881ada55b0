"""check_can_give: duplicate doses, future times, authorization, PRN limits, allergies, overrides."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from medapp.domain.checks import (
    DoseRefused,
    Override,
    WarningCode,
    allergy_matches,
    check_can_give,
)
from medapp.domain.doses import DoseLog, LogStatus
from medapp.domain.schedule import Prescription
from medapp.domain.school import SchoolCalendar
from tests.domain.helpers import ny

DAY = date(2024, 10, 15)


def rx(frequency: str = "at 12:00", **kw: object) -> Prescription:
    return Prescription(
        **{"id": "rx", "frequency": frequency, "start_date": date(2024, 9, 3), **kw}
    )  # type: ignore[arg-type]


def log(hh: int, mm: int = 0, for_hh: int | None = None, nurse: str = "J. Smith") -> DoseLog:
    return DoseLog(
        f"l{hh}{mm}",
        "rx",
        LogStatus.GIVEN,
        ny(DAY, hh, mm),
        scheduled_for=ny(DAY, for_hh) if for_hh is not None else None,
        nurse_name=nurse,
    )


def codes(decision: object) -> set[WarningCode]:
    return {w.code for w in decision.warnings}  # type: ignore[attr-defined]


def test_a_normal_scheduled_dose_is_allowed(calendar: SchoolCalendar) -> None:
    decision = check_can_give(rx(), calendar, at=ny(DAY, 12, 5), now=ny(DAY, 12, 5))
    assert decision.allowed and decision.warnings == ()
    assert decision.scheduled_for == ny(DAY, 12)  # picked the dose whose window holds 12:05
    assert decision.authorize() is None


class TestAlreadyGiven:
    def test_refused_with_time_and_nurse(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(), calendar, at=ny(DAY, 12, 20), now=ny(DAY, 12, 20), logs=[log(12, 3, 12)]
        )
        [warning] = decision.warnings
        assert warning.code is WarningCode.ALREADY_GIVEN
        assert warning.message == (
            "Already given at 12:03 by J. Smith. If that record is wrong, use Correct… on it."
        )
        assert warning.log_id == "l123"
        assert warning.blocking and not warning.overridable
        with pytest.raises(DoseRefused):
            decision.authorize(Override("student says they did not get it"))

    def test_untagged_log_in_the_window_counts(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(), calendar, at=ny(DAY, 12, 30), now=ny(DAY, 12, 30), logs=[log(11, 50)]
        )
        assert codes(decision) == {WarningCode.ALREADY_GIVEN}

    def test_a_corrected_log_does_not_count(self, calendar: SchoolCalendar) -> None:
        wrong = DoseLog(
            "w", "rx", LogStatus.GIVEN, ny(DAY, 12), scheduled_for=ny(DAY, 12), superseded=True
        )
        decision = check_can_give(
            rx(), calendar, at=ny(DAY, 12, 10), now=ny(DAY, 12, 10), logs=[wrong]
        )
        assert decision.allowed

    def test_the_other_dose_of_the_day_is_still_allowed(self, calendar: SchoolCalendar) -> None:
        p = rx("at 9:00 and 13:00")
        decision = check_can_give(p, calendar, at=ny(DAY, 13), now=ny(DAY, 13), logs=[log(9, 2, 9)])
        assert decision.allowed and decision.scheduled_for == ny(DAY, 13)


def test_future_time_beyond_clock_skew_is_refused(calendar: SchoolCalendar) -> None:
    now = ny(DAY, 12)
    ok = check_can_give(rx(), calendar, at=now + timedelta(minutes=5), now=now)
    assert WarningCode.FUTURE_TIME not in codes(ok)
    bad = check_can_give(rx(), calendar, at=now + timedelta(minutes=6), now=now)
    assert WarningCode.FUTURE_TIME in codes(bad)
    with pytest.raises(DoseRefused, match="future"):
        bad.authorize(Override("the clock is wrong"))


class TestAuthorization:
    def test_expired_blocks(self, calendar: SchoolCalendar) -> None:
        p = rx(authorization_expires=date(2024, 10, 14))
        decision = check_can_give(p, calendar, at=ny(DAY, 12), now=ny(DAY, 12))
        assert codes(decision) == {WarningCode.AUTHORIZATION_EXPIRED}
        with pytest.raises(DoseRefused, match="expired"):
            decision.authorize(Override("parent on the phone"))

    def test_expiring_is_a_notice(self, calendar: SchoolCalendar) -> None:
        p = rx(authorization_expires=date(2024, 10, 25))
        decision = check_can_give(p, calendar, at=ny(DAY, 12), now=ny(DAY, 12))
        assert codes(decision) == {WarningCode.AUTHORIZATION_EXPIRING}
        assert decision.allowed and decision.notices and decision.authorize() is None

    @pytest.mark.parametrize(
        ("kw", "code"),
        [
            ({"is_active": False}, WarningCode.NOT_ACTIVE),
            ({"start_date": date(2024, 10, 16)}, WarningCode.NOT_STARTED),
            ({"end_date": date(2024, 10, 14)}, WarningCode.ENDED),
        ],
    )
    def test_order_not_in_force(
        self, calendar: SchoolCalendar, kw: dict[str, object], code: WarningCode
    ) -> None:
        decision = check_can_give(rx(**kw), calendar, at=ny(DAY, 12), now=ny(DAY, 12))
        assert code in codes(decision) and not decision.allowed
        with pytest.raises(DoseRefused):
            decision.authorize(Override("parent asked us to give it"))


class TestPrn:
    p = rx("2 puffs q4h prn wheezing, max 3 per day")

    def test_too_soon_needs_a_written_override(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            self.p, calendar, at=ny(DAY, 11), now=ny(DAY, 11), logs=[log(9, 30)]
        )
        [warning] = decision.warnings
        assert warning.code is WarningCode.PRN_MIN_INTERVAL
        assert warning.overridable and warning.earliest_allowed == ny(DAY, 13, 30)
        with pytest.raises(DoseRefused, match="override reason"):
            decision.authorize()
        with pytest.raises(ValueError):
            Override("   ")
        record = decision.authorize(Override("Prescriber called: may repeat once"))
        assert record is not None and record.codes == (WarningCode.PRN_MIN_INTERVAL,)
        assert "PRN_MIN_INTERVAL" in record.as_text() and "Prescriber called" in record.as_text()

    def test_daily_maximum(self, calendar: SchoolCalendar) -> None:
        logs = [log(8), log(12, 10), log(16, 20)]
        decision = check_can_give(self.p, calendar, at=ny(DAY, 21), now=ny(DAY, 21), logs=logs)
        assert WarningCode.PRN_MAX_PER_DAY in codes(decision)

    def test_within_limits(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            self.p, calendar, at=ny(DAY, 14), now=ny(DAY, 14), logs=[log(9, 30)]
        )
        assert decision.allowed


class TestSchedule:
    def test_an_early_dose_needs_an_override_and_is_linked(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(rx(), calendar, at=ny(DAY, 9), now=ny(DAY, 9))
        assert codes(decision) == {WarningCode.EARLY_DOSE}
        assert decision.scheduled_for == ny(DAY, 12)  # recorded as the noon dose
        assert decision.authorize(Override("field trip leaves at 10")) is not None

    def test_no_school_dose_at_all_needs_an_override(self, calendar: SchoolCalendar) -> None:
        saturday = date(2024, 10, 19)
        decision = check_can_give(rx(), calendar, at=ny(saturday, 9), now=ny(saturday, 9))
        assert codes(decision) == {WarningCode.NOT_SCHEDULED}
        assert decision.scheduled_for is None

    def test_late_dose_is_a_notice(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(), calendar, at=ny(DAY, 13, 30), now=ny(DAY, 13, 30), scheduled_for=ny(DAY, 12)
        )
        assert codes(decision) == {WarningCode.LATE_DOSE}
        assert decision.allowed

    def test_unreadable_frequency_is_overridable(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx("per nurse judgement"), calendar, at=ny(DAY, 12), now=ny(DAY, 12)
        )
        assert codes(decision) == {WarningCode.FREQUENCY_INVALID}
        assert decision.needs_override

    def test_explicit_times_are_used(self, calendar: SchoolCalendar) -> None:
        p = rx("bid", administration_times=(time(11, 30),))
        assert check_can_give(p, calendar, at=ny(DAY, 11, 35), now=ny(DAY, 11, 35)).allowed


class TestAllergy:
    def test_matching_allergy_needs_an_override(self, calendar: SchoolCalendar) -> None:
        decision = check_can_give(
            rx(),
            calendar,
            at=ny(DAY, 12),
            now=ny(DAY, 12),
            medication_names=["Amoxil", "amoxicillin trihydrate"],
            allergens=["Penicillin", "peanuts"],
        )
        [warning] = decision.warnings
        assert warning.code is WarningCode.ALLERGY and "Penicillin" in warning.message
        assert warning.overridable
        record = decision.authorize(Override("Allergy is a rash, prescriber aware"))
        assert record is not None and record.codes == (WarningCode.ALLERGY,)

    def test_defaults_to_the_prescription_medication_name(self, calendar: SchoolCalendar) -> None:
        p = rx(medication_name="Ibuprofen 200 mg tablet")
        decision = check_can_give(
            p, calendar, at=ny(DAY, 12), now=ny(DAY, 12), allergens=["NSAIDs"]
        )
        assert codes(decision) == {WarningCode.ALLERGY}


@pytest.mark.parametrize(
    ("names", "allergens", "expected"),
    [
        (["Bactrim", "sulfamethoxazole and trimethoprim"], ["Sulfa"], ("Sulfa",)),
        (["Advil"], ["ibuprofen"], ()),  # brand only: the generic name is needed
        (["Advil", "Ibuprofen"], ["IBUPROFEN"], ("IBUPROFEN",)),
        (["Augmentin", "amoxicillin and clavulanate potassium"], ["penicillins"], ("penicillins",)),
        (["Keflex", "cephalexin"], ["Cephalosporins"], ("Cephalosporins",)),
        (["Tylenol with Codeine"], ["codeine"], ("codeine",)),
        (["Cetirizine hydrochloride"], ["Penicillin", "eggs", "latex"], ()),
        (["Acetaminophen"], ["eggs"], ()),
        (["Sodium chloride"], ["sodium"], ()),  # salts are not allergens
        (["EpiPen", "epinephrine"], ["Peanut"], ()),
        ([], ["Penicillin"], ()),
    ],
)
def test_allergy_matches(names: list[str], allergens: list[str], expected: tuple[str, ...]) -> None:
    assert allergy_matches(names, allergens) == expected
