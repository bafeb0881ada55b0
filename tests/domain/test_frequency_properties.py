"""Property tests: the parser never crashes, and what it returns is always well-formed."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medapp.domain.frequency import Frequency, FrequencyError, parse_frequency


def _check(text: str) -> Frequency | None:
    try:
        f = parse_frequency(text)
    except FrequencyError as exc:
        assert str(exc)
        return None
    assert isinstance(f, Frequency)
    assert f.times == tuple(sorted(set(f.times))), "times sorted and unique"
    assert not (f.prn and f.times), "PRN has no scheduled times"
    assert f.prn or f.times, "a scheduled frequency has times"
    assert f.every_n_days >= 1
    assert f.min_interval is None or f.min_interval > timedelta(0)
    assert f.max_per_day is None or f.max_per_day >= 1
    assert f.weekdays is None or (f.weekdays and f.weekdays <= frozenset(range(7)))
    if not f.prn and f.max_per_day is not None:
        assert f.max_per_day >= len(f.times)
    return f


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text_only_ever_raises_frequency_error(text: str) -> None:
    _check(text)


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=80))
def test_arbitrary_ascii_only_ever_raises_frequency_error(text: str) -> None:
    _check(text)


FRAGMENTS = [
    "take",
    "1",
    "2",
    "1-2",
    "tab",
    "tabs",
    "puffs",
    "by mouth",
    "po",
    "every",
    "q",
    "q4h",
    "q6h",
    "q12h",
    "q5h",
    "q0h",
    "4",
    "6",
    "8",
    "12",
    "24",
    "0",
    "-4",
    "hours",
    "hrs",
    "h",
    "days",
    "weeks",
    "minutes",
    "bid",
    "tid",
    "qid",
    "qd",
    "qam",
    "qpm",
    "qhs",
    "qod",
    "daily",
    "once",
    "twice",
    "three times",
    "times",
    "x",
    "a day",
    "per day",
    "weekly",
    "prn",
    "as needed",
    "for wheezing",
    "for pain",
    "max",
    "maximum",
    "mdd",
    "3",
    "doses",
    "in 24 hours",
    "not to exceed",
    "up to",
    "at",
    "11:30",
    "12:30 pm",
    "1pm",
    "1:00",
    "at bedtime",
    "with lunch",
    "noon",
    "morning",
    "evening",
    "with meals",
    "before",
    "after",
    "breakfast",
    "mon/wed/fri",
    "m/w/f",
    "weekdays",
    "mondays",
    "and",
    "or",
    "then",
    "until",
    "repeat",
    "other",
    "day",
    "every other day",
    "for 10 days",
    "x 5 days",
    "do not crush",
    "mg",
    "ml",
    "/",
    ",",
    ".",
    "4-6",
    "to",
]


@settings(max_examples=600)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=10))
def test_grammar_fragments_only_ever_raise_frequency_error(parts: list[str]) -> None:
    _check(" ".join(parts))


@settings(max_examples=300)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8), st.data())
def test_case_and_spacing_do_not_change_the_reading(parts: list[str], data: st.DataObject) -> None:
    text = " ".join(parts)
    variant = "  ".join(p.upper() if data.draw(st.booleans()) else p for p in parts)
    try:
        expected: Frequency | str = parse_frequency(text)
    except FrequencyError:
        expected = "error"
    try:
        actual: Frequency | str = parse_frequency(variant)
    except FrequencyError:
        actual = "error"
    assert actual == expected


HOURS = st.sampled_from([1, 2, 3, 4, 6, 8, 12, 24])


@given(HOURS, st.booleans())
def test_every_n_hours_divisors_of_24(n: int, prn: bool) -> None:
    f = parse_frequency(f"every {n} hours" + (" as needed" if prn else ""))
    if prn:
        assert f.min_interval == timedelta(hours=n)
        assert f.times == ()
    else:
        assert len(f.times) == (2 if n == 12 else 24 // n)


@given(st.integers(min_value=1, max_value=23).filter(lambda n: 24 % n))
def test_every_n_hours_that_drift_are_refused_unless_prn(n: int) -> None:
    try:
        parse_frequency(f"q{n}h")
    except FrequencyError:
        pass
    else:  # pragma: no cover - the assertion below explains a failure
        raise AssertionError(f"q{n}h must be refused")
    assert parse_frequency(f"q{n}h prn").min_interval == timedelta(hours=n)
