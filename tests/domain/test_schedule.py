"""What is due at school: school hours, school days, dates, authorization, DST, versions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from medapp.domain.frequency import FrequencyError
from medapp.domain.schedule import (
    DayPlan,
    PlanFlagCode,
    Prescription,
    ScheduledDose,
    doses_due_at_school,
    effective_frequency,
)
from medapp.domain.school import SchoolCalendar
from tests.domain.helpers import NY, ny

TUE = date(2024, 10, 15)  # an ordinary school Tuesday


def rx(frequency: str = "tid", **kwargs: object) -> Prescription:
    fields: dict[str, object] = {
        "id": "rx-1",
        "frequency": frequency,
        "start_date": date(2024, 9, 3),
    }
    fields.update(kwargs)
    return Prescription(**fields)  # type: ignore[arg-type]


def wall_times(plan: DayPlan) -> list[str]:
    return [d.scheduled_for.strftime("%H:%M") for d in plan.doses]


def test_only_doses_in_school_hours(calendar: SchoolCalendar) -> None:
    plan = doses_due_at_school(rx("at 8:00, 14:00 and 20:00"), calendar, TUE)
    assert wall_times(plan) == ["08:00", "14:00"]
    assert plan.flags == ()
    assert all(isinstance(d, ScheduledDose) and d.prescription_id == "rx-1" for d in plan.doses)
    assert all(d.scheduled_for.tzinfo == NY for d in plan.doses)
    assert plan.doses[0].scheduled_for == ny(TUE, 8)


def test_school_day_bounds_are_inclusive(calendar: SchoolCalendar) -> None:
    plan = doses_due_at_school(rx("at 8:00 and 15:00 and 15:01 and 7:59"), calendar, TUE)
    assert wall_times(plan) == ["08:00", "15:00"]


def test_explicit_administration_times_win(calendar: SchoolCalendar) -> None:
    plan = doses_due_at_school(rx("bid", administration_times=(time(11, 30),)), calendar, TUE)
    assert wall_times(plan) == ["11:30"]
    assert plan.flags == ()


def test_explicit_times_are_sorted_and_deduplicated() -> None:
    p = rx("bid", administration_times=(time(13), time(11, 30), time(13)))
    assert p.administration_times == (time(11, 30), time(13))


def test_school_lunch_time_is_used_for_with_lunch(calendar: SchoolCalendar) -> None:
    early_lunch = SchoolCalendar(lunch_time=time(11, 15))
    assert wall_times(doses_due_at_school(rx("with lunch"), early_lunch, TUE)) == ["11:15"]
    assert wall_times(doses_due_at_school(rx("with lunch"), calendar, TUE)) == ["12:00"]


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2024, 10, 19), "weekend"),
        (date(2024, 10, 20), "weekend"),
        (date(2024, 11, 28), "closed"),
    ],
)
def test_no_doses_on_weekends_and_closed_days(
    calendar: SchoolCalendar, day: date, why: str
) -> None:
    plan = doses_due_at_school(rx("daily at 11:30"), calendar, day)
    assert plan.doses == ()
    flag = plan.flag(PlanFlagCode.NOT_A_SCHOOL_DAY)
    assert flag is not None and why in flag.message


def test_custom_weekend(calendar: SchoolCalendar) -> None:
    six_day = SchoolCalendar(weekend_days=frozenset({6}))
    assert wall_times(doses_due_at_school(rx("at 11:30"), six_day, date(2024, 10, 19))) == ["11:30"]


def test_start_and_end_dates_are_inclusive(calendar: SchoolCalendar) -> None:
    p = rx("at 11:30", start_date=date(2024, 10, 14), end_date=date(2024, 10, 16))
    assert doses_due_at_school(p, calendar, date(2024, 10, 11)).has(PlanFlagCode.NOT_STARTED)
    assert wall_times(doses_due_at_school(p, calendar, date(2024, 10, 14))) == ["11:30"]
    assert wall_times(doses_due_at_school(p, calendar, date(2024, 10, 16))) == ["11:30"]
    ended = doses_due_at_school(p, calendar, date(2024, 10, 17))
    assert ended.doses == () and ended.has(PlanFlagCode.ENDED)


def test_inactive_prescription(calendar: SchoolCalendar) -> None:
    plan = doses_due_at_school(rx(is_active=False), calendar, TUE)
    assert plan.doses == () and plan.has(PlanFlagCode.NOT_ACTIVE)


def test_prescription_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        rx(start_date=date(2024, 10, 2), end_date=date(2024, 10, 1))


class TestAuthorization:
    def test_expired_authorization_blocks(self, calendar: SchoolCalendar) -> None:
        p = rx("at 11:30", authorization_expires=date(2024, 10, 20))
        last_day = doses_due_at_school(p, calendar, date(2024, 10, 18))
        assert wall_times(last_day) == ["11:30"]
        after = doses_due_at_school(p, calendar, date(2024, 10, 21))
        assert after.doses == ()
        flag = after.flag(PlanFlagCode.AUTHORIZATION_EXPIRED)
        assert flag is not None and "2024-10-20" in flag.message

    def test_warning_starts_14_days_before(self, calendar: SchoolCalendar) -> None:
        p = rx("at 11:30", authorization_expires=date(2024, 10, 29))
        assert not doses_due_at_school(p, calendar, date(2024, 10, 14)).flags  # 15 days left
        warned = doses_due_at_school(p, calendar, date(2024, 10, 15))  # 14 days left
        assert warned.has(PlanFlagCode.AUTHORIZATION_EXPIRING)
        assert wall_times(warned) == ["11:30"]  # a warning, not a block
        expiring = warned.flag(PlanFlagCode.AUTHORIZATION_EXPIRING)
        assert expiring is not None and "in 14 days" in expiring.message
        today = doses_due_at_school(p, calendar, date(2024, 10, 29))
        assert today.has(PlanFlagCode.AUTHORIZATION_EXPIRING) and today.doses

    def test_defaults_to_the_end_of_the_school_year(self, calendar: SchoolCalendar) -> None:
        p = rx("at 11:30")  # calendar.school_year_end = 2025-06-20 (a Friday)
        assert doses_due_at_school(p, calendar, date(2025, 6, 9)).has(
            PlanFlagCode.AUTHORIZATION_EXPIRING
        )
        after = doses_due_at_school(p, calendar, date(2025, 6, 23))
        assert after.has(PlanFlagCode.AUTHORIZATION_EXPIRED) and after.doses == ()

    def test_unknown_expiry_gives_no_flag(self) -> None:
        assert not doses_due_at_school(rx("at 11:30"), SchoolCalendar(), TUE).flags


def test_several_flags_are_reported_together(calendar: SchoolCalendar) -> None:
    p = rx("at 11:30", authorization_expires=date(2024, 10, 25))
    plan = doses_due_at_school(p, calendar, date(2024, 10, 19))  # a Saturday
    assert plan.codes == {PlanFlagCode.NOT_A_SCHOOL_DAY, PlanFlagCode.AUTHORIZATION_EXPIRING}


class TestFrequencyProblems:
    def test_unparseable_frequency_is_a_flag_never_9am(self, calendar: SchoolCalendar) -> None:
        plan = doses_due_at_school(rx("take 1 tablet by mouth"), calendar, TUE)
        assert plan.doses == ()
        flag = plan.flag(PlanFlagCode.FREQUENCY_INVALID)
        assert flag is not None and "No dosing frequency" in flag.message
        with pytest.raises(FrequencyError):
            effective_frequency(rx("take 1 tablet by mouth"))

    def test_seed_bug_every_3_days_is_not_tid(self, calendar: SchoolCalendar) -> None:
        p = rx("every 3 days at 11:30", start_date=date(2024, 10, 14))
        assert wall_times(doses_due_at_school(p, calendar, date(2024, 10, 14))) == ["11:30"]
        home = rx("every 3 days", start_date=date(2024, 10, 14))
        plan = doses_due_at_school(home, calendar, date(2024, 10, 14))
        assert plan.doses == () and plan.has(PlanFlagCode.HOME_DOSES_ONLY)
        assert doses_due_at_school(p, calendar, date(2024, 10, 15)).has(
            PlanFlagCode.NOT_A_DOSING_DAY
        )

    def test_explicit_times_rescue_unreadable_text_with_a_flag(
        self, calendar: SchoolCalendar
    ) -> None:
        p = rx("per school nurse", administration_times=(time(12, 15),))
        plan = doses_due_at_school(p, calendar, TUE)
        assert wall_times(plan) == ["12:15"]
        assert plan.has(PlanFlagCode.FREQUENCY_TEXT_IGNORED)

    def test_prn_has_no_scheduled_doses(self, calendar: SchoolCalendar) -> None:
        plan = doses_due_at_school(rx("2 puffs q4h prn wheezing"), calendar, TUE)
        assert plan.doses == () and plan.has(PlanFlagCode.PRN_ONLY)
        assert plan.frequency is not None and plan.frequency.prn

    def test_prn_flag_on_the_prescription(self, calendar: SchoolCalendar) -> None:
        p = rx("every 4 hours", is_prn=True, prn_max_per_day=2)
        f = effective_frequency(p, calendar)
        assert f.prn and f.times == () and f.max_per_day == 2
        assert f.min_interval == timedelta(hours=4)
        assert effective_frequency(rx("bid", is_prn=True)).max_per_day == 2
        plan = doses_due_at_school(rx("per nurse", is_prn=True), calendar, TUE)
        assert plan.codes == {PlanFlagCode.PRN_ONLY, PlanFlagCode.FREQUENCY_TEXT_IGNORED}

    def test_stricter_prn_limit_wins(self) -> None:
        p = rx("q4h prn max 4 per day", prn_min_interval=timedelta(hours=3), prn_max_per_day=6)
        f = effective_frequency(p)
        assert (f.min_interval, f.max_per_day) == (timedelta(hours=4), 4)
        p = rx("q4h prn max 4 per day", prn_min_interval=timedelta(hours=6), prn_max_per_day=2)
        f = effective_frequency(p)
        assert (f.min_interval, f.max_per_day) == (timedelta(hours=6), 2)

    def test_home_only_schedule(self, calendar: SchoolCalendar) -> None:
        plan = doses_due_at_school(rx("at bedtime"), calendar, TUE)
        assert plan.doses == () and plan.codes == {PlanFlagCode.HOME_DOSES_ONLY}
        evening = doses_due_at_school(rx("at 7:00 pm"), calendar, TUE)
        assert evening.doses == () and evening.codes == {PlanFlagCode.NO_DOSES_IN_SCHOOL_HOURS}


class TestDaySpacing:
    def test_every_other_day_counts_from_the_start_date(self, calendar: SchoolCalendar) -> None:
        p = rx("every other day at 11:30", start_date=date(2024, 10, 14))
        due = [d for d in (date(2024, 10, 14) + timedelta(days=k) for k in range(5))]
        planned = [bool(doses_due_at_school(p, calendar, d).doses) for d in due]
        assert planned == [True, False, True, False, True]

    def test_weekly_from_the_start_weekday(self, calendar: SchoolCalendar) -> None:
        p = rx("weekly at noon", start_date=date(2024, 10, 16))  # a Wednesday
        assert doses_due_at_school(p, calendar, date(2024, 10, 23)).doses
        assert not doses_due_at_school(p, calendar, date(2024, 10, 22)).doses

    def test_named_days(self, calendar: SchoolCalendar) -> None:
        p = rx("M/W/F at 11:30")
        assert wall_times(doses_due_at_school(p, calendar, date(2024, 10, 16))) == ["11:30"]
        tuesday = doses_due_at_school(p, calendar, TUE)
        assert tuesday.doses == () and tuesday.has(PlanFlagCode.NOT_A_DOSING_DAY)


class TestDaylightSaving:
    def test_same_wall_clock_across_the_change(self, calendar: SchoolCalendar) -> None:
        p = rx("at 8:00", start_date=date(2024, 1, 2))
        before = doses_due_at_school(p, calendar, date(2024, 3, 8)).doses[0]
        after = doses_due_at_school(p, calendar, date(2024, 3, 11)).doses[0]
        assert before.scheduled_for.astimezone(UTC).hour == 13  # EST, UTC-5
        assert after.scheduled_for.astimezone(UTC).hour == 12  # EDT, UTC-4
        assert (before.scheduled_for.hour, after.scheduled_for.hour) == (8, 8)

    def test_on_the_transition_day_itself(self) -> None:
        open_sunday = SchoolCalendar(weekend_days=frozenset())
        p = rx("q4h", start_date=date(2024, 1, 2))
        spring = doses_due_at_school(p, open_sunday, date(2024, 3, 10))
        assert wall_times(spring) == ["12:00"]  # 08:00 is the family's morning dose
        assert [d.scheduled_for.utcoffset() for d in spring.doses] == [timedelta(hours=-4)]
        fall = doses_due_at_school(p, open_sunday, date(2024, 11, 3))
        assert [d.scheduled_for.utcoffset() for d in fall.doses] == [timedelta(hours=-5)]

    def test_wall_clock_gaps_and_repeats_are_resolved_one_way(self) -> None:
        cal = SchoolCalendar()
        gap = cal.at(date(2024, 3, 10), time(2, 30))  # does not exist: moves forward
        assert (gap.hour, gap.minute, gap.utcoffset()) == (3, 30, timedelta(hours=-4))
        repeat = cal.at(date(2024, 11, 3), time(1, 30))  # happens twice: the first one
        assert repeat.utcoffset() == timedelta(hours=-4)


class TestScheduleVersions:
    """A change of times is a new version; earlier doses stay with the old one."""

    def test_doses_before_the_change_belong_to_the_old_version(
        self, calendar: SchoolCalendar
    ) -> None:
        change = ny(TUE, 10, 30)
        old = rx("at 8:00 and 12:00", schedule_effective_until=change)
        new = rx("at 9:00 and 13:00", id="rx-2", schedule_effective_from=change)
        assert wall_times(doses_due_at_school(old, calendar, TUE)) == ["08:00"]
        new_plan = doses_due_at_school(new, calendar, TUE)
        assert wall_times(new_plan) == ["13:00"]  # 09:00 was before the change
        assert new_plan.has(PlanFlagCode.SCHEDULE_CHANGED)
        tomorrow = doses_due_at_school(new, calendar, TUE + timedelta(days=1))
        assert wall_times(tomorrow) == ["09:00", "13:00"]

    def test_effective_times_must_be_aware(self) -> None:
        with pytest.raises(ValueError):
            rx(schedule_effective_from=datetime(2024, 10, 15, 10, 30))


def test_calendar_validation() -> None:
    with pytest.raises(ValueError):
        SchoolCalendar(day_start=time(15), day_end=time(8))
    with pytest.raises(ValueError):
        SchoolCalendar(dose_window=timedelta(0))
    with pytest.raises(Exception):  # noqa: B017 - ZoneInfoNotFoundError
        SchoolCalendar(timezone="Mars/Olympus_Mons")


def test_local_date_uses_the_school_timezone(calendar: SchoolCalendar) -> None:
    late_utc = datetime(2024, 10, 16, 2, 30, tzinfo=UTC)  # 22:30 on the 15th in New York
    assert calendar.local_date(late_utc) == TUE
    with pytest.raises(ValueError):
        calendar.local_date(datetime(2024, 10, 15, 12))
