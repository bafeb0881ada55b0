"""The phrase grammar of frequencies: tokens -> the pieces of a schedule.

Split from :mod:`medapp.domain.frequency`. A small pattern engine (phrases as tuples of words,
word sets, "a number", "a clock time"), the phrase table, the hand-written matchers (daily
maxima, named days, doses), run-together-word splitting, tokenising, and the left-to-right scan
that always takes the longest phrase. What the pieces mean together is decided in
:mod:`medapp.domain.frequency` (``_resolve``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache

from medapp.domain._frequency_lexicon import (
    _COUNT_UNITS,
    _DAY_ABBR,
    _DAY_AMBIGUOUS,
    _DAY_GROUPS,
    _DAY_LETTERS,
    _DAY_LIST_SEP,
    _DAY_NAMES,
    _DAY_RANGE_SEP,
    _DAYS_U,
    _DURATION_U,
    _FORM_ABBREVIATIONS,
    _FREE_STARTERS,
    _GLUE,
    _HAZARDS,
    _HINTS,
    _HOURS,
    _INDICATION_WORDS,
    _MEAL_OR_BED,
    _MINUTES,
    _MONTHS_U,
    _NOISE,
    _NUMBER_WORDS,
    _Q,
    _RANGE_SEP,
    _SLOT_WORDS,
    _TIMES_W,
    _TOKEN,
    _UNITS,
    _WEEKS_U,
    FrequencyError,
    _clock_token,
)

# --------------------------------------------------------------------------------------------
# Accumulator and pattern engine
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Acc:
    """What the scan found, with the phrase each piece came from (for error messages)."""

    counts: list[tuple[int, str]] = field(default_factory=list)
    count_ranges: list[tuple[int, int, str]] = field(default_factory=list)
    daily: list[str] = field(default_factory=list)
    intervals: list[tuple[int, int, str]] = field(default_factory=list)
    slots: list[tuple[str, str]] = field(default_factory=list)
    explicit: list[tuple[time, str]] = field(default_factory=list)
    ndays: list[tuple[int, str]] = field(default_factory=list)
    weekdays: list[tuple[frozenset[int], str]] = field(default_factory=list)
    prn: list[str] = field(default_factory=list)
    # (quantity, unit, rolling 24 h, phrase, worded as an amount: "mdd", "max daily dose")
    maxes: list[tuple[float, str | None, bool, str, bool]] = field(default_factory=list)
    doses: list[tuple[float, float, str | None]] = field(default_factory=list)
    home: list[str] = field(default_factory=list)
    # "at school" after a named time ("every morning at school"): that slot is a school dose;
    # "at school" anywhere else anchors the whole order to school (resolved in _resolve).
    school_slots: set[str] = field(default_factory=set)
    at_school: list[str] = field(default_factory=list)
    free_next: bool = False
    last_freq: tuple[int, int, str, str] | None = None  # start, end, phrase, kind


_Action = Callable[[_Acc, Sequence[str], int, int], None]
_Matcher = Callable[[Sequence[str], int], "tuple[int, _Action] | None"]
_Atom = str | frozenset[str]

_NUM = "#n"  # any number
_INT = "#i"  # a whole number
_TIME = "#t"  # a clock-time token


def _phrase(toks: Sequence[str], start: int, end: int) -> str:
    return " ".join(t[1:] if t[0] == "@" else t for t in toks[start:end])


def _nums(toks: Sequence[str], start: int, end: int) -> list[float]:
    return [float(t) for t in toks[start:end] if t[0].isdigit()]


def _whole(value: float, what: str) -> int:
    if value != int(value):
        raise FrequencyError(f"{what} must be a whole number, not {value:g}.")
    return int(value)


def _pattern_matcher(atoms: tuple[_Atom, ...], action: _Action) -> _Matcher:
    size = len(atoms)

    def match(toks: Sequence[str], i: int) -> tuple[int, _Action] | None:
        if i + size > len(toks):
            return None
        for k in range(size):
            atom = atoms[k]
            tok = toks[i + k]
            if atom.__class__ is str:
                if atom == _NUM:
                    if not tok[0].isdigit():
                        return None
                elif atom == _INT:
                    if not tok.isdigit():
                        return None
                elif atom == _TIME:
                    if tok[0] != "@":
                        return None
                elif atom != tok:
                    return None
            elif tok not in atom:
                return None
        return i + size, action

    return match


# Matchers are indexed by the kind of their first token ("#" any number, "@" a clock time, else
# the word) and, for phrases of two or more tokens, by the second one as well, so a token only
# tries the handful of phrases that can start there (the uncached parse stays well under 100 µs).
_INDEX: dict[str, list[_Matcher]] = {}
_INDEX2: dict[tuple[str, str], list[_Matcher]] = {}


def _keys(atom: _Atom) -> tuple[str, ...]:
    if isinstance(atom, frozenset):
        return tuple(atom)
    if atom in (_NUM, _INT):
        return ("#",)
    if atom == _TIME:
        return ("@",)
    return (atom,)


def _key(tok: str) -> str:
    first = tok[0]
    if first.isdigit():
        return "#"
    if first == "@":
        return "@"
    return tok


def _pat(atoms: tuple[_Atom, ...], action: _Action) -> None:
    matcher = _pattern_matcher(atoms, action)
    for k0 in _keys(atoms[0]):
        if len(atoms) == 1:
            _INDEX.setdefault(k0, []).append(matcher)
        else:
            for k1 in _keys(atoms[1]):
                _INDEX2.setdefault((k0, k1), []).append(matcher)


def _pats(
    prefixes: Sequence[tuple[_Atom, ...]], suffixes: Sequence[tuple[_Atom, ...]], action: _Action
) -> None:
    for p in prefixes:
        for s in suffixes:
            _pat(p + s, action)


def _raise(message: str) -> _Action:
    def action(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
        raise FrequencyError(message.format(phrase=_phrase(toks, start, end)))

    return action


def _mark_freq(acc: _Acc, toks: Sequence[str], start: int, end: int, kind: str = "") -> None:
    """Refuse a range or choice between two frequencies ("qd-bid", "morning or evening")."""
    last = acc.last_freq
    if last is not None and start == last[1] + 1 and toks[last[1]] in _RANGE_SEP:
        raise FrequencyError(
            f"“{last[2]} {toks[last[1]]} {_phrase(toks, start, end)}” offers a choice of "
            "schedules; write exactly one (or “as needed” with a maximum)."
        )
    acc.last_freq = (start, end, _phrase(toks, start, end), kind)


# ---- actions -------------------------------------------------------------------------------


def _count(n: int | None = None) -> _Action:
    def action(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
        value = n if n is not None else _whole(_nums(toks, start, end)[0], "A count")
        phrase = _phrase(toks, start, end)
        if value < 1:
            raise FrequencyError(f"“{phrase}” gives no doses; write how many times a day.")
        _mark_freq(acc, toks, start, end, "count")
        acc.counts.append((value, phrase))

    return action


def _count_range(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    lo, hi = (_whole(v, "A count") for v in _nums(toks, start, end)[:2])
    phrase = _phrase(toks, start, end)
    if lo < 0 or hi < 1 or lo > hi:
        raise FrequencyError(f"“{phrase}” is not a usable range of doses per day.")
    _mark_freq(acc, toks, start, end, "count")
    acc.count_ranges.append((lo, hi, phrase))


def _per_week(n: int | None = None) -> _Action:
    def action(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
        value = n if n is not None else _whole(_nums(toks, start, end)[0], "A count")
        phrase = _phrase(toks, start, end)
        if value != 1:
            raise FrequencyError(f"“{phrase}” does not say which days; name them, e.g. “Mon/Thu”.")
        _mark_freq(acc, toks, start, end)
        acc.ndays.append((7, phrase))

    return action


def _daily(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    """ "daily"/"qd"/"every day": once a day on its own, "every day" right after a count.

    Right after a count or an interval ("bid daily", "every 12 hours daily", "qd every day") it
    only repeats that every day is a dosing day. Anywhere else it is a once-daily schedule of
    its own, so "1 po bid x 3 days 1/2 po qd x 3 days" is refused as two schedules.
    """
    last = acc.last_freq
    redundant = (
        last is not None
        and last[3] in ("count", "interval")
        and all(tok == "," for tok in toks[last[1] : start])
    )
    _mark_freq(acc, toks, start, end, last[3] if redundant and last is not None else "daily")
    if not redundant:
        acc.daily.append(_phrase(toks, start, end))


def _interval(hours: int | None = None) -> _Action:
    def action(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
        phrase = _phrase(toks, start, end)
        values = [hours, hours] if hours is not None else _nums(toks, start, end)
        if len(values) == 1:
            values = values * 2
        lo_f, hi_f = values[0], values[1]
        if lo_f is None or hi_f is None:  # pragma: no cover - hours given means both set
            raise FrequencyError(f"“{phrase}” has no interval.")
        if lo_f <= 0 or hi_f <= 0:
            raise FrequencyError(
                f"“{phrase}”: an interval of zero hours is not a schedule; write the interval, "
                "e.g. “every 4 hours”."
            )
        if lo_f != int(lo_f) or hi_f != int(hi_f):
            raise FrequencyError(
                f"“{phrase}”: fractional hours are not supported; write whole hours or clock times."
            )
        lo, hi = int(lo_f), int(hi_f)
        if lo > hi:
            raise FrequencyError(f"“{phrase}”: the range of hours is backwards.")
        _mark_freq(acc, toks, start, end, "interval")
        acc.intervals.append((lo, hi, phrase))

    return action


def _every_days(multiplier: int = 1, n: int | None = None) -> _Action:
    def action(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
        phrase = _phrase(toks, start, end)
        value = n if n is not None else _nums(toks, start, end)[0]
        if value <= 0:
            raise FrequencyError(f"“{phrase}”: doses must be at least one day apart.")
        days = _whole(value, "A number of days") * multiplier
        _mark_freq(acc, toks, start, end)
        if days == 1:
            acc.daily.append(phrase)
        else:
            acc.ndays.append((days, phrase))

    return action


def _right_after(acc: _Acc, toks: Sequence[str], start: int, kind: str) -> bool:
    """Whether the last schedule phrase was a ``kind`` ending just before ``start``
    (only "at"/"in"/"the"/"on" between), as in "every morning at 7:30"."""
    last = acc.last_freq
    if last is None or last[3] != kind:
        return False
    return all(tok in _GLUE for tok in toks[last[1] : start])


def _slot(slot: str) -> _Action:
    def action(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
        # "at 7:30 every morning": the clock time already says when the morning dose is.
        refined = _right_after(acc, toks, start, "explicit")
        _mark_freq(acc, toks, start, end, "explicit" if refined else "slot")
        if not refined:
            acc.slots.append((slot, _phrase(toks, start, end)))

    return action


def _twelve_noon(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    if toks[start] != "12":
        raise FrequencyError(f"“{_phrase(toks, start, end)}” is not a clock time.")
    _slot("noon")(acc, toks, start, end)


def _explicit(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    """A clock time. Right after a named time it sets that time ("every morning at 7:30" is one
    dose at 7:30); otherwise it is a dose of its own ("at noon and at 4 pm" is two doses)."""
    if _right_after(acc, toks, start, "slot"):
        acc.slots.pop()
    _mark_freq(acc, toks, start, end, "explicit")
    tok = toks[start]
    acc.explicit.append((time(int(tok[1:3]), int(tok[4:6])), tok[1:]))


def _at_home(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    """ "every morning at home and at 11:00 at school": the dose just named is not a school dose."""
    last = acc.last_freq
    if (
        last is not None
        and last[3] in ("slot", "explicit")
        and _right_after(acc, toks, start, last[3])
    ):
        if last[3] == "slot":
            acc.slots.pop()
        else:
            acc.explicit.pop()
        acc.home.append(last[2])
        acc.last_freq = None
        return
    raise FrequencyError(
        f"“{_phrase(toks, start, end)}”: say which dose is given at home, e.g. “every morning "
        "at home and at 11:30 at school”, or leave home doses out."
    )


def _at_school(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    """ "every morning at school", "daily at school": the order names the dose for school.

    Right after a named time it makes that time a school dose; right after a clock time it
    adds nothing (the clock time already says when); anywhere else it anchors the order to
    school, which ``_resolve`` accepts only when the order has a single daily dose.
    """
    last = acc.last_freq
    if last is not None and last[3] == "slot" and _right_after(acc, toks, start, "slot"):
        acc.school_slots.add(acc.slots[-1][0])
        return
    if last is not None and last[3] == "explicit" and _right_after(acc, toks, start, "explicit"):
        return
    acc.at_school.append(_phrase(toks, start, end))


def _dose_before(toks: Sequence[str], start: int) -> bool:
    """Whether a dose with its unit ("1 cap", "2 puffs", "5 mg") comes before ``start``, with
    only route or filler words between ("take 1 cap po 3 daily")."""
    k = start - 1
    while k >= 0 and toks[k] in _NOISE and toks[k] not in _UNITS:
        k -= 1
    return (
        k >= 1
        and toks[k] in _UNITS
        and _UNITS[toks[k]] not in _COUNT_UNITS
        and toks[k - 1][0].isdigit()
    )


def _bare_count(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    """ "3 daily", "2 every day": a bare number before "daily" is a count only when the dose is
    stated before it ("take 1 cap 3 daily" is three times a day). On its own it could be the
    quantity ("take 3 daily": three tablets once a day, or one tablet three times?), so it is
    refused with a question rather than read as one dose. "1 daily" is once a day either way."""
    value = _whole(_nums(toks, start, end)[0], "A count")
    if value == 1:
        _daily(acc, toks, start + 1, end)
        return
    if _dose_before(toks, start):
        _count()(acc, toks, start, end)
        return
    phrase = _phrase(toks, start, end)
    raise FrequencyError(
        f"“{phrase}” is ambiguous: {value} tablets (or puffs, mL…) once a day, or one dose "
        f"{value} times a day? Write “{value} tablets once daily” or “1 tablet {value} times "
        "daily”."
    )


def _bare_count_range(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    """ "1-2 per day", "2-3 daily": a count range only after a stated dose, else a question."""
    if _dose_before(toks, start):
        _count_range(acc, toks, start, end)
        return
    phrase = _phrase(toks, start, end)
    raise FrequencyError(
        f"“{phrase}” is ambiguous: is that the number of tablets (or puffs, mL…) or the number "
        "of doses a day? Write e.g. “1 tablet 1-2 times daily as needed” or “2 tablets once "
        "daily”."
    )


def _prn_minutes(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    """ "prn seizure > 5 min", "prn seizure lasting longer than 5 minutes": a duration in the
    reason for an as-needed dose (seizure rescue). Not a schedule, so only after "prn"."""
    if not acc.prn:
        raise FrequencyError(
            f"“{_phrase(toks, start, end)}” is only understood in the reason for an as-needed "
            "dose, e.g. “prn seizure lasting more than 5 minutes”."
        )
    acc.free_next = True


def _minutes_long(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    """ "for 10 minutes": how long one administration lasts, or (after "prn") how long the
    symptom lasts ("prn seizure for 5 minutes"). Never a schedule."""
    if acc.prn:
        acc.free_next = True


def _prn(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    acc.prn.append(_phrase(toks, start, end))
    acc.free_next = True


def _free(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    acc.free_next = True


def _noop(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    return None


# ---- phrase table --------------------------------------------------------------------------

_PER_DAY: list[tuple[_Atom, ...]] = [
    ("daily",),
    ("a", "day"),
    ("per", "day"),
    ("each", "day"),
    ("every", "day"),
    ("/", "day"),
    ("/", "d"),
    ("per", "d"),
    ("day",),
    ("everyday",),
    ("in", "a", "day"),
]
_PER_WEEK: list[tuple[_Atom, ...]] = [
    ("weekly",),
    ("a", "week"),
    ("per", "week"),
    ("each", "week"),
    ("every", "week"),
    ("/", "week"),
    ("/", "wk"),
    ("week",),
    ("a", "wk"),
    ("per", "wk"),
    ("wk",),
]
_PER_MONTH: list[tuple[_Atom, ...]] = [
    ("monthly",),
    ("a", "month"),
    ("per", "month"),
    ("/", "month"),
    ("month",),
    ("every", "month"),
]

_MONTHLY = _raise("“{phrase}”: monthly schedules are not supported; enter the dose date instead.")

for _word, _n in (("once", 1), ("twice", 2), ("thrice", 3)):
    _pats([(_word,)], _PER_DAY, _count(_n))
    _pats([(_word,)], _PER_WEEK, _per_week(_n))
    _pats([(_word,)], _PER_MONTH, _MONTHLY)
_pats([(_INT, _TIMES_W)], _PER_DAY, _count())
_pats([(_INT, _TIMES_W)], _PER_WEEK, _per_week())
_pats([(_INT, _TIMES_W)], _PER_MONTH, _MONTHLY)
_pats([(_INT, _RANGE_SEP, _INT, _TIMES_W)], _PER_DAY, _count_range)
# "3 per day", "2/day", "3 a day": a number straight before a per-day phrase is a count; before
# "daily"/"every day" it may be the quantity ("take 3 daily"), see _bare_count.
_COUNT_PER_DAY: list[tuple[_Atom, ...]] = [
    ("a", "day"),
    ("per", "day"),
    ("/", "day"),
    ("/", "d"),
    ("per", "d"),
    ("in", "a", "day"),
]
_DAILY_WORDS: list[tuple[_Atom, ...]] = [
    ("daily",),
    ("every", "day"),
    ("each", "day"),
    ("everyday",),
    ("qd",),
]
_pats([(_INT,)], _COUNT_PER_DAY, _count())
_pats([(_INT, frozenset({"dose", "doses"}))], _PER_DAY, _count())
_pats([(_INT,)], _DAILY_WORDS, _bare_count)
_pats([(_INT, _RANGE_SEP, _INT)], _COUNT_PER_DAY + _DAILY_WORDS, _bare_count_range)
for _word, _n in (("bid", 2), ("bd", 2), ("tid", 3), ("tds", 3), ("qid", 4), ("qds", 4)):
    _pat((_word,), _count(_n))

_seq: tuple[_Atom, ...]
for _seq in (
    ("daily",),
    ("qd",),
    ("qday",),
    ("q", "d"),
    ("q", "day"),
    ("every", "day"),
    ("everyday",),
    ("each", "day"),
    ("a", "day"),
    ("per", "day"),
    ("/", "day"),
    ("school", "days"),
    ("school", "day"),
    ("every", "school", "day"),
    ("each", "school", "day"),
    ("every", "single", "day"),
):
    _pat(_seq, _daily)

_pats([(_Q, _NUM)], [(_HOURS,)], _interval())
_pats([(_Q, _INT, _RANGE_SEP, _INT)], [(_HOURS,)], _interval())
for _seq in (
    ("every", "hour"),
    ("hourly",),
    ("qh",),
    ("q", "h"),
    ("q", "hour"),
    ("every", "1", "hour"),
):
    _pat(_seq, _interval(1))
_pat(
    (_Q, _NUM, _MINUTES),
    _raise(
        "“{phrase}”: intervals in minutes are not a school schedule; write hours or clock times."
    ),
)
_pat((_Q, _NUM, _DAYS_U), _every_days())
_pat(
    (_Q, _INT, _RANGE_SEP, _INT, _DAYS_U),
    _raise("“{phrase}” gives a range of days; write one interval."),
)
for _seq in (
    ("every", "other", "day"),
    ("q", "other", "day"),
    ("qod",),
    ("every", "second", "day"),
    ("every", "alternate", "day"),
    ("alternate", "days"),
    ("alternate", "day"),
    ("alternating", "days"),
):
    _pat(_seq, _every_days(n=2))
_pat((_Q, _NUM, _WEEKS_U), _every_days(7))
for _seq in (
    ("every", "week"),
    ("weekly",),
    ("qweek",),
    ("qwk",),
    ("q", "week"),
    ("q", "wk"),
    ("wk",),
    ("each", "week"),
):
    _pat(_seq, _every_days(n=7))
_pat(("every", "other", "week"), _every_days(n=14))
for _seq in (
    ("monthly",),
    ("mo",),
    ("every", "month"),
    ("q", "month"),
    ("qmonth",),
    ("each", "month"),
):
    _pat(_seq, _MONTHLY)
_pat((_Q, _NUM, _MONTHS_U), _MONTHLY)

for _word, _slot_name in _SLOT_WORDS.items():
    _pat((_word,), _slot(_slot_name))
    if not _word.startswith("q"):
        _pat(("every", _word), _slot(_slot_name))
        _pat(("q", _word), _slot(_slot_name))
        _pat(("each", _word), _slot(_slot_name))
for _seq, _slot_name in (
    (("bed", "time"), "bedtime"),
    (("mid", "day"), "noon"),
    (("evening", "meal"), "dinner"),
    (("first", "thing", "in", "the", "morning"), "morning"),
    (("first", "thing"), "morning"),
):
    _pat(_seq, _slot(_slot_name))
for _prefix in ("before", "after", "prior"):
    for _word, _slot_name in _MEAL_OR_BED.items():
        if _prefix == "after" and _slot_name == "bedtime":
            continue
        if _prefix == "after" and _word == "school":
            continue  # after school is mid-afternoon, not a default time
        for _mid in ((), ("the",), ("each",), ("every",), ("your",), ("to",)):
            _pat((_prefix, *_mid, _word), _slot(_slot_name))
            _pat((_prefix, *_mid, _word, "time"), _slot(_slot_name))
    _pat((_prefix, "evening", "meal"), _slot("dinner"))
    _pat((_prefix, "the", "evening", "meal"), _slot("dinner"))
_pat((_INT, "noon"), _twelve_noon)
_pat(("at", "home"), _at_home)
for _seq in (
    ("at", "school"),
    ("in", "school"),
    ("during", "school"),
    ("during", "school", "hours"),
    ("during", "the", "school", "day"),
    ("while", "at", "school"),
):
    _pat(_seq, _at_school)
_cond: tuple[str, ...]
for _cond in ((">",), (">", "="), ("than",), ("lasting",), ("over",), ("exceeding",)):
    _pat((*_cond, _NUM, _MINUTES), _prn_minutes)
    _pat((*_cond, _NUM, _MINUTES, "or", frozenset({"longer", "more"})), _prn_minutes)
_pat((_NUM, _MINUTES, "or", frozenset({"longer", "more"})), _prn_minutes)
_pat(("for", _NUM, _MINUTES), _minutes_long)  # "nebulize for 10 minutes": how long one dose takes
_pat((_TIME,), _explicit)

for _seq in (
    ("prn",),
    ("as", "needed"),
    ("as", "need"),
    ("as", "required"),
    ("as", "necessary"),
    ("when", "needed"),
    ("when", "required"),
    ("if", "needed"),
    ("if", "necessary"),
    ("if", "required"),
    ("only", "if", "needed"),
    ("only", "as", "needed"),
    ("only", "when", "needed"),
):
    _pat(_seq, _prn)
_pat(("do", "not"), _free)
_pat(("don", "t"), _free)

for _lead in (("for",), ("x",), ("times",), ("over",), ("for", "up", "to"), ("up", "to"), ()):
    _pat((*_lead, _NUM, _DURATION_U), _noop)
    _pat((*_lead, _NUM, _RANGE_SEP, _NUM, _DURATION_U), _noop)
_pat(("for", "a", "week"), _noop)
_pat(("for", "1", "dose"), _raise("“{phrase}” is a single dose, not a schedule."))


# ---- custom matchers -------------------------------------------------------------------------

_PERIOD_24H_LEAD = frozenset({"in", "per", "/", "every", "within", "q", "each"})


def _match_period(toks: Sequence[str], j: int) -> tuple[int, str] | None:
    """A daily period after a maximum: ("day", end) or rolling ("24h", end)."""
    n = len(toks)
    k = j
    if k < n and toks[k] in _PERIOD_24H_LEAD:
        k += 1
        while k < n and toks[k] in ("a", "any"):
            k += 1
    if k < n and toks[k] == "24":
        k += 1
        if k < n and toks[k] == "-":
            k += 1
        if k < n and toks[k] in _HOURS:
            k += 1
            if k < n and toks[k] == "period":
                k += 1
            return k, "24h"
    for seq in _PER_DAY:
        end = j + len(seq)
        if end <= n and all(
            (a == toks[j + m]) if isinstance(a, str) else (toks[j + m] in a)
            for m, a in enumerate(seq)
        ):
            return end, "day"
    return None


_MAX_FILLERS = frozenset({"daily", "dose", "amount", "total", "of", "=", "is", "a", "limit"})


def _m_max(toks: Sequence[str], i: int) -> tuple[int, _Action] | None:
    """Daily maxima: "max 4 per day", "mdd 3", "not to exceed 4 doses in 24 hours", "up to 3x/day"."""
    n = len(toks)
    t = toks[i]
    per_day = False
    upto = False
    j = i
    head = tuple(toks[i : i + 3])
    if t in ("max", "maximum", "mdd"):
        j += 1
        per_day = t == "mdd"
    elif head in (("do", "not", "exceed"), ("not", "to", "exceed"), ("no", "more", "than")):
        j += 3
    elif head == ("not", "more", "than"):
        j += 3
    elif head[:2] == ("up", "to"):
        j += 2
        upto = True
    else:
        return None
    amount_wording = t == "mdd"
    while j < n and toks[j] in _MAX_FILLERS:
        if toks[j] == "daily":
            per_day = True
        elif toks[j] in ("dose", "amount", "total"):
            amount_wording = True
        j += 1
    if j >= n or not toks[j][0].isdigit():
        return None
    qty = float(toks[j])
    j += 1
    unit: str | None = None
    if j < n and toks[j] in _UNITS:
        unit = _UNITS[toks[j]]
        j += 1
    rolling = False
    period = _match_period(toks, j)
    if period is not None:
        j = period[0]
        rolling = period[1] == "24h"
        per_day = per_day or period[1] == "day"
    if upto and unit == "time" and not (per_day or rolling):
        return None
    if upto and unit not in (None, "time", "dose") and not (per_day or rolling):
        return None
    end = j

    def action(acc: _Acc, toks: Sequence[str], start: int, stop: int) -> None:
        phrase = _phrase(toks, start, stop)
        if not (per_day or rolling):
            raise FrequencyError(
                f"“{phrase}” has no period; write e.g. “max 4 doses per day” or “in 24 hours”."
            )
        if qty <= 0:
            raise FrequencyError(f"“{phrase}”: a maximum of zero doses allows nothing.")
        if upto and unit == "time":
            acc.prn.append(phrase)
            acc.free_next = False
        acc.maxes.append((qty, unit, rolling, phrase, amount_wording))

    return end, action


def _m_dose(toks: Sequence[str], i: int) -> tuple[int, _Action] | None:
    """A dose ("2 puffs", "1-2 tabs", "1/2 tab", "3.024 ml"): read for maxima, else ignored."""
    n = len(toks)
    if i + 1 < n and toks[i + 1] in ("am", "pm"):
        return i + 2, _raise(
            "“{phrase}” is ambiguous (a dose of {phrase} or a clock time?); write “at "
            "{phrase}” or use hh:mm."
        )

    def number(j: int) -> tuple[float, int] | None:
        if j >= n or not toks[j][0].isdigit():
            return None
        value = float(toks[j])
        if j + 2 < n and toks[j + 1] == "/" and toks[j + 2][0].isdigit():
            denominator = float(toks[j + 2])
            if denominator == 0:
                return None
            return value / denominator, j + 3
        return value, j + 1

    first = number(i)
    if first is None:  # pragma: no cover - only called on numeric tokens
        return None
    lo, j = first
    hi = lo
    if j + 1 < n and toks[j] in _RANGE_SEP:
        second = number(j + 1)
        if second is not None:
            hi, j = second
    unit = None
    if j < n and toks[j] in _UNITS and _UNITS[toks[j]] not in _COUNT_UNITS:
        unit = _UNITS[toks[j]]
        j += 1

    def action(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
        # Only the dose before the schedule counts ("take 2 tabs q8h"); numbers after it are
        # quantities, refills or durations ("… 30 rf 0").
        if acc.last_freq is None and not acc.prn:
            acc.doses.append((lo, hi, unit))

    return j, action


def _day_at(tok: str, in_list: bool) -> frozenset[int] | None:
    if tok in _DAY_NAMES:
        return frozenset({_DAY_NAMES[tok]})
    if tok in _DAY_ABBR:
        return frozenset({_DAY_ABBR[tok]})
    if tok in _DAY_GROUPS:
        return _DAY_GROUPS[tok]
    if in_list and tok in _DAY_LETTERS:
        return frozenset({_DAY_LETTERS[tok]})
    return None


def _single_day(tok: str) -> int | None:
    for table in (_DAY_NAMES, _DAY_ABBR, _DAY_LETTERS):
        if tok in table:
            return table[tok]
    return None


def _m_days(toks: Sequence[str], i: int) -> tuple[int, _Action] | None:
    """Named days: "Mon/Wed/Fri", "M/W/F", "Mondays and Thursdays", "weekdays", "Mon-Fri".

    Short abbreviations ("sun", "sat", "m") count as days only in a list of two or more, or after
    "on"/"every"/"each", so "for sun exposure" is not read as Sundays.
    """
    n = len(toks)
    days: set[int] = set()
    items = 0
    strong = False
    ambiguous: str | None = None
    j = i
    while j < n:
        tok = toks[j]
        nxt = toks[j + 1] if j + 1 < n else ""
        in_list = items > 0 or nxt in _DAY_LIST_SEP or nxt in _DAY_RANGE_SEP
        if tok in _DAY_AMBIGUOUS and items:
            ambiguous = tok
        else:
            found = _day_at(tok, in_list)
            if found is None:
                break
            strong = strong or tok in _DAY_NAMES or tok in _DAY_GROUPS
            lo = _single_day(tok)
            hi = _single_day(toks[j + 2]) if j + 2 < n and nxt in _DAY_RANGE_SEP else None
            if lo is not None and hi is not None:  # a range: "mon-fri", "monday through friday"
                k = lo
                days.add(k)
                while k != hi:
                    k = (k + 1) % 7
                    days.add(k)
                items += 2
                j += 2
            else:
                days |= found
        items += 1
        j += 1
        if j + 1 < n and toks[j] in _DAY_LIST_SEP:
            following = toks[j + 1]
            if _day_at(following, True) is not None or following in _DAY_AMBIGUOUS:
                j += 1
                continue
        # "mon, wed fri": commas are not tokens, so adjacent day words continue the list.
        if j < n and (toks[j] in _DAY_ABBR or toks[j] in _DAY_NAMES):
            continue
        break
    if items == 0:
        return None
    previous = toks[i - 1] if i > 0 else ""
    if items == 1 and not strong and previous not in ("on", "every", "each"):
        return None
    if ambiguous is not None:
        return j, _raise(_HINTS[ambiguous])
    chosen = frozenset(days)

    def action(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
        acc.weekdays.append((chosen, _phrase(toks, start, end)))

    return j, action


def _m_every_day(toks: Sequence[str], i: int) -> tuple[int, _Action] | None:
    """ "every Tuesday", "each Monday and Thursday": the named days after "every"/"each"."""
    return _m_days(toks, i + 1) if i + 1 < len(toks) else None


for _word in (*_DAY_NAMES, *_DAY_ABBR, *_DAY_LETTERS, *_DAY_GROUPS):
    _INDEX.setdefault(_word, []).append(_m_days)
for _word in ("every", "each"):
    _INDEX.setdefault(_word, []).append(_m_every_day)
for _word in ("max", "maximum", "mdd", "do", "not", "no", "up"):
    _INDEX.setdefault(_word, []).append(_m_max)


def _m_at_number(toks: Sequence[str], i: int) -> tuple[int, _Action] | None:
    """ "at 11" (no minutes, no am/pm) is refused rather than read as a dose of 11."""
    if i + 1 < len(toks) and toks[i + 1][0].isdigit():
        return i + 2, _raise(
            "“{phrase}”: write the clock time with minutes or am/pm, e.g. “at 11:00” or “at 11 am”."
        )
    return None


_INDEX.setdefault("at", []).append(_m_at_number)


# Known words, for splitting run-together words ("bidx10", "tidprn", "dailyinstr").
_VOCAB = (
    frozenset(
        (set(_INDEX) | {k0 for k0, _ in _INDEX2}) - {"#", "@"}
        | set(_NOISE)
        | set(_HAZARDS)
        | set(_FREE_STARTERS)
        | set(_SLOT_WORDS)
        | {"needed", "as", "prn", "x", "instr", "for", "every", "other", "times", "hours", "day"}
        | set(_HOURS)
        | set(_DAYS_U)
        | _INDICATION_WORDS
    )
    - frozenset(_DAY_LETTERS)
    - _FORM_ABBREVIATIONS
)
_SEGMENT_MAX = max(len(w) for w in _VOCAB)


@lru_cache(maxsize=4096)
def _segment(word: str) -> tuple[str, ...] | None:
    """Split a run-together word into known words (fewest pieces), or None.

    Pieces must be known words of at least two letters (or "x", as in "bidx10"), so a genuine
    unknown word is not shredded into letters and still reaches the nurse as unknown.
    """
    size = len(word)
    if size < 3 or size > 40:
        return None
    best: list[tuple[str, ...] | None] = [None] * (size + 1)
    best[0] = ()
    for end in range(1, size + 1):
        for start in range(max(0, end - _SEGMENT_MAX), end):
            prefix = best[start]
            if prefix is None:
                continue
            piece = word[start:end]
            if piece in _VOCAB and (len(piece) >= 2 or piece == "x"):
                candidate = (*prefix, piece)
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    result = best[size]
    if result is None or len(result) < 2:
        return None
    return result


def _tokenize(norm: str) -> list[str]:
    toks: list[str] = []
    last_was_digit = False
    for m in _TOKEN.finditer(norm):
        kind = m.lastgroup
        raw = m.group()
        if kind == "skip":
            continue
        if kind == "comma":
            toks.append(",")
            last_was_digit = False
            continue
        if kind in ("t12", "t12g", "tat", "t24", "tat24"):
            toks.append(_clock_token(raw))
            last_was_digit = False
            continue
        if kind == "ord":
            toks.append(raw.rstrip("stndrh"))
            last_was_digit = True
            continue
        if kind == "num":
            toks.append(raw)
            last_was_digit = True
            continue
        if kind == "word":
            if not raw.isalpha():
                # \w also holds "²", "½" and other numeric symbols: refuse rather than misread.
                bad = next(ch for ch in raw if not ch.isalpha())
                raise FrequencyError(f"The character “{bad}” is not understood in a frequency.")
            if raw in _NUMBER_WORDS:
                digits = str(_NUMBER_WORDS[raw])
                # "every 4 four hours", "2 two times daily": the word repeats the number.
                if not (last_was_digit and toks and toks[-1] == digits):
                    toks.append(digits)
                last_was_digit = True
                continue
            last_was_digit = False
            if raw in _VOCAB or raw in _DAY_NAMES or raw in _DAY_ABBR:
                toks.append(raw)
                continue
            pieces = _segment(raw)
            if pieces is None:
                toks.append(raw)
            else:
                toks.extend(pieces)
            continue
        if kind == "sym":
            toks.append({"&": "and", "@": "at"}.get(raw, raw))
            last_was_digit = False
            continue
        raise FrequencyError(f"The character “{raw}” is not understood in a frequency.")
    return _listed_clock_times(toks)


_LIST_GLUE = frozenset({",", "and"})


def _listed_clock_times(toks: list[str]) -> list[str]:
    """ "at 11:45 and 1 pm": an hour with am/pm that continues a list of clock times is a clock
    time too. On its own "1 pm" stays ambiguous ("take 1 am and 1 pm" is a dose count)."""
    if "am" not in toks and "pm" not in toks:
        return toks
    out: list[str] = []
    i = 0
    n = len(toks)
    while i < n:
        tok = toks[i]
        if i + 1 < n and toks[i + 1] in ("am", "pm") and tok.isdigit() and 1 <= int(tok) <= 12:
            k = len(out) - 1
            while k >= 0 and out[k] in _LIST_GLUE:
                k -= 1
            if k >= 0 and k < len(out) - 1 and (out[k][0] == "@" or out[k] == "noon"):
                out.append(_clock_token(f"{tok} {toks[i + 1]}"))
                i += 2
                continue
        out.append(tok)
        i += 1
    return out


# Words a product name never holds in this parser's reading: schedule words, and qualifiers
# that change the meaning of what follows ("extra 2 tabs", "another 1 tab").
_NOT_A_NAME = (
    _HAZARDS
    | frozenset(_SLOT_WORDS)
    | _FREE_STARTERS
    | (frozenset(_HINTS) - {"s", "t"})  # "children's" is "children s"
    | frozenset(
        """
        prn as needed when only may can should must not no do extra additional another double
        more less sometimes occasionally usually again same new change changed dose doses
        school home during while
        """.split()
    )
)
_NAME_SYMBOLS = frozenset({"-", "/"})
_NAME_MAX_WORDS = 6


def _skip_label(toks: list[str], names: tuple[tuple[str, ...], ...]) -> list[str]:
    """Read past a product name copied from the label ("naproxen 220 mg q8h prn cramps").

    ``names`` are the order's medication and generic names, already tokenised: when the text
    starts with one (after "take"/"give"), it is dropped. Otherwise a leading run of words that
    holds at least one word this parser does not know, followed straight by a number and a
    unit ("Adderall 5 mg", "amoxicillin oral suspension 250 mg/5 ml"), is taken for the
    product; its strength is then read as a dose and ignored. Anything else is left alone, so
    an unknown word elsewhere is still refused.
    """
    lead = 0
    while lead < len(toks) and toks[lead] in ("take", "give", "use"):
        lead += 1
    for name in names:
        size = len(name)
        if size and tuple(toks[lead : lead + size]) == name:
            return toks[lead + size :]
    k = lead
    unknown = False
    words = 0
    while k < len(toks) and words <= _NAME_MAX_WORDS:
        tok = toks[k]
        if tok in _NAME_SYMBOLS and words:
            k += 1
            continue
        if not tok.isalpha() or tok in _NOT_A_NAME:
            break
        unknown = unknown or (tok not in _VOCAB and tok not in _DAY_NAMES and tok not in _DAY_ABBR)
        words += 1
        k += 1
    if (
        unknown
        and words <= _NAME_MAX_WORDS
        and k + 1 < len(toks)
        and toks[k][0].isdigit()
        and (
            (toks[k + 1] in _UNITS and _UNITS[toks[k + 1]] not in _COUNT_UNITS)
            or toks[k + 1] == "%"
        )
    ):
        return toks[k:]
    return toks


# --------------------------------------------------------------------------------------------
# Scan and resolve
# --------------------------------------------------------------------------------------------


_NO_MATCHERS: list[_Matcher] = []


def _best(toks: Sequence[str], i: int) -> tuple[int, _Action] | None:
    tok = toks[i]
    k0 = _key(tok)
    best: tuple[int, _Action] | None = None
    for matcher in _INDEX.get(k0, _NO_MATCHERS):
        found = matcher(toks, i)
        if found is not None and (best is None or found[0] > best[0]):
            best = found
    if i + 1 < len(toks):
        for matcher in _INDEX2.get((k0, _key(toks[i + 1])), _NO_MATCHERS):
            found = matcher(toks, i)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
    if best is None and tok[0].isdigit():
        best = _m_dose(toks, i)
    elif best is not None and tok[0].isdigit():
        dose = _m_dose(toks, i)
        if dose is not None and dose[0] > best[0]:
            best = dose
    return best


def _unknown(tok: str, text: str) -> FrequencyError:
    hint = _HINTS.get(tok)
    shown = _shown(text)
    if hint:
        return FrequencyError(f"In “{shown}”: {hint}")
    return FrequencyError(
        f"“{tok}” is not understood in the frequency “{shown}”. Write the schedule plainly, "
        "e.g. “twice daily”, “every 4 hours as needed”, “at 11:30”, “Mon/Wed/Fri”."
    )


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "…"


def _scan(toks: Sequence[str], text: str) -> _Acc:
    acc = _Acc()
    free = False
    i = 0
    n = len(toks)
    while i < n:
        tok = toks[i]
        found = _best(toks, i)
        if found is not None:
            end, action = found
            acc.free_next = False
            action(acc, toks, i, end)
            free = acc.free_next or (free and tok[0].isdigit() and end == i + 1)
            i = end
            continue
        if free:
            # Free text is skipped, but not a schedule word, nor "prn" hidden in a run-together
            # word the splitter could not take apart ("nauseaprn").
            if tok in _HAZARDS or ("prn" in tok and tok not in _VOCAB):
                raise _unknown(tok, text)
            i += 1
            continue
        if tok in _NOISE:
            i += 1
            continue
        if tok in _FREE_STARTERS:
            free = True
            i += 1
            continue
        raise _unknown(tok, text)
    return acc
