"""Wordings the parser must refuse with a FrequencyError a nurse can act on — never a default."""

from __future__ import annotations

import pytest

from medapp.domain.frequency import FrequencyError, parse_frequency

REJECTED = [
    # the seed's classic bug: "3" anywhere meant TID — "every 3 days" is spacing, not a count
    # (it parses, see the table tests); these are the ones that must not parse:
    ("", "empty"),
    ("   ", "empty"),
    ("take 1 tablet by mouth", "No dosing frequency"),
    ("use as directed", "No dosing frequency"),
    ("max 3 per day", "No dosing frequency"),
    ("sometimes", "not understood"),
    ("blah daily", "not understood"),
    # contradictions
    ("bid tid", "different schedules"),
    ("twice daily three times daily", "different schedules"),
    ("q4h q6h", "different schedules"),
    ("every other day every 3 days", "different schedules"),
    ("daily every other day", "different schedules"),
    ("bid every 7 days", "different schedules"),
    ("take 1 tablet twice daily in the evening", "different schedules"),
    ("q6h at bedtime", "different schedules"),
    ("three times daily at 8:00 and 12:00", "different schedules"),
    ("tid max 2 per day", "smaller than"),
    ("1 po bid x 3 days 1/2 po qd x 3 days", "different schedules"),
    # choices and ranges of schedules
    ("qd-bid", "choice"),
    ("bid or tid", "choice"),
    ("morning or evening", "choice"),
    ("1-2 times daily", "range"),
    ("every 4-6 hours", "range"),
    ("q 6-8 hours", "range"),
    # intervals that are not a schedule
    ("q5h", "does not fit evenly"),
    ("every 7 hours", "does not fit evenly"),
    ("every 48 hours", "every 2 days"),
    ("every 0 hours", "zero"),
    ("q0h", "zero"),
    ("every 0 days", "at least one day"),
    ("every -4 hours", "every"),
    ("every 1.5 hours", "fractional"),
    ("every 30 minutes", "minutes"),
    ("every 8", "every"),
    ("q", "q…"),
    ("5 times a day", "no default clock times"),
    ("0 times a day", "no doses"),
    # week and month
    ("twice weekly", "which days"),
    ("3 times a week", "which days"),
    ("biweekly", "ambiguous"),
    ("monthly", "monthly"),
    ("every month", "monthly"),
    ("every other monday", "every"),
    ("weekly on mon/thu", "different schedules"),
    # mixed scheduled + PRN
    ("2 puffs twice daily and every 4 hours as needed", "two prescriptions"),
    # multi-step and conditional directions
    ("take 2 tablets daily for 1 day then 1 tablet daily", "then"),
    ("daily taper", "taper"),
    ("bid until gone", "until"),
    ("may repeat in 2 hours", "repeat"),
    ("once", "single dose"),
    ("stat", "STAT"),
    ("if blood sugar > 250", "Conditional"),
    ("1 hour before exercise", "not understood"),
    ("as needed for pain then every 4 hours", "then"),
    ("prn pain if severe", "Conditional"),
    # ambiguous times and abbreviations
    ("at 11", "minutes or am/pm"),
    ("daily at 9", "minutes or am/pm"),
    ("take 1 am and 1 pm", "ambiguous"),
    ("at 1:00", "ambiguous"),
    ("at 13:30 pm", "valid clock time"),
    ("at 25:00", "valid clock time"),
    ("at 10:75", "valid clock time"),
    ("in the afternoon", "afternoon"),
    ("at midnight", "midnight"),
    ("1 tab od", "OD"),
    ("m/t/w", "Tuesday or Thursday"),
    ("sa/s", "Saturday or Sunday"),
    # home doses never land on the school schedule
    ("before school", "given at home"),
    ("upon waking", "home dose"),
    ("every morning at home", "home doses"),
    ("at home", "which dose"),
    ("at 8:00 or 9:00", "choice"),
    ("twice daily at noon, at 4 pm and at bedtime", "different schedules"),
    # maxima that are not a number of doses
    ("as needed mdd 60 mg", "amount"),
    ("1-2 tabs q6h prn, mdd 6", "doses or tablets"),
    ("prn max 3", "period"),
    ("1/2-1 tab bid prn mdd 2 tabs", "amount"),
    # characters and run-together words that hide meaning
    ("every ½ hour", "character"),
    ("bid prn for xyzprn", "not understood"),
]


@pytest.mark.parametrize(("text", "fragment"), REJECTED, ids=[r[0] or "<empty>" for r in REJECTED])
def test_rejected_with_an_actionable_message(text: str, fragment: str) -> None:
    with pytest.raises(FrequencyError) as info:
        parse_frequency(text)
    message = str(info.value)
    assert fragment.casefold() in message.casefold()
    assert len(message) > 20  # a sentence, not a code


def test_frequency_error_is_a_value_error() -> None:
    assert issubclass(FrequencyError, ValueError)


def test_rejections_are_memoised_but_raised_fresh_each_time() -> None:
    with pytest.raises(FrequencyError) as first:
        parse_frequency("bid tid")
    with pytest.raises(FrequencyError) as second:
        parse_frequency("bid tid")
    assert first.value is not second.value
    assert str(first.value) == str(second.value)


def test_message_quotes_the_text() -> None:
    with pytest.raises(FrequencyError, match="take 1 tablet by mouth"):
        parse_frequency("Take 1 tablet by mouth")


def test_overlong_text_is_refused() -> None:
    with pytest.raises(FrequencyError, match="too long"):
        parse_frequency("daily " * 200)


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_frequency(3)  # type: ignore[arg-type]
