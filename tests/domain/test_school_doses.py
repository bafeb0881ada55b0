"""Issue 9, rules 1-3: which doses are school doses, counts, and text copied from the label.

Rule 1: a dose is on the school schedule only when the order names it for school (a clock time
or entered time in school hours, noon/lunch/"at school", or a frequency home cannot cover);
home wordings keep their default clock times in ``parse_frequency`` but give no school dose and
the HOME_DOSES_ONLY flag. Rule 2: "N per day" is a count, "take 3 daily" is a question. Rule 3:
a leading product name, strength, quantity and route are read past.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medapp.domain.frequency import (
    DEFAULT_TIMES,
    Frequency,
    FrequencyError,
    TimeSource,
    parse_frequency,
)
from medapp.domain.schedule import (
    HOME_DOSES_MESSAGE,
    DayPlan,
    PlanFlagCode,
    Prescription,
    doses_due_at_school,
    effective_frequency,
    school_dose_times,
)
from medapp.domain.school import SchoolCalendar

TUE = date(2024, 10, 15)


def rx(frequency: str, **kwargs: object) -> Prescription:
    fields: dict[str, object] = {"id": "rx", "frequency": frequency, "start_date": date(2024, 9, 3)}
    fields.update(kwargs)
    return Prescription(**fields)  # type: ignore[arg-type]


def wall(plan: DayPlan) -> list[str]:
    return [d.scheduled_for.strftime("%H:%M") for d in plan.doses]


def t(*hhmm: str) -> tuple[time, ...]:
    return tuple(time.fromisoformat(x) for x in hhmm)


# --- rule 1: the issue's examples -------------------------------------------------------------

ISSUE_EXAMPLES = [
    ("one tablet each morning", []),
    ("2 caps once a day", []),
    ("1 tab b.i.d.", []),
    ("four times a day", ["12:00"]),
    ("before meals", ["12:00"]),
    ("take at 12:15", ["12:15"]),
    ("qam", []),
    ("every morning", []),
    ("with breakfast", []),
    ("ac", ["12:00"]),
    ("pc", ["12:00"]),
    ("with meals", ["12:00"]),
    ("qd", []),
    ("bid", []),
    ("tid", []),
    ("at bedtime", []),
    ("every evening", []),
    ("at noon", ["12:00"]),
    ("midday", ["12:00"]),
    ("with lunch", ["12:00"]),
    ("daily at school", ["09:00"]),
]


@pytest.mark.parametrize(("text", "expected"), ISSUE_EXAMPLES, ids=[r[0] for r in ISSUE_EXAMPLES])
def test_issue_examples(text: str, expected: list[str], calendar: SchoolCalendar) -> None:
    plan = doses_due_at_school(rx(text), calendar, TUE)
    assert wall(plan) == expected
    if not expected:
        flag = plan.flag(PlanFlagCode.HOME_DOSES_ONLY)
        assert flag is not None and flag.message.startswith(HOME_DOSES_MESSAGE)


def test_home_doses_message_is_the_agreed_sentence() -> None:
    assert HOME_DOSES_MESSAGE == (
        "No school time named — given at home; enter a school time if the parent's form asks "
        "for one."
    )


def test_parse_keeps_the_default_table() -> None:
    """The parse contract is unchanged: the school decision is made by doses_due_at_school."""
    assert parse_frequency("every morning").times == t("08:00")
    assert parse_frequency("daily").times == t("09:00")
    assert parse_frequency("bid").times == t("09:00", "21:00")
    assert parse_frequency("tid").times == t("08:00", "14:00", "20:00")
    assert parse_frequency("qid").times == t("08:00", "12:00", "16:00", "20:00")
    assert parse_frequency("with meals").times == t("08:00", "12:00", "18:00")
    assert parse_frequency("q4h").times == tuple(time(h) for h in range(0, 24, 4))


SOURCES = [
    ("at 12:15", (TimeSource.CLOCK,)),
    ("every morning at 7:30", (TimeSource.CLOCK,)),
    ("noon", (TimeSource.SCHOOL,)),
    ("with lunch", (TimeSource.SCHOOL,)),
    ("every morning", (TimeSource.HOME,)),
    ("at bedtime", (TimeSource.HOME,)),
    ("daily", (TimeSource.COUNT,)),
    ("every other day", (TimeSource.COUNT,)),
    ("Mon/Wed/Fri", (TimeSource.COUNT,)),
    ("bid", (TimeSource.COUNT,) * 2),
    ("q12h", (TimeSource.INTERVAL,) * 2),
    ("with meals", (TimeSource.HOME, TimeSource.SCHOOL, TimeSource.HOME)),
    ("in the morning and at noon", (TimeSource.HOME, TimeSource.SCHOOL)),
    ("at noon and at 4 pm", (TimeSource.SCHOOL, TimeSource.CLOCK)),
    ("every morning at school", (TimeSource.SCHOOL,)),
    ("daily at school", (TimeSource.SCHOOL,)),
    ("with meals at school", (TimeSource.HOME, TimeSource.SCHOOL, TimeSource.HOME)),
    ("every morning at home and at 11:00am at school", (TimeSource.CLOCK,)),
]


@pytest.mark.parametrize(("text", "sources"), SOURCES, ids=[r[0] for r in SOURCES])
def test_each_time_carries_where_it_came_from(text: str, sources: tuple[TimeSource, ...]) -> None:
    f = parse_frequency(text)
    assert f.time_sources == sources
    assert f.sources() == sources


def test_interval_hours() -> None:
    assert parse_frequency("q6h").interval_hours == 6
    assert parse_frequency("every 12 hours").interval_hours == 12
    assert parse_frequency("bid").interval_hours is None
    assert parse_frequency("q6h prn").interval_hours is None


def test_hand_built_frequency_stays_compatible() -> None:
    f = Frequency(times=t("08:00", "12:00"))
    assert f.time_sources == () and f.sources() == (TimeSource.CLOCK, TimeSource.CLOCK)
    assert school_dose_times(f, SchoolCalendar()) == t("08:00", "12:00")
    with pytest.raises(FrequencyError):
        Frequency(times=t("08:00"), time_sources=(TimeSource.CLOCK, TimeSource.HOME))
    with pytest.raises(FrequencyError):
        Frequency(times=t("08:00"), interval_hours=0)


def test_entered_times_are_school_doses(calendar: SchoolCalendar) -> None:
    p = rx("every morning", administration_times=(time(8, 15),))
    assert wall(doses_due_at_school(p, calendar, TUE)) == ["08:15"]
    f = effective_frequency(p, calendar)
    assert f.time_sources == (TimeSource.ENTERED,) and f.interval_hours is None
    unreadable = rx("per school nurse", administration_times=(time(12, 15),))
    assert effective_frequency(unreadable).time_sources == (TimeSource.ENTERED,)
    prn = effective_frequency(rx("q4h", is_prn=True))
    assert prn.time_sources == () and prn.interval_hours is None


def test_qid_gives_the_schools_lunch_dose() -> None:
    early = SchoolCalendar(day_start=time(7, 20), day_end=time(14, 20), lunch_time=time(11, 15))
    assert school_dose_times(parse_frequency("qid", early.time_defaults), early) == t("11:15")
    assert wall(doses_due_at_school(rx("4 times a day"), early, TUE)) == ["11:15"]
    assert wall(doses_due_at_school(rx("before meals"), early, TUE)) == ["11:15"]
    assert wall(doses_due_at_school(rx("noon"), early, TUE)) == ["12:00"]  # noon is noon


class TestShortIntervals:
    """q6h and shorter: the doses whose whole ±window lies in school hours."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("q6h", ["12:00"]),
            ("q4h", ["12:00"]),  # 08:00 is the family's morning dose
            ("q3h", ["09:00", "12:00"]),  # 15:00 is given at home after school
            ("q2h", ["10:00", "12:00", "14:00"]),
            ("q1h", ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00"]),
            ("q8h", []),
            ("q12h", []),
            ("q24h", []),
        ],
    )
    def test_at_the_test_school(
        self, text: str, expected: list[str], calendar: SchoolCalendar
    ) -> None:
        assert wall(doses_due_at_school(rx(text), calendar, TUE)) == expected

    def test_an_early_school_still_leaves_the_morning_dose_at_home(self) -> None:
        high_school = SchoolCalendar(day_start=time(7, 20), day_end=time(14, 20))
        assert wall(doses_due_at_school(rx("q4h"), high_school, TUE)) == ["12:00"]

    def test_a_half_day_leaves_every_dose_at_home(self) -> None:
        half = SchoolCalendar(day_start=time(8), day_end=time(12, 30))
        plan = doses_due_at_school(rx("q6h"), half, TUE)
        assert plan.doses == () and plan.has(PlanFlagCode.HOME_DOSES_ONLY)

    def test_prn_intervals_are_never_scheduled(self, calendar: SchoolCalendar) -> None:
        plan = doses_due_at_school(rx("q4h prn"), calendar, TUE)
        assert plan.doses == () and plan.has(PlanFlagCode.PRN_ONLY)


def test_clock_times_outside_school_hours_are_not_home_wording(calendar: SchoolCalendar) -> None:
    plan = doses_due_at_school(rx("at 7:00 am and 7:00 pm"), calendar, TUE)
    assert plan.codes == {PlanFlagCode.NO_DOSES_IN_SCHOOL_HOURS}


def test_at_school_needs_a_single_dose() -> None:
    with pytest.raises(FrequencyError, match="which one"):
        parse_frequency("bid at school")
    assert parse_frequency("at noon at school").time_sources == (TimeSource.SCHOOL,)
    assert parse_frequency("q6h during school hours").interval_hours == 6


# --- rule 2: counts ---------------------------------------------------------------------------

COUNTS = [
    ("3 per day", 3),
    ("3/day", 3),
    ("2 a day", 2),
    ("take 2 per day", 2),
    ("1 tab po 3/day", 3),
    ("take 1 cap 3 daily", 3),
    ("take 1 cap po 3 daily", 3),
    ("inhale 2 puffs 4 daily", 4),
    ("2 doses per day", 2),
    ("2 doses daily", 2),
    ("take 1 daily", 1),
    ("1 a day", 1),
]


@pytest.mark.parametrize(("text", "n"), COUNTS, ids=[r[0] for r in COUNTS])
def test_counts_are_frequencies(text: str, n: int) -> None:
    f = parse_frequency(text)
    assert f.times == DEFAULT_TIMES.for_count(n)
    assert f.time_sources == (TimeSource.COUNT,) * n


@pytest.mark.parametrize(
    "text", ["take 3 daily", "3 daily", "take 2 every day", "2-3 daily", "1-2 per day", "take 4 qd"]
)
def test_a_number_that_may_be_the_quantity_is_a_question(text: str) -> None:
    with pytest.raises(FrequencyError, match="ambiguous") as info:
        parse_frequency(text)
    assert "?" in str(info.value)


def test_max_per_day_is_still_a_maximum() -> None:
    f = parse_frequency("q4h prn, max 3 per day")
    assert f.prn and f.max_per_day == 3


# --- rule 3: label text -----------------------------------------------------------------------

LABELS = [
    ("naproxen 220 mg q8h prn cramps, max 2 doses/day", True, None, 2),
    ("Adderall 5 mg po at 12:15", False, t("12:15"), None),
    ("Adderall XR 10 mg 1 cap every morning", False, t("08:00"), None),
    ("amoxicillin oral suspension 250 mg/5 ml 5 ml tid", False, t("08:00", "14:00", "20:00"), None),
    ("Amoxicillin-Clavulanate 875 mg 1 tab bid", False, t("09:00", "21:00"), None),
    ("take naproxen 220 mg twice daily", False, t("09:00", "21:00"), None),
    ("hydrocortisone 1% cream bid prn rash", True, None, 2),
    ("Children's Motrin 100 mg/5 mL 10 mL q6h prn fever", True, None, None),
    ("ondansetron 4 mg ODT q8h prn nausea", True, None, None),
]


@pytest.mark.parametrize(("text", "prn", "times", "maximum"), LABELS, ids=[r[0] for r in LABELS])
def test_product_name_strength_and_route_are_read_past(
    text: str, prn: bool, times: tuple[time, ...] | None, maximum: int | None
) -> None:
    f = parse_frequency(text)
    assert f.prn == prn
    if times is not None:
        assert f.times == times
    assert f.max_per_day == maximum


def test_the_orders_names_are_read_past() -> None:
    with pytest.raises(FrequencyError):
        parse_frequency("Tylenol PM 1 tab at bedtime")  # "pm" is a schedule word
    f = parse_frequency("Tylenol PM 1 tab at bedtime", names=("Tylenol PM",))
    assert f.times == t("21:00")
    assert parse_frequency("Symbicort 80/4.5 2 puffs bid", names=["Symbicort 80/4.5"]).times == t(
        "09:00", "21:00"
    )
    # the generic name works as well, and the longest name wins
    assert parse_frequency(
        "methylphenidate hcl 5 mg at noon", names=("Ritalin", "methylphenidate hcl")
    ).times == t("12:00")
    with pytest.raises(FrequencyError, match="No dosing frequency"):
        parse_frequency("Tylenol PM", names=("Tylenol PM",))


def test_names_reach_the_parser_from_the_prescription(calendar: SchoolCalendar) -> None:
    p = rx("Creon 6,000 2 caps with lunch", medication_name="Creon 6,000")
    assert wall(doses_due_at_school(p, calendar, TUE)) == ["12:00"]
    g = rx("pancrelipase 6,000 2 caps with lunch", generic_name="pancrelipase 6,000")
    assert wall(doses_due_at_school(g, calendar, TUE)) == ["12:00"]
    assert g.names == ("pancrelipase 6,000",)
    assert rx("bid").names == ()


@pytest.mark.parametrize(
    "text",
    [
        "blah daily",  # an unknown word with no strength after it is still refused
        "increase to 2 tabs daily",  # a hazard word is never a product name
        "extra 2 tabs at noon",
        "sometimes 1 tab at noon",
        "then 5 mg daily",
    ],
)
def test_unknown_words_are_still_refused(text: str) -> None:
    with pytest.raises(FrequencyError):
        parse_frequency(text)


def test_one_pm_in_a_list_of_clock_times() -> None:
    assert parse_frequency("at 11:45 and 1 pm").times == t("11:45", "13:00")
    assert parse_frequency("at 9:30, 1 pm").times == t("09:30", "13:00")
    assert parse_frequency("at noon and 2 pm").times == t("12:00", "14:00")
    with pytest.raises(FrequencyError, match="ambiguous"):
        parse_frequency("take 1 am and 1 pm")
    with pytest.raises(FrequencyError, match="ambiguous"):
        parse_frequency("daily 1 pm")


def test_seizure_rescue_minutes_only_in_a_prn_reason() -> None:
    assert parse_frequency("prn seizure > 5 min").prn
    assert parse_frequency("prn seizure lasting 5 minutes or longer").prn
    with pytest.raises(FrequencyError, match="as-needed"):
        parse_frequency("daily for seizure > 5 min")
    assert parse_frequency("prn seizure for 5 minutes").prn
    # how long one dose takes is not a schedule
    assert parse_frequency("nebulize for 10 minutes twice daily").times == t("09:00", "21:00")
    assert parse_frequency("Tylenol PM 1 tab at bedtime", names="Tylenol PM").times == t("21:00")


# --- properties -------------------------------------------------------------------------------

HOME_WORDS = [
    "every morning",
    "in the morning",
    "qam",
    "with breakfast",
    "before breakfast",
    "daily",
    "once daily",
    "qd",
    "once a day",
    "bid",
    "twice daily",
    "2 times a day",
    "tid",
    "three times daily",
    "3 per day",
    "every evening",
    "qpm",
    "with dinner",
    "at bedtime",
    "qhs",
    "nightly",
    "every other day",
    "weekly",
    "Mon/Wed/Fri",
    "q8h",
    "q12h",
    "every 24 hours",
    "in the morning and at bedtime",
    "with breakfast and dinner",
]
FILLERS = ["", "take 1 tab po", "2 puffs", "give 5 mL by mouth", "1 cap", "apply thin layer"]
ENDINGS = ["", "for 10 days", "with food", "do not crush", "x 7 days"]

clock = st.builds(time, st.integers(6, 9), st.sampled_from([0, 15, 20, 30, 45]))
calendars = st.builds(
    lambda start, hours, lunch, window: SchoolCalendar(
        day_start=start,
        day_end=time(min(start.hour + hours, 23), start.minute),
        lunch_time=time(lunch, 0),
        dose_window=timedelta(minutes=window),
    ),
    clock,
    st.integers(4, 9),
    st.integers(11, 13),
    st.sampled_from([15, 30, 60, 90]),
)


@settings(max_examples=300)
@given(st.sampled_from(HOME_WORDS), st.sampled_from(FILLERS), st.sampled_from(ENDINGS), calendars)
def test_no_home_worded_order_ever_gets_a_school_dose(
    wording: str, filler: str, ending: str, calendar: SchoolCalendar
) -> None:
    text = " ".join(p for p in (filler, wording, ending) if p)
    plan = doses_due_at_school(rx(text), calendar, TUE)
    assert plan.doses == (), text
    assert plan.codes & {
        PlanFlagCode.HOME_DOSES_ONLY,
        PlanFlagCode.NO_DOSES_IN_SCHOOL_HOURS,
        PlanFlagCode.NOT_A_DOSING_DAY,
    }, text
    # on any day: no school time at all
    assert school_dose_times(parse_frequency(text, calendar.time_defaults), calendar) == ()


FRAGMENTS = [
    "take 1 tab",
    "2 puffs",
    "q4h",
    "q6h",
    "q3h",
    "q2h",
    "qid",
    "4 times a day",
    "with meals",
    "ac",
    "at noon",
    "with lunch",
    "at 11:30",
    "at 12:45 pm",
    "at 7:00",
    "at 3:30 pm",
    "at 8:00",
    "at school",
    "every morning",
    "daily",
    "bid",
    "and",
    ",",
    "prn",
    "at bedtime",
    "Mon/Wed/Fri",
]


@settings(max_examples=400)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=5), calendars)
def test_every_school_dose_is_in_school_hours(parts: list[str], calendar: SchoolCalendar) -> None:
    text = " ".join(parts)
    try:
        f = parse_frequency(text, calendar.time_defaults)
    except FrequencyError:
        return
    chosen = school_dose_times(f, calendar)
    assert all(calendar.in_school_hours(x) for x in chosen), (text, chosen)
    assert set(chosen) <= set(f.times) | {calendar.lunch_time, calendar.day_start}
    if f.prn:
        assert chosen == ()
    named = {TimeSource.CLOCK, TimeSource.SCHOOL, TimeSource.ENTERED}
    if not named & set(f.sources()) and not (
        (f.interval_hours or 99) <= 6 or f.sources().count(TimeSource.COUNT) >= 4
    ):
        assert chosen == (), text
    plan = doses_due_at_school(rx(text), calendar, TUE)
    assert all(calendar.in_school_hours(d.scheduled_for.time()) for d in plan.doses)


@settings(max_examples=200)
@given(st.sampled_from([1, 2, 3, 4, 6]), calendars)
def test_a_short_interval_never_doses_within_a_window_of_the_school_day_edges(
    hours: int, calendar: SchoolCalendar
) -> None:
    f = parse_frequency(f"every {hours} hours")
    window = calendar.dose_window
    for dose in school_dose_times(f, calendar):
        at = calendar.at(TUE, dose)
        assert at - window >= calendar.at(TUE, calendar.day_start)
        assert at + window <= calendar.at(TUE, calendar.day_end)


def test_a_morning_dose_at_school_is_given_on_arrival() -> None:
    late_start = SchoolCalendar(day_start=time(8, 30), day_end=time(15))
    assert wall(doses_due_at_school(rx("every morning at school"), late_start, TUE)) == ["08:30"]
    assert wall(doses_due_at_school(rx("with breakfast at school"), late_start, TUE)) == ["08:30"]
    assert wall(doses_due_at_school(rx("every morning at school"), SchoolCalendar(), TUE)) == [
        "08:00"
    ]
    bedtime = doses_due_at_school(rx("at bedtime at school"), late_start, TUE)
    assert bedtime.doses == () and bedtime.has(PlanFlagCode.NO_DOSES_IN_SCHOOL_HOURS)


def test_named_parses_are_memoised() -> None:
    first = parse_frequency("Tylenol PM 1 tab at bedtime", names=("Tylenol PM",))
    assert parse_frequency("Tylenol PM 1 tab at bedtime", names=("Tylenol PM",)) is first
    school = SchoolCalendar(lunch_time=time(11, 30)).time_defaults
    assert parse_frequency("Creon 6,000 with lunch", school, names=["Creon 6,000"]).times == t(
        "11:30"
    )
