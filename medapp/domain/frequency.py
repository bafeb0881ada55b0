"""Dosing-frequency parser: prescription wording -> a :class:`Frequency` the schedule can trust.

Why a real parser: the seed's ``parseFrequencyToTimes`` did substring tests ("3" anywhere meant
three times a day, so "every 3 days" became TID) and fell back to 9 am for anything it did not
understand. A wrong clock time on a medication schedule is a medication error, so this parser
reads the text as a sequence of known phrases and **raises FrequencyError for anything it does
not understand** — it never guesses a default for unknown wording.

How it reads the text
---------------------
1. Normalise: case-fold, drop dots that are not decimal points ("q.i.d." -> "qid",
   "a.m." -> "am"), collapse whitespace. This string is the memo key.
2. Tokenise: clock times ("11:30", "12:30 pm", "1pm", "at 10 am") become one token; numbers,
   words and a few symbols ("/", "-") become tokens; number words become digits ("every eight
   hours"); a number word repeating the digit before it is dropped ("every 4 four hours");
   run-together words from exported directions are split when every piece is a known word
   ("bidx10", "tidprn", "dailyinstr").
3. Scan left to right, always taking the longest known phrase at each position: counts ("bid",
   "3 times a day"), intervals ("q4h", "every 4-6 hours"), times of day ("at bedtime", "with
   lunch"), explicit clock times, day spacing ("every other day", "weekly"), named days
   ("M/W/F"), PRN ("as needed"), daily maxima ("max 4 per day", "mdd 3"), doses and durations
   (read and ignored: "2 puffs", "for 10 days"). Dose, route and filler words ("tab", "by mouth",
   "inhale") are skipped. After "for", "prn"/"as needed", "instr" or "do not" comes free text
   (an indication or instruction: "for wheezing", "do not crush"): unknown words there are
   skipped, but a frequency word or a hazard word ("then", "taper", "until", "repeat", "before",
   "day", ...) still ends it or raises.
4. Resolve the collected pieces into one :class:`Frequency`, raising on any contradiction.

Default clock times (:class:`DefaultTimes`, configurable per school): daily 09:00; morning 08:00;
noon/lunch 12:00; evening 18:00; bedtime/night 21:00; bid and q12h 09:00+21:00; tid
08:00+14:00+20:00; qid 08:00+12:00+16:00+20:00; with meals 08:00+12:00+18:00; every N hours
from 00:00 (so "q24h" is 00:00, a home dose — the contract rule, applied literally). Explicit
clock times replace the defaults. Named days or day spacing default to 09:00.

Deliberately rejected wordings (FrequencyError, with the reason given to the nurse)
-------------------------------------------------------------------------------------
* Anything with an unknown word outside free text, and text with no frequency at all
  ("take 1 tablet by mouth", "use as directed").
* Contradictions: two different counts ("bid tid"), two intervals, two day spacings, a count
  that disagrees with the named times ("twice daily in the evening") or with the explicit
  times, "daily" together with "every other day"/"weekly", an interval together with named
  times ("q6h at bedtime"), a daily maximum smaller than the scheduled doses.
* A range or choice of frequencies ("qd-bid", "morning or evening", "1-2 times daily",
  "every 4-6 hours") unless the order is PRN: a schedule needs one answer.
* Scheduled every-N-hours where N does not divide 24 ("q5h"), or N > 24 ("q48h": write
  "every 2 days"), fractional hours, minutes ("every 30 minutes"), and zero or negative
  intervals ("every 0 hours", "q0h").
* Five or more times a day without explicit clock times (no default times exist).
* Several times a week without named days ("twice weekly", "biweekly"), monthly schedules
  ("monthly", HL7 "MO"), "every other Monday".
* Scheduled doses mixed with as-needed doses ("twice daily and every 4 hours as needed"):
  enter two prescriptions. A PRN count plus a PRN interval is accepted only when the count
  cannot be a separate schedule (count x interval >= 24 h).
* Multi-step or conditional directions: "then", "taper", "until", "repeat", "starting",
  "stop", "hold", "if ..." (other than "if needed"), "before/after <anything but a meal or
  bed>", "day 1", "first", "once" on its own (a single dose), "stat", "<"/">".
* Ambiguous clock times: "at 11" (no minutes or am/pm), "1 am" written apart from "at"
  ("take 1 am and 1 pm" is a dose count), 24-hour times with a single-digit hour 1-6
  ("at 1:00": 01:00 or 13:00?), "afternoon" (no agreed default), "midnight".
* Ambiguous abbreviations: "OD" (once daily or right eye), "T"/"S" in a day list (Tuesday or
  Thursday; Saturday or Sunday), HL7 meal codes that collide with units ("C", "CM", "CD", "CV").
* A daily maximum that cannot be turned into a number of doses: an amount ("mdd 60 mg",
  "max 8 tablets" when the dose is "1-2 tablets"), or a maximum with no period ("max 3").

The parse is memoised twice: a raw-string dict (a cached parse is one dict lookup) in front of
an ``lru_cache`` keyed on the normalised text, because the same strings arrive thousands of times
a day. Failures are memoised too, and re-raised as fresh exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import lru_cache

__all__ = [
    "DEFAULT_TIMES",
    "DefaultTimes",
    "Frequency",
    "FrequencyError",
    "clear_parse_cache",
    "parse_frequency",
]

MAX_TEXT_LENGTH = 500
"""Longer text is refused: the database column holds 300 characters and a schedule is short."""


class FrequencyError(ValueError):
    """The frequency text cannot be turned into a safe schedule.

    The message is written for the nurse: it quotes the text and says what to write instead.
    A ValueError subclass so that callers validating form input can catch one family.
    """


def _t(hour: int, minute: int = 0) -> time:
    return time(hour, minute)


@dataclass(frozen=True, slots=True)
class DefaultTimes:
    """Institution clock times for wording that names no clock time.

    The defaults are the district's; a school may change them (its lunch hour, say). Kept as a
    hashable value so a parse can be memoised per set of defaults.
    """

    once_daily: time = _t(9)
    morning: time = _t(8)
    noon: time = _t(12)
    lunch: time = _t(12)
    evening: time = _t(18)
    bedtime: time = _t(21)
    breakfast: time = _t(8)
    dinner: time = _t(18)
    twice_daily: tuple[time, ...] = (_t(9), _t(21))
    three_times_daily: tuple[time, ...] = (_t(8), _t(14), _t(20))
    four_times_daily: tuple[time, ...] = (_t(8), _t(12), _t(16), _t(20))
    every_12_hours: tuple[time, ...] = (_t(9), _t(21))

    def __post_init__(self) -> None:
        for name, size in (
            ("twice_daily", 2),
            ("three_times_daily", 3),
            ("four_times_daily", 4),
            ("every_12_hours", 2),
        ):
            value = getattr(self, name)
            if len(value) != size or tuple(sorted(set(value))) != value:
                raise ValueError(f"{name} needs {size} distinct times in order, got {value!r}")

    def for_count(self, count: int) -> tuple[time, ...] | None:
        """Default times for "N times a day", or None when there is no agreed default."""
        if count == 1:
            return (self.once_daily,)
        if count == 2:
            return self.twice_daily
        if count == 3:
            return self.three_times_daily
        if count == 4:
            return self.four_times_daily
        return None

    def for_slot(self, slot: str) -> tuple[time, ...]:
        if slot == "meals":
            return (self.breakfast, self.lunch, self.dinner)
        return (getattr(self, slot),)


DEFAULT_TIMES = DefaultTimes()


@dataclass(frozen=True, slots=True)
class Frequency:
    """How often a medication is given, as the schedule and the PRN rules need it.

    * ``times``: sorted, unique scheduled clock times (school-local wall clock); ``()`` for PRN.
    * ``prn``: as needed; then ``times`` is empty and the limits below apply.
    * ``min_interval``: shortest allowed gap between doses (PRN), or None.
    * ``max_per_day``: most doses in a school-local calendar day, or in any rolling 24 hours when
      ``max_rolling_24h`` (the text said "in 24 hours"), or None.
    * ``every_n_days``: 1 daily, 2 every other day, 7 weekly — counted from the start date.
    * ``weekdays``: allowed days, 0 = Monday ... 6 = Sunday; None = any day.

    Validated on construction so a hand-built Frequency (from database overrides) obeys the same
    invariants as a parsed one.
    """

    times: tuple[time, ...] = ()
    prn: bool = False
    min_interval: timedelta | None = None
    max_per_day: int | None = None
    every_n_days: int = 1
    weekdays: frozenset[int] | None = None
    max_rolling_24h: bool = False

    def __post_init__(self) -> None:
        if tuple(sorted(set(self.times))) != self.times:
            raise FrequencyError("Scheduled times must be sorted and unique.")
        if self.prn and self.times:
            raise FrequencyError("An as-needed (PRN) frequency has no scheduled times.")
        if not self.prn and not self.times:
            raise FrequencyError("A scheduled frequency needs at least one time.")
        if self.min_interval is not None and self.min_interval <= timedelta(0):
            raise FrequencyError("The minimum interval between doses must be positive.")
        if self.max_per_day is not None and self.max_per_day < 1:
            raise FrequencyError("The daily maximum must be at least 1 dose.")
        if self.every_n_days < 1:
            raise FrequencyError("Doses must be at least one day apart (every_n_days >= 1).")
        if self.weekdays is not None and (
            not self.weekdays or not self.weekdays <= frozenset(range(7))
        ):
            raise FrequencyError("Weekdays must be a non-empty set of 0 (Monday) ... 6 (Sunday).")

    def is_dosing_day(self, day: date, start: date) -> bool:
        """Whether ``day`` is a dosing day for an order starting on ``start``.

        Day spacing counts from the start date (the first dose day), so "every other day" is
        the start date, start + 2, ... whatever the weekday; days before the start never are.
        """
        offset = (day - start).days
        if offset < 0 or offset % self.every_n_days:
            return False
        return self.weekdays is None or day.weekday() in self.weekdays

    def describe(self) -> str:
        """A short plain-English reading, so a nurse can confirm what the parser understood."""
        parts: list[str] = []
        if self.prn:
            parts.append("as needed")
            if self.min_interval is not None:
                parts.append(f"at least {_fmt_span(self.min_interval)} apart")
            if self.max_per_day is not None:
                window = "in any 24 hours" if self.max_rolling_24h else "per day"
                parts.append(f"max {self.max_per_day} {window}")
        else:
            parts.append("at " + ", ".join(t.strftime("%H:%M") for t in self.times))
            if self.max_per_day is not None:
                parts.append(f"max {self.max_per_day} per day")
        if self.every_n_days == 7:
            parts.append("weekly")
        elif self.every_n_days > 1:
            parts.append(f"every {self.every_n_days} days")
        if self.weekdays is not None:
            names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
            parts.append("on " + "/".join(names[d] for d in sorted(self.weekdays)))
        return ", ".join(parts)


def _fmt_span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day" + ("s" if days != 1 else "")
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "twenty": 20,
    "thirty": 30,
}

_HOURS = frozenset({"h", "hr", "hrs", "hour", "hours", "hrly"})
_MINUTES = frozenset({"min", "mins", "minute", "minutes"})
_DAYS_U = frozenset({"d", "day", "days"})
_WEEKS_U = frozenset({"wk", "wks", "week", "weeks"})
_MONTHS_U = frozenset({"mo", "mos", "month", "months"})
_DURATION_U = frozenset(
    {"day", "days", "d", "week", "weeks", "wk", "wks", "night", "nights", "month", "months", "mo"}
)
_TIMES_W = frozenset({"times", "time", "x"})
_RANGE_SEP = frozenset({"-", "to", "or"})
_Q = frozenset({"every", "q"})

# Canonical dose units: used to turn "max daily dose 8 tablets" into a number of doses.
_UNITS: dict[str, str] = {}
for _canon, _words in {
    "tablet": "tab tabs tablet tablets",
    "capsule": "cap caps capsule capsules",
    "pill": "pill pills",
    "puff": "puff puffs",
    "spray": "spray sprays",
    "drop": "drop drops gtt gtts",
    "inhalation": "inhalation inhalations actuation actuations",
    "application": "application applications applicatorful",
    "vial": "vial vials ampule ampules",
    "click": "click clicks",
    "patch": "patch patches",
    "packet": "packet packets sachet sachets",
    "lozenge": "lozenge lozenges troche troches",
    "suppository": "suppository suppositories",
    "ml": "ml mls milliliter milliliters millilitre millilitres cc",
    "mg": "mg mgs milligram milligrams",
    "mcg": "mcg microgram micrograms",
    "g": "g gm gram grams",
    "unit": "unit units u iu",
    "oz": "oz ounce ounces",
    "tsp": "tsp teaspoon teaspoons teaspoonful",
    "tbsp": "tbsp tablespoon tablespoons tablespoonful",
    "dose": "dose doses",
    "time": "time times x",
}.items():
    for _w in _words.split():
        _UNITS[_w] = _canon
_COUNT_UNITS = frozenset({"dose", "time"})
_AMOUNT_UNITS = frozenset({"ml", "mg", "mcg", "g", "unit", "oz", "tsp", "tbsp"})

# Skipped words: dose forms, routes, sites, verbs and fillers. They carry no timing.
_NOISE = frozenset(
    """
    take takes taking give given giving use using apply applying inhale inhaled instill inject
    injection place insert put chew chewable dissolve swallow rub administer drink spray mix
    sprinkle shake nebulize nebulized dissolved dose doses
    po per os by mouth oral orally sl sublingual sublingually buccal topical topically subq sq
    sc subcut subcutaneous subcutaneously im intramuscular intramuscularly iv inh inhalation
    inhaler inhalers nebulizer nebulization neb nebs via route nasal nasally intranasal nostril
    nostrils eye eyes ear ears ophthalmic otic both affected area areas skin rectal rectally pr
    vaginal vaginally tongue under small amount thin layer film sparingly liberally generously
    whole total spacer surrounding site sites scalp face hand hands foot feet lips mouthpiece
    a an the of and or with without to into in on at as onto from each per also
    directed uad please patient pt school home food milk water juice empty stomach
    rf refill refills qty dispense dispensed supply chewed crushed liquid solution suspension
    otc half int
    """.split()
)
_NOISE = _NOISE | frozenset(_UNITS) - {"x", "time", "times"}
_NOISE = _NOISE | {"-", "/", "=", "+", "%", "~", "*", "#"}

# Words that, inside free text (an indication), still mean something for the schedule: if no
# phrase matches at them, the text is refused rather than skipped.
_HAZARDS = frozenset(
    """
    every q qd qod qid bid tid qam qpm qhs qh qday qweek qwk qmonth daily everyday hourly
    nightly weekly monthly biweekly bimonthly once twice thrice times hours hour hrs hr
    minutes minute mins min day days week weeks month months morning mornings evening evenings
    night nights bedtime noon midday lunch lunchtime breakfast dinner supper meals am pm hs
    prn needed max maximum mdd exceed then taper tapering decrease increase increasing
    decreasing until repeat repeated repeating start starting stop stopping prior before after
    first single if hold skip alternate alternating except stat now immediately today tomorrow
    tonight midnight afternoon weekdays weekends weekday weekend x od < >
    monday mondays tuesday tuesdays wednesday wednesdays thursday thursdays friday fridays
    saturday saturdays sunday sundays
    """.split()
)

# Start of free text: an indication ("for wheezing") or an instruction ("do not crush").
_FREE_STARTERS = frozenset({"for", "instr", "instructions", "indication", "indications", "dx"})
_FREE_STARTERS = _FREE_STARTERS | {"dont", "reason", "notes", "note"}

# Single-word hints: what the nurse should write instead.
_HINTS = {
    "once": "“once” on its own is a single dose, not a schedule; write “once daily” or the day.",
    "then": "Multi-step directions (“… then …”) cannot be scheduled automatically; enter each "
    "step as its own prescription with start and end dates.",
    "taper": "A taper cannot be scheduled automatically; enter each step as its own "
    "prescription with start and end dates.",
    "tapering": "A taper cannot be scheduled automatically; enter each step separately.",
    "until": "“until …” is not a schedule; set the prescription's end date instead.",
    "repeat": "“repeat …” directions cannot be scheduled; write the interval, e.g. “every 4 "
    "hours as needed”.",
    "afternoon": "“afternoon” has no agreed clock time; write the time, e.g. “at 1:30 pm”.",
    "midnight": "“midnight” is not a school time; write the time, e.g. “at 00:00”, if intended.",
    "od": "“OD” is ambiguous (once daily, or right eye); write “once daily”.",
    "monthly": "Monthly schedules are not supported; enter the dose date as a one-day "
    "prescription.",
    "biweekly": "“biweekly” is ambiguous (twice a week or every two weeks); write “every 2 "
    "weeks” or name the days.",
    "bimonthly": "“bimonthly” is ambiguous; write the interval in weeks or name the days.",
    "stat": "A STAT/one-time dose is not a schedule; record it as a single dose.",
    "before": "“before …” is only understood with a meal or bedtime (“before lunch”).",
    "after": "“after …” is only understood with a meal (“after lunch”).",
    "every": "“every …” needs a unit, e.g. “every 8 hours”, “every 2 days”.",
    "q": "“q…” needs an interval, e.g. “q4h”, “q8h”, “qam”.",
    "max": "A maximum needs a number and a period, e.g. “max 4 doses per day”.",
    "maximum": "A maximum needs a number and a period, e.g. “max 4 doses per day”.",
    "mdd": "“mdd” needs a number, e.g. “mdd 3”.",
    "x": "“x” is only understood as “2x daily” or “x 5 days”.",
    "times": "“N times” needs a period, e.g. “3 times a day”.",
    "t": "“T” is ambiguous (Tuesday or Thursday); write Tue or Thu.",
    "s": "“S” is ambiguous (Saturday or Sunday); write Sat or Sun.",
    "<": "Conditional dosing (“if … < …”) cannot be scheduled.",
    ">": "Conditional dosing (“if … > …”) cannot be scheduled.",
    "if": "Conditional directions (“if …”) cannot be scheduled; only “if needed” (PRN) is.",
}

_DAY_FULL = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_DAY_NAMES: dict[str, int] = {}
for _name, _num in _DAY_FULL.items():
    _DAY_NAMES[_name] = _num
    _DAY_NAMES[_name + "s"] = _num
_DAY_ABBR = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_DAY_LETTERS = {"m": 0, "tu": 1, "w": 2, "th": 3, "r": 3, "f": 4, "sa": 5, "su": 6}
_DAY_AMBIGUOUS = frozenset({"t", "s"})
_DAY_GROUPS = {
    "weekdays": frozenset(range(5)),
    "weekday": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
    "weekend": frozenset({5, 6}),
}
_DAY_LIST_SEP = frozenset({"/", ",", "and", "&"})
_DAY_RANGE_SEP = frozenset({"-", "through", "thru", "to"})

# Times of day: word -> slot of DefaultTimes.
_SLOT_WORDS = {
    "morning": "morning",
    "mornings": "morning",
    "am": "morning",
    "qam": "morning",
    "morn": "morning",
    "wake": "morning",
    "waking": "morning",
    "noon": "noon",
    "midday": "noon",
    "noontime": "noon",
    "lunch": "lunch",
    "lunchtime": "lunch",
    "acd": "lunch",
    "pcd": "lunch",
    "evening": "evening",
    "evenings": "evening",
    "pm": "evening",
    "qpm": "evening",
    "eve": "evening",
    "bedtime": "bedtime",
    "bed": "bedtime",
    "hs": "bedtime",
    "qhs": "bedtime",
    "night": "bedtime",
    "nightly": "bedtime",
    "breakfast": "breakfast",
    "acm": "breakfast",
    "pcm": "breakfast",
    "dinner": "dinner",
    "supper": "dinner",
    "acv": "dinner",
    "pcv": "dinner",
    "meals": "meals",
    "meal": "meals",
    "mealtimes": "meals",
    "ac": "meals",
    "pc": "meals",
}
_MEAL_OR_BED = {
    "breakfast": "breakfast",
    "lunch": "lunch",
    "lunchtime": "lunch",
    "dinner": "dinner",
    "supper": "dinner",
    "meals": "meals",
    "meal": "meals",
    "bed": "bedtime",
    "bedtime": "bedtime",
    "sleep": "bedtime",
    "school": "morning",
}


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
    redundant = last is not None and last[1] == start and last[3] in ("count", "interval")
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


def _slot(slot: str) -> _Action:
    def action(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
        _mark_freq(acc, toks, start, end)
        acc.slots.append((slot, _phrase(toks, start, end)))

    return action


def _twelve_noon(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    if toks[start] != "12":
        raise FrequencyError(f"“{_phrase(toks, start, end)}” is not a clock time.")
    _slot("noon")(acc, toks, start, end)


def _explicit(acc: _Acc, toks: Sequence[str], start: int, end: int) -> None:
    tok = toks[start]
    acc.explicit.append((time(int(tok[1:3]), int(tok[4:6])), tok[1:]))


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
    (("upon", "waking"), "morning"),
    (("upon", "rising"), "morning"),
    (("on", "waking"), "morning"),
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

# Common indications: known only so that run-together words split ("painprn" -> "pain prn");
# they are still free text (skipped after "for"/"prn", refused elsewhere).
_INDICATION_WORDS = frozenset(
    """
    pain anxiety nausea vomiting wheezing cough coughing sleep insomnia fever headache itch
    itching allergy allergies spasm spasms muscle asthma sob breath seizure seizures migraine
    """.split()
)

# Known words, for splitting run-together words ("bidx10", "tidprn", "dailyinstr").
_VOCAB = frozenset(
    (set(_INDEX) | {k0 for k0, _ in _INDEX2}) - {"#", "@"}
    | set(_NOISE)
    | set(_HAZARDS)
    | set(_FREE_STARTERS)
    | set(_SLOT_WORDS)
    | {"needed", "as", "prn", "x", "instr", "for", "every", "other", "times", "hours", "day"}
    | set(_HOURS)
    | set(_DAYS_U)
    | _INDICATION_WORDS
) - frozenset(_DAY_LETTERS)
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


# --------------------------------------------------------------------------------------------
# Normalisation and tokenising
# --------------------------------------------------------------------------------------------

_TRANSLATE = str.maketrans(
    {"–": "-", "—": "-", "−": "-", "‐": "-", "’": "'", "‘": "'", "×": "x", "\u00a0": " "}
)
_DOTS = re.compile(r"(?<![0-9])\.|\.(?![0-9])")
_SPACES = re.compile(r"\s+")

_TOKEN = re.compile(
    r"""
     (?P<t12>(?<![0-9.:])[0-9]{1,2}[:.][0-9]{2}\ ?[ap]m(?![^\W\d_]))
    |(?P<t12g>(?<![0-9.:])[0-9]{1,2}[ap]m(?![^\W\d_]))
    |(?P<tat>(?<![^\W\d_])(?:at|@)\ ?[0-9]{1,2}\ [ap]m(?![^\W\d_]))
    |(?P<t24>(?<![0-9.:])[0-9]{1,2}:[0-9]{2}(?![0-9:]))
    |(?P<tat24>(?<![^\W\d_])at\ [0-9]{1,2}\.[0-9]{2}(?![0-9.]))
    |(?P<ord>[0-9]+(?:st|nd|rd|th)(?![^\W\d_]))
    |(?P<num>[0-9]+(?:\.[0-9]+)?)
    |(?P<word>[^\W\d_]+)
    |(?P<sym>[/&+=<>@%~*\#-])
    |(?P<skip>[\s,;:()\[\]{}!?"'`_|\\]+)
    |(?P<other>.)
    """,
    re.VERBOSE,
)
_CLOCK = re.compile(r"([0-9]{1,2})[:.]?([0-9]{2})?\ ?([ap]m)?")


def _normalize(text: str) -> str:
    folded = text.casefold().translate(_TRANSLATE)
    return _SPACES.sub(" ", _DOTS.sub("", folded)).strip()


_AT_PREFIX = re.compile(r"^(?:at|@)\s*")


def _clock_token(raw: str) -> str:
    m = _CLOCK.search(_AT_PREFIX.sub("", raw))
    if m is None:  # pragma: no cover - the token regex guarantees the shape
        raise FrequencyError(f"“{raw}” is not a clock time.")
    hour = int(m.group(1))
    minute = int(m.group(2) or 0)
    meridiem = m.group(3)
    if minute > 59:
        raise FrequencyError(f"“{raw}” is not a valid clock time.")
    if meridiem:
        if not 1 <= hour <= 12:
            raise FrequencyError(f"“{raw}” is not a valid clock time (hours run 1-12 with am/pm).")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    else:
        if hour > 23:
            raise FrequencyError(f"“{raw}” is not a valid clock time.")
        if 1 <= hour <= 6 and len(m.group(1)) == 1:
            raise FrequencyError(
                f"“{raw}” is ambiguous (morning or afternoon?); write “{hour}:{minute:02d} pm”, "
                f"“{hour + 12}:{minute:02d}” or “0{hour}:{minute:02d}”."
            )
    return f"@{hour:02d}:{minute:02d}"


def _tokenize(norm: str) -> list[str]:
    toks: list[str] = []
    last_was_digit = False
    for m in _TOKEN.finditer(norm):
        kind = m.lastgroup
        raw = m.group()
        if kind == "skip":
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


def _conflict(a: str, b: str, text: str) -> FrequencyError:
    return FrequencyError(
        f"“{a}” and “{b}” give different schedules in “{_shown(text)}”; keep only one."
    )


def _max_to_doses(acc: _Acc, text: str) -> tuple[int | None, bool]:
    """Turn the stated maxima into a number of doses (the strictest wins)."""
    best: int | None = None
    rolling = False
    for qty, unit, is_rolling, phrase, amount_wording in acc.maxes:
        if unit in (None, "dose", "time"):
            # "max 3 per day" counts doses. A bare amount ("mdd 3", "max daily dose 3") is a
            # count of doses only when each dose is one unit (one tablet, one puff).
            counted = [(lo, hi) for lo, hi, u in acc.doses if u not in _AMOUNT_UNITS]
            if unit is None and amount_wording and any(lo != 1 or hi != 1 for lo, hi in counted):
                raise FrequencyError(
                    f"“{phrase}” in “{_shown(text)}”: is that doses or tablets? Write “max N "
                    "doses per day”."
                )
            count = _whole(qty, "A daily maximum")
        else:
            same = {(lo, hi) for lo, hi, u in acc.doses if u == unit}
            if not same and unit not in _AMOUNT_UNITS:
                same = {(lo, hi) for lo, hi, u in acc.doses if u is None}
            if len(same) != 1 or next(iter(same))[0] != next(iter(same))[1]:
                raise FrequencyError(
                    f"“{phrase}” in “{_shown(text)}” is an amount, and the dose does not say how "
                    "much each dose is; write the maximum as a number of doses, e.g. “max 4 "
                    "doses per day”."
                )
            per_dose = next(iter(same))[0]
            ratio = qty / per_dose
            if per_dose <= 0 or ratio != int(ratio):
                raise FrequencyError(
                    f"“{phrase}” in “{_shown(text)}” is not a whole number of doses; write the "
                    "maximum as a number of doses."
                )
            count = int(ratio)
        if count < 1:
            raise FrequencyError(f"“{phrase}” allows no dose at all.")
        if best is None or count < best:
            best, rolling = count, is_rolling
        elif count == best:
            rolling = rolling or is_rolling
    return best, rolling


def _resolve(acc: _Acc, text: str, defaults: DefaultTimes) -> Frequency:
    prn = bool(acc.prn)
    counts = {n for n, _ in acc.counts}
    if len(counts) > 1:
        first = acc.counts[0]
        other = next(p for n, p in acc.counts if n != first[0])
        raise _conflict(first[1], other, text)
    count = next(iter(counts)) if counts else None
    if acc.count_ranges:
        lo, hi, phrase = acc.count_ranges[0]
        if not prn:
            raise FrequencyError(
                f"“{phrase}” in “{_shown(text)}” is a range; a schedule needs one number "
                "(or add “as needed” to make it a daily maximum)."
            )
        if count is not None and count != hi:
            raise _conflict(phrase, acc.counts[0][1], text)
        count = hi
    intervals = {(lo, hi) for lo, hi, _ in acc.intervals}
    if len(intervals) > 1:
        raise _conflict(acc.intervals[0][2], acc.intervals[1][2], text)
    interval = acc.intervals[0] if acc.intervals else None
    ndays = {n for n, _ in acc.ndays}
    if len(ndays) > 1:
        raise _conflict(acc.ndays[0][1], acc.ndays[1][1], text)
    every = acc.ndays[0][0] if acc.ndays else 1
    weekdays: frozenset[int] | None = None
    for days, _ in acc.weekdays:
        weekdays = days if weekdays is None else weekdays | days
    slot_names = {s for s, _ in acc.slots}
    slot_times = sorted({t for s in slot_names for t in defaults.for_slot(s)})
    explicit = sorted({t for t, _ in acc.explicit})

    if not (
        counts
        or acc.count_ranges
        or acc.daily
        or interval
        or acc.ndays
        or weekdays is not None
        or slot_names
        or explicit
        or prn
    ):
        raise FrequencyError(
            f"No dosing frequency found in “{_shown(text)}”. Add how often, e.g. “once daily”, "
            "“twice daily”, “every 4 hours as needed”, “at 11:30”."
        )

    if every > 1:
        if weekdays is not None:
            if every == 7 and len(weekdays) == 1:
                every = 1
            else:
                raise _conflict(acc.ndays[0][1], acc.weekdays[0][1], text)
        if acc.daily:
            raise _conflict(acc.daily[0], acc.ndays[0][1], text)
        if acc.counts:
            raise _conflict(acc.counts[0][1], acc.ndays[0][1], text)
        if interval is not None and not prn:
            raise _conflict(interval[2], acc.ndays[0][1], text)

    if acc.daily and count is not None and count != 1 and not acc.count_ranges:
        raise _conflict(acc.counts[0][1], acc.daily[0], text)
    if acc.daily and interval is not None:
        raise _conflict(acc.daily[0], interval[2], text)

    max_per_day, rolling = _max_to_doses(acc, text)

    if prn:
        min_interval: timedelta | None = None
        if interval is not None:
            min_interval = timedelta(hours=interval[0])
            if count is not None and count * interval[0] < 24 and not acc.count_ranges:
                raise FrequencyError(
                    f"In “{_shown(text)}”, is “{acc.counts[0][1]}” a separate scheduled dose or a "
                    f"daily maximum for “{interval[2]}”? Enter scheduled and as-needed doses as "
                    "two prescriptions, or write “max N per day”."
                )
        elif every > 1:
            min_interval = timedelta(days=every)
        limit = count
        if limit is None and explicit:
            limit = len(explicit)
        if limit is None and slot_times:
            limit = len(slot_times)
        if limit is None and acc.daily and interval is None:
            limit = 1
        if limit is not None and (max_per_day is None or limit < max_per_day):
            max_per_day, rolling = limit, False
        return Frequency(
            times=(),
            prn=True,
            min_interval=min_interval,
            max_per_day=max_per_day,
            every_n_days=every,
            weekdays=weekdays,
            max_rolling_24h=rolling,
        )

    times: tuple[time, ...]
    if interval is not None:
        lo, hi, phrase = interval
        if lo != hi:
            raise FrequencyError(
                f"“{phrase}” in “{_shown(text)}” is a range; a schedule needs one interval (or "
                "add “as needed”)."
            )
        if lo > 24:
            raise FrequencyError(
                f"“{phrase}” in “{_shown(text)}”: write intervals over a day in days, e.g. "
                "“every 2 days”."
            )
        if 24 % lo:
            raise FrequencyError(
                f"“{phrase}” in “{_shown(text)}” does not fit evenly in a 24-hour day, so the "
                "clock times would drift; give the clock times, or add “as needed”."
            )
        if slot_names:
            raise _conflict(phrase, acc.slots[0][1], text)
        per_day = 24 // lo
        if count is not None and count != per_day:
            raise _conflict(acc.counts[0][1], phrase, text)
        if explicit:
            gaps = {
                (explicit[k + 1].hour * 60 + explicit[k + 1].minute)
                - (explicit[k].hour * 60 + explicit[k].minute)
                for k in range(len(explicit) - 1)
            }
            if len(explicit) > per_day or (gaps and gaps != {lo * 60}):
                raise _conflict(phrase, acc.explicit[0][1], text)
            times = tuple(explicit)
        elif lo == 12:
            times = defaults.every_12_hours
        else:
            times = tuple(time(h) for h in range(0, 24, lo))
    elif explicit:
        if count is not None and count != len(explicit):
            raise _conflict(acc.counts[0][1], " and ".join(p for _, p in acc.explicit), text)
        times = tuple(explicit)
    elif slot_names:
        if count is not None and count != len(slot_times):
            raise _conflict(acc.counts[0][1], " and ".join(p for _, p in acc.slots), text)
        times = tuple(slot_times)
    elif count is not None:
        found = defaults.for_count(count)
        if found is None:
            raise FrequencyError(
                f"“{acc.counts[0][1]}” in “{_shown(text)}” has no default clock times; list the "
                "times, e.g. “at 8:00, 10:00, 12:00, 14:00, 16:00”."
            )
        times = found
    else:
        times = (defaults.once_daily,)
    if max_per_day is not None and max_per_day < len(times):
        raise FrequencyError(
            f"In “{_shown(text)}” the daily maximum ({max_per_day}) is smaller than the "
            f"{len(times)} scheduled doses."
        )
    return Frequency(
        times=times,
        prn=False,
        min_interval=None,
        max_per_day=max_per_day,
        every_n_days=every,
        weekdays=weekdays,
        max_rolling_24h=rolling,
    )


def _parse_uncached(norm: str, text: str, defaults: DefaultTimes) -> Frequency:
    if not norm:
        raise FrequencyError("The frequency is empty; write how often, e.g. “twice daily”.")
    if len(norm) > MAX_TEXT_LENGTH:
        raise FrequencyError(
            f"The frequency is too long ({len(norm)} characters); write only the schedule."
        )
    toks = _tokenize(norm)
    if not toks:
        raise FrequencyError(f"No dosing frequency found in “{_shown(text)}”.")
    return _resolve(_scan(toks, text), text, defaults)


@lru_cache(maxsize=8192)
def _parse_normalized(norm: str, defaults: DefaultTimes) -> Frequency | str:
    """Memoised on the normalised text; a failure is cached as its message."""
    try:
        return _parse_uncached(norm, norm, defaults)
    except FrequencyError as exc:
        return str(exc)
    except RecursionError:  # pragma: no cover - defensive, the scanner does not recurse
        return f"The frequency “{_shown(norm)}” is too complex."


_FAST: dict[str, Frequency | str] = {}
_FAST_LIMIT = 20_000


def parse_frequency(text: str, defaults: DefaultTimes | None = None) -> Frequency:
    """Parse prescription frequency wording into a :class:`Frequency`.

    Case-, dot- and whitespace-insensitive; dose, route and indication words are ignored. Raises
    :class:`FrequencyError` (a ValueError) with a message a nurse can act on for anything not
    understood — never a silent default. ``defaults`` lets a school use its own clock times.
    """
    if defaults is None or defaults is DEFAULT_TIMES:
        try:
            result = _FAST[text]
        except KeyError:
            if not isinstance(text, str):
                raise TypeError(f"frequency text must be str, not {type(text).__name__}") from None
            result = _parse_normalized(_normalize(text[: MAX_TEXT_LENGTH * 4]), DEFAULT_TIMES)
            if len(_FAST) >= _FAST_LIMIT:
                _FAST.clear()
            _FAST[text] = result
    else:
        result = _parse_normalized(_normalize(text[: MAX_TEXT_LENGTH * 4]), defaults)
    if isinstance(result, str):
        raise FrequencyError(result)
    return result


def clear_parse_cache() -> None:
    """Forget memoised parses (benchmarks measuring the uncached path; tests)."""
    _FAST.clear()
    _parse_normalized.cache_clear()
