"""Every row of the issue's default-times table, with its usual variants (the parse contract)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from medapp.domain.frequency import DefaultTimes, Frequency, parse_frequency


def t(*hhmm: str) -> tuple[time, ...]:
    return tuple(time.fromisoformat(x) for x in hhmm)


DAILY = t("09:00")
BID = t("09:00", "21:00")
TID = t("08:00", "14:00", "20:00")
QID = t("08:00", "12:00", "16:00", "20:00")

TABLE = [
    # daily, once daily, qd, 1x daily -> 09:00
    ("daily", DAILY),
    ("once daily", DAILY),
    ("Once a day", DAILY),
    ("once per day", DAILY),
    ("qd", DAILY),
    ("Q.D.", DAILY),
    ("1x daily", DAILY),
    ("1 x daily", DAILY),
    ("every day", DAILY),
    ("take 1 tab PO daily", DAILY),
    ("1 one time each day", DAILY),
    # every morning, qam -> 08:00
    ("every morning", t("08:00")),
    ("in the morning", t("08:00")),
    ("qam", t("08:00")),
    ("q.a.m.", t("08:00")),
    ("q am", t("08:00")),
    # noon, midday, with/at/before/after lunch -> 12:00
    ("noon", t("12:00")),
    ("at noon", t("12:00")),
    ("12 noon", t("12:00")),
    ("midday", t("12:00")),
    ("with lunch", t("12:00")),
    ("at lunch", t("12:00")),
    ("before lunch", t("12:00")),
    ("after lunch", t("12:00")),
    ("at lunchtime", t("12:00")),
    # every evening, qpm -> 18:00
    ("every evening", t("18:00")),
    ("in the evening", t("18:00")),
    ("qpm", t("18:00")),
    ("q pm", t("18:00")),
    # at bedtime, qhs, nightly -> 21:00
    ("at bedtime", t("21:00")),
    ("at bed time", t("21:00")),
    ("before bedtime", t("21:00")),
    ("qhs", t("21:00")),
    ("q hs", t("21:00")),
    ("nightly", t("21:00")),
    ("every night", t("21:00")),
    # twice daily, bid, 2x daily, every 12 hours, q12h -> 09:00, 21:00
    ("twice daily", BID),
    ("twice a day", BID),
    ("bid", BID),
    ("B.I.D.", BID),
    ("2x daily", BID),
    ("2x/day", BID),
    ("2 times a day", BID),
    ("two times daily", BID),
    ("2 two times daily", BID),
    ("every 12 hours", BID),
    ("q12h", BID),
    ("Q 12 H", BID),
    ("every twelve hours", BID),
    ("q12hr", BID),
    # three times daily, tid, 3x daily -> 08:00, 14:00, 20:00
    ("three times daily", TID),
    ("three times a day", TID),
    ("tid", TID),
    ("t.i.d.", TID),
    ("3x daily", TID),
    ("3 times per day", TID),
    # four times daily, qid, 4x daily -> 08:00, 12:00, 16:00, 20:00
    ("four times daily", QID),
    ("qid", QID),
    ("q.i.d.", QID),
    ("4x daily", QID),
    ("4 times every day", QID),
    # with meals -> 08:00, 12:00, 18:00
    ("with meals", t("08:00", "12:00", "18:00")),
    ("with each meal", t("08:00", "12:00", "18:00")),
    ("3 times a day with meals", t("08:00", "12:00", "18:00")),
    ("tid with meals", t("08:00", "12:00", "18:00")),
    # explicit clock times replace the defaults
    ("at 11:30", t("11:30")),
    ("daily at 11:30", t("11:30")),
    ("12:30 pm", t("12:30")),
    ("at 12:30 PM", t("12:30")),
    ("1pm", t("13:00")),
    ("at 1 pm", t("13:00")),
    ("at 10:00am", t("10:00")),
    ("at 10.30 a.m.", t("10:30")),
    ("at 13:00", t("13:00")),
    ("twice daily at 8am and 8pm", t("08:00", "20:00")),
    ("every morning at 7:30", t("07:30")),
    ("at 11:30 and 13:45", t("11:30", "13:45")),
    # a clock time right after a named time sets it; otherwise it is a dose of its own
    ("at 7:30 every morning", t("07:30")),
    ("with lunch at 11:45", t("11:45")),
    ("with meals at 8:00, 12:00 and 18:00", t("08:00", "12:00", "18:00")),
    ("at noon and at 4 pm", t("12:00", "16:00")),
    ("at noon, at 4 pm", t("12:00", "16:00")),
    ("in the morning at 7:30 and at bedtime", t("07:30", "21:00")),
    ("twice daily at noon and at bedtime", t("12:00", "21:00")),
    ("every morning at home and at 11:00am at school", t("11:00")),
    # combinations of named times
    ("in the morning and at bedtime", t("08:00", "21:00")),
    ("morning and evening", t("08:00", "18:00")),
    ("twice daily in the morning and evening", t("08:00", "18:00")),
    (
        "before breakfast, before lunch, before dinner and at bedtime",
        t("08:00", "12:00", "18:00", "21:00"),
    ),
]


@pytest.mark.parametrize(("text", "times"), TABLE, ids=[row[0] for row in TABLE])
def test_default_times_table(text: str, times: tuple[time, ...]) -> None:
    f = parse_frequency(text)
    assert f.times == times
    assert not f.prn
    assert f.every_n_days == 1
    assert f.weekdays is None
    assert f.min_interval is None


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6, 8, 24])
@pytest.mark.parametrize("form", ["every {n} hours", "q{n}h", "Q{n}H", "every {n} hrs", "q {n} hr"])
def test_every_n_hours_counts_from_midnight(n: int, form: str) -> None:
    assert parse_frequency(form.format(n=n)).times == tuple(time(h) for h in range(0, 24, n))


def test_every_n_hours_understands_number_words() -> None:
    assert parse_frequency("every eight hours").times == t("00:00", "08:00", "16:00")
    assert parse_frequency("every 4 four hours").times == parse_frequency("q4h").times
    assert parse_frequency("hourly").times == parse_frequency("q1h").times


PRN = [
    ("as needed", None, None),
    ("prn", None, None),
    ("P.R.N.", None, None),
    ("as needed for wheezing", None, None),
    ("2 puffs q4h prn wheezing", timedelta(hours=4), None),
    ("every 4-6 hours as needed", timedelta(hours=4), None),
    ("every 4 to 6 hours as needed for pain", timedelta(hours=4), None),
    ("q4-6h prn", timedelta(hours=4), None),
    ("q5h prn", timedelta(hours=5), None),
    ("every 8 hours as needed, max 3 per day", timedelta(hours=8), 3),
    ("as needed, max 4 per day", None, 4),
    ("prn headache, maximum 2 doses per day", None, 2),
    ("as needed not to exceed 4 doses in 24 hours", None, 4),
    ("tid prn", None, 3),
    ("1-2 times daily as needed", None, 2),
    ("up to 3 times a day", None, 3),
    ("every 6 hours as needed up to 3 times a day", timedelta(hours=6), 3),
    ("take 2 tablets every 8 hrs as needed maximum daily dose 8 tablets", timedelta(hours=8), 4),
    ("1 tab by mouth 5 times a day as needed mdd 5", None, 5),
    ("1 tab qhs prn", None, 1),
    ("q 72 hrs as needed", timedelta(hours=72), None),
]


@pytest.mark.parametrize(("text", "interval", "maximum"), PRN, ids=[row[0] for row in PRN])
def test_prn(text: str, interval: timedelta | None, maximum: int | None) -> None:
    f = parse_frequency(text)
    assert f.prn
    assert f.times == ()
    assert f.min_interval == interval
    assert f.max_per_day == maximum


def test_in_24_hours_is_a_rolling_maximum() -> None:
    assert parse_frequency("prn, not to exceed 4 doses in 24 hours").max_rolling_24h
    assert not parse_frequency("prn, max 4 per day").max_rolling_24h


SPACING = [
    ("every other day", 2, None, DAILY),
    ("qod", 2, None, DAILY),
    ("Q.O.D.", 2, None, DAILY),
    ("every 3 days", 3, None, DAILY),
    ("q3d", 3, None, DAILY),
    ("every 14 days", 14, None, DAILY),
    ("weekly", 7, None, DAILY),
    ("once a week", 7, None, DAILY),
    ("1x weekly", 7, None, DAILY),
    ("every week", 7, None, DAILY),
    ("qweek", 7, None, DAILY),
    ("every 2 weeks", 14, None, DAILY),
    ("every other day at bedtime", 2, None, t("21:00")),
    ("every 3 days at 11:30", 3, None, t("11:30")),
    ("Mon/Wed/Fri", 1, {0, 2, 4}, DAILY),
    ("M/W/F", 1, {0, 2, 4}, DAILY),
    ("mon, wed and fri", 1, {0, 2, 4}, DAILY),
    ("Mondays and Thursdays", 1, {0, 3}, DAILY),
    ("on mondays", 1, {0}, DAILY),
    ("every Tuesday", 1, {1}, DAILY),
    ("on tue", 1, {1}, DAILY),
    ("tues/thurs", 1, {1, 3}, DAILY),
    ("weekdays", 1, {0, 1, 2, 3, 4}, DAILY),
    ("daily on weekdays", 1, {0, 1, 2, 3, 4}, DAILY),
    ("Mon-Fri", 1, {0, 1, 2, 3, 4}, DAILY),
    ("monday through wednesday", 1, {0, 1, 2}, DAILY),
    ("Mon/Wed/Fri at 12:30 pm", 1, {0, 2, 4}, t("12:30")),
    ("twice daily on weekends", 1, {5, 6}, BID),
    ("weekly on mondays", 1, {0}, DAILY),
]


@pytest.mark.parametrize(("text", "every", "days", "times"), SPACING, ids=[r[0] for r in SPACING])
def test_day_spacing_and_named_days(
    text: str, every: int, days: set[int] | None, times: tuple[time, ...]
) -> None:
    f = parse_frequency(text)
    assert f.every_n_days == every
    assert f.weekdays == (frozenset(days) if days is not None else None)
    assert f.times == times


IGNORED_WORDS = [
    ("1 tab PO bid", BID),
    ("take 1 tablet by mouth twice daily", BID),
    ("Take one tablet by mouth twice daily for wheezing", BID),
    ("2 puffs inhaled twice a day with spacer", BID),
    ("apply thin layer topically to affected area bid", BID),
    ("instill 1 drop in both eyes twice daily", BID),
    ("take 1 capsule by mouth twice daily with food", BID),
    ("take 1 tablet twice daily for 10 days", BID),
    ("1 caps po bidx10 days", BID),
    ("take 1 tablet bid, do not crush or chew", BID),
    ("  TWICE   daily  ", BID),
]


@pytest.mark.parametrize(("text", "times"), IGNORED_WORDS, ids=[r[0] for r in IGNORED_WORDS])
def test_dose_route_indication_and_duration_words_are_ignored(
    text: str, times: tuple[time, ...]
) -> None:
    assert parse_frequency(text).times == times


def test_case_dot_and_whitespace_insensitive() -> None:
    base = parse_frequency("bid")
    for variant in ("BID", "b.i.d.", "B.I.D", " bid ", "Bid", "b.i.d"):
        assert parse_frequency(variant) == base


def test_memoised_parse_returns_the_same_object() -> None:
    first = parse_frequency("2 puffs q4h prn wheezing")
    assert parse_frequency("2 puffs q4h prn wheezing") is first
    assert parse_frequency("2 PUFFS Q4H PRN WHEEZING") == first


def test_school_defaults_are_configurable() -> None:
    school = DefaultTimes(lunch=time(11, 30), once_daily=time(10, 0))
    assert parse_frequency("with lunch", school).times == t("11:30")
    assert parse_frequency("daily", school).times == t("10:00")
    assert parse_frequency("noon", school).times == t("12:00")
    assert parse_frequency("daily").times == DAILY  # the district default is untouched


def test_default_times_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        DefaultTimes(twice_daily=(time(21), time(9)))


def test_frequency_is_a_frozen_dataclass_with_invariants() -> None:
    f = parse_frequency("bid")
    with pytest.raises(AttributeError):
        f.prn = True  # type: ignore[misc]
    with pytest.raises(ValueError):
        Frequency(times=(time(21), time(9)))
    with pytest.raises(ValueError):
        Frequency(times=(time(9),), prn=True)
    with pytest.raises(ValueError):
        Frequency(times=(time(9),), every_n_days=0)
    with pytest.raises(ValueError):
        Frequency(prn=True, min_interval=timedelta(0))
    with pytest.raises(ValueError):
        Frequency(times=(time(9),), weekdays=frozenset({7}))


def test_describe_reads_back_what_was_understood() -> None:
    assert parse_frequency("bid").describe() == "at 09:00, 21:00"
    assert (
        parse_frequency("q4h prn, max 4 per day").describe()
        == "as needed, at least 4 hours apart, max 4 per day"
    )
    assert parse_frequency("M/W/F at 11:30").describe() == "at 11:30, on Mon/Wed/Fri"
    assert parse_frequency("every other day").describe() == "at 09:00, every 2 days"
