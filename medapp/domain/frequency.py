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
   Text copied from the label starts with the product: a leading medication or generic name
   of the order (``names=``), or else a leading "<words> <number> <unit>" with a word this
   parser does not know ("naproxen 220 mg q8h prn", "Adderall 5 mg po at 12:15"), is read
   past; the strength and quantity are then read as a dose and ignored.
2. Tokenise (:mod:`._frequency_lexicon` holds the vocabulary): clock times ("11:30",
   "12:30 pm", "1pm", "at 10 am") become one token; numbers, words, commas and a few symbols
   ("/", "-") become tokens; number words become digits ("every eight hours"); a number word
   repeating the digit before it is dropped ("every 4 four hours"); run-together words from
   exported directions are split when every piece is a known word ("bidx10", "tidprn",
   "dailyinstr"). Any other character ("½", "²") is refused.
3. Scan (:mod:`._frequency_grammar`) left to right, always taking the longest known phrase at
   each position: counts ("bid",
   "3 times a day", "3 per day", "2/day", "take 1 cap 3 daily"), intervals ("q4h", "every 4-6 hours"), times of day ("at bedtime", "with
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
from 00:00 (so "q24h" is 00:00, a home dose — the contract rule, applied literally). Named days
or day spacing default to 09:00. Explicit clock times replace the defaults: those of a count
("twice daily at 8am and 8pm") and of a named time they directly qualify ("every morning at
7:30" is one dose at 07:30); a named time no clock time qualifies is a dose of its own ("at noon,
at 4 pm" is two doses). A dose marked "at home" ("every morning at home and at 11:00 at school")
is left out: only school doses are scheduled.

Where each time came from
-------------------------
The default table is kept (a reading must be shown and checked), but a default time is not an
instruction to give the dose at school. Every time therefore carries its source
(:class:`TimeSource`, ``Frequency.time_sources``): a written clock time (CLOCK), a school word
(SCHOOL: noon, midday, lunch, the lunch of a meal wording, one daily dose "at school"), a home
word (HOME: morning, breakfast, evening, dinner, bedtime), a count or day-spacing default
(COUNT) or an every-N-hours time (INTERVAL, with ``Frequency.interval_hours``).
``medapp.domain.schedule.school_dose_times`` decides from these which times are school doses.

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
* A bare number before "daily" that may be the quantity ("take 3 daily": three tablets once a
  day, or one tablet three times?) — unless the dose is stated before it ("take 1 cap 3
  daily" is three times a day) or the number is 1. "N per day", "N/day", "N a day" are counts.
* "at school" on an order with several daily doses and no school time among them ("bid at
  school"): which dose is the school's?
* A duration in minutes outside the reason of an as-needed dose ("prn seizure > 5 min" is read).
* Home doses that would otherwise land on the school schedule: "before school", "upon waking"
  (HL7 "WAKE"), text naming only "at home" doses, and "at home" not attached to a dose.
* Several times a week without named days ("twice weekly", "biweekly"), monthly schedules
  ("monthly", HL7 "MO"), "every other Monday".
* Scheduled doses mixed with as-needed doses ("twice daily and every 4 hours as needed"):
  enter two prescriptions. A PRN count plus a PRN interval is accepted only when the count
  cannot be a separate schedule (count x interval >= 24 h).
* Multi-step or conditional directions: "then", "taper", "until", "repeat", "starting",
  "stop", "hold", "if ..." (other than "if needed"), "before/after <anything but a meal or
  bed>", "day 1", "first", "once" on its own (a single dose), "stat", "<"/">".
* Ambiguous clock times: "at 11" (no minutes or am/pm), "1 am" written apart from "at"
  ("take 1 am and 1 pm" is a dose count; but "at 11:45 and 1 pm" continues a list of clock
  times and is read), 24-hour times with a single-digit hour 1-6
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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum
from functools import lru_cache

from medapp.domain._frequency_grammar import _Acc, _scan, _shown, _skip_label, _tokenize, _whole
from medapp.domain._frequency_lexicon import _AMOUNT_UNITS, FrequencyError, _normalize

__all__ = [
    "DEFAULT_TIMES",
    "DefaultTimes",
    "Frequency",
    "FrequencyError",
    "TimeSource",
    "clear_parse_cache",
    "parse_frequency",
]

MAX_TEXT_LENGTH = 500
"""Longer text is refused: the database column holds 300 characters and a schedule is short."""


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


class TimeSource(StrEnum):
    """Where one scheduled clock time came from: what decides whether it is a school dose.

    The parser keeps the district's default clock times (so a reading can be shown and
    checked), but a default is not an instruction to give the dose at school: only the order's
    own words can put a dose there (see ``medapp.domain.schedule.school_dose_times``).
    """

    CLOCK = "clock"
    """A clock time written in the order ("at 12:15", "every morning at 7:30")."""
    SCHOOL = "school"
    """A school-anchored named time: noon, midday, lunch (also the lunch of "with meals"), or a
    single daily dose the order places "at school"."""
    HOME = "home"
    """A home-anchored named time: morning, breakfast, evening, dinner, bedtime."""
    COUNT = "count"
    """A default time of a count or day spacing: daily, bid, tid, qid, every other day, M/W/F."""
    INTERVAL = "interval"
    """Every N hours, counted from 00:00 (q12h: the twice-daily defaults)."""
    ENTERED = "entered"
    """Administration times the nurse entered on the order (never set by the parser)."""


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
    * ``time_sources``: where each of ``times`` came from (:class:`TimeSource`), same length
      and order as ``times``; ``()`` on a hand-built Frequency means every time is as written
      (a clock time). Parsed frequencies always carry it.
    * ``interval_hours``: N of a scheduled "every N hours" (its times are INTERVAL), else None.

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
    time_sources: tuple[TimeSource, ...] = ()
    interval_hours: int | None = None

    def __post_init__(self) -> None:
        if self.time_sources and len(self.time_sources) != len(self.times):
            raise FrequencyError("Each scheduled time needs exactly one source.")
        if self.interval_hours is not None and self.interval_hours < 1:
            raise FrequencyError("The interval between scheduled doses must be at least 1 hour.")
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

    def sources(self) -> tuple[TimeSource, ...]:
        """``time_sources``, or CLOCK for every time of a hand-built Frequency."""
        return self.time_sources or (TimeSource.CLOCK,) * len(self.times)


def _fmt_span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day" + ("s" if days != 1 else "")
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"


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

    if acc.home and not (counts or acc.count_ranges or interval or slot_names or explicit or prn):
        raise FrequencyError(
            f"“{_shown(text)}” names only home doses ({', '.join(acc.home)}); there is no school "
            "dose to schedule."
        )
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
    source_of: dict[time, TimeSource]
    interval_hours: int | None = None
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
            source_of = dict.fromkeys(times, TimeSource.CLOCK)
        else:
            times = (
                defaults.every_12_hours if lo == 12 else tuple(time(h) for h in range(0, 24, lo))
            )
            source_of = dict.fromkeys(times, TimeSource.INTERVAL)
        interval_hours = lo
    elif explicit:
        # Clock times replace the defaults of a count ("twice daily at 8am and 8pm"); a named
        # time that no clock time set is a dose of its own ("at noon and at 4 pm").
        times = tuple(sorted(set(explicit) | set(slot_times)))
        source_of = _slot_sources(slot_names, defaults, acc.school_slots)
        source_of.update(dict.fromkeys(explicit, TimeSource.CLOCK))
        if count is not None and count != len(times):
            phrases = [p for _, p in acc.explicit] + [p for _, p in acc.slots]
            raise _conflict(acc.counts[0][1], " and ".join(phrases), text)
    elif slot_names:
        if count is not None and count != len(slot_times):
            raise _conflict(acc.counts[0][1], " and ".join(p for _, p in acc.slots), text)
        times = tuple(slot_times)
        source_of = _slot_sources(slot_names, defaults, acc.school_slots)
    elif count is not None:
        found = defaults.for_count(count)
        if found is None:
            raise FrequencyError(
                f"“{acc.counts[0][1]}” in “{_shown(text)}” has no default clock times; list the "
                "times, e.g. “at 8:00, 10:00, 12:00, 14:00, 16:00”."
            )
        times = found
        source_of = dict.fromkeys(times, TimeSource.COUNT)
    else:
        times = (defaults.once_daily,)
        source_of = dict.fromkeys(times, TimeSource.COUNT)
    sources = tuple(source_of[t] for t in times)
    if acc.at_school and interval is None:
        sources = _anchor_to_school(sources, acc.at_school[0], text)
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
        time_sources=sources,
        interval_hours=interval_hours,
    )


_STRENGTH = {
    TimeSource.CLOCK: 0,
    TimeSource.ENTERED: 0,
    TimeSource.SCHOOL: 1,
    TimeSource.HOME: 2,
    TimeSource.COUNT: 3,
    TimeSource.INTERVAL: 4,
}


def _slot_sources(
    slot_names: set[str], defaults: DefaultTimes, school_slots: set[str]
) -> dict[time, TimeSource]:
    """Each named time's clock time and source. Noon and lunch are school times; morning,
    breakfast, evening, dinner and bedtime are home times unless the order says "at school"
    right after them. Of "with meals" only the lunch dose is a school time (even "at school")."""
    out: dict[time, TimeSource] = {}
    for slot in slot_names:
        pairs: list[tuple[time, TimeSource]]
        if slot == "meals":
            pairs = [
                (defaults.breakfast, TimeSource.HOME),
                (defaults.lunch, TimeSource.SCHOOL),
                (defaults.dinner, TimeSource.HOME),
            ]
        else:
            anchored = slot in ("noon", "lunch") or slot in school_slots
            source = TimeSource.SCHOOL if anchored else TimeSource.HOME
            pairs = [(t, source) for t in defaults.for_slot(slot)]
        for t, source in pairs:
            known = out.get(t)
            if known is None or _STRENGTH[source] < _STRENGTH[known]:
                out[t] = source
    return out


def _anchor_to_school(
    sources: tuple[TimeSource, ...], phrase: str, text: str
) -> tuple[TimeSource, ...]:
    """ "daily at school": a single daily dose becomes a school dose. With several doses and no
    school time among them, "at school" does not say which one: refused with a question."""
    if any(s in (TimeSource.CLOCK, TimeSource.SCHOOL) for s in sources):
        return sources
    if len(sources) == 1:
        return (TimeSource.SCHOOL,)
    raise FrequencyError(
        f"“{_shown(text)}” says “{phrase}” but names {len(sources)} doses a day: which one is "
        "given at school? Write its time, e.g. “at 12:00 at school”; the other doses are given "
        "at home."
    )


def _parse_uncached(
    norm: str, text: str, defaults: DefaultTimes, names: tuple[tuple[str, ...], ...] = ()
) -> Frequency:
    if not norm:
        raise FrequencyError("The frequency is empty; write how often, e.g. “twice daily”.")
    if len(norm) > MAX_TEXT_LENGTH:
        raise FrequencyError(
            f"The frequency is too long ({len(norm)} characters); write only the schedule."
        )
    toks = _skip_label(_tokenize(norm), names)
    if not toks:
        raise FrequencyError(f"No dosing frequency found in “{_shown(text)}”.")
    return _resolve(_scan(toks, text), text, defaults)


@lru_cache(maxsize=8192)
def _parse_normalized(
    norm: str, defaults: DefaultTimes, names: tuple[tuple[str, ...], ...] = ()
) -> Frequency | str:
    """Memoised on the normalised text (and the tokenised product names); a failure is cached
    as its message."""
    try:
        return _parse_uncached(norm, norm, defaults, names)
    except FrequencyError as exc:
        return str(exc)
    except RecursionError:  # pragma: no cover - defensive, the scanner does not recurse
        return f"The frequency “{_shown(norm)}” is too complex."


@lru_cache(maxsize=4096)
def _name_tokens(names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Product names as token sequences, longest first ("Ritalin LA 20 mg" before "Ritalin").
    A name the tokenizer cannot read is left out (it then simply never matches)."""
    found: set[tuple[str, ...]] = set()
    for name in names:
        try:
            toks = _tokenize(_normalize(name[:MAX_TEXT_LENGTH]))
        except FrequencyError:
            continue
        if toks:
            found.add(tuple(toks))
    return tuple(sorted(found, key=lambda t: (-len(t), t)))


_FAST: dict[str, Frequency | str] = {}
_FAST_NAMED: dict[tuple[str, tuple[str, ...]], Frequency | str] = {}
_FAST_LIMIT = 20_000


def parse_frequency(
    text: str, defaults: DefaultTimes | None = None, *, names: Iterable[str] = ()
) -> Frequency:
    """Parse prescription frequency wording into a :class:`Frequency`.

    Case-, dot- and whitespace-insensitive; dose, route and indication words are ignored. Raises
    :class:`FrequencyError` (a ValueError) with a message a nurse can act on for anything not
    understood — never a silent default. ``defaults`` lets a school use its own clock times.
    ``names`` are the order's medication and generic names: a text copied from the label that
    starts with one of them ("Adderall 5 mg po at 12:15") is read from after the name. Without
    them a leading "<words> <number> <unit>" is still read past as the product.
    """
    if isinstance(names, str):
        names = (names,)
    elif not isinstance(names, tuple):
        names = tuple(names)
    if names:
        names = tuple(n for n in names if n)
    if defaults is None or defaults is DEFAULT_TIMES:
        if names:
            key = (text, names)
            try:
                result = _FAST_NAMED[key]
            except KeyError:
                if not isinstance(text, str):
                    raise TypeError(
                        f"frequency text must be str, not {type(text).__name__}"
                    ) from None
                result = _parse_normalized(
                    _normalize(text[: MAX_TEXT_LENGTH * 4]), DEFAULT_TIMES, _name_tokens(names)
                )
                if len(_FAST_NAMED) >= _FAST_LIMIT:
                    _FAST_NAMED.clear()
                _FAST_NAMED[key] = result
        else:
            try:
                result = _FAST[text]
            except KeyError:
                if not isinstance(text, str):
                    raise TypeError(
                        f"frequency text must be str, not {type(text).__name__}"
                    ) from None
                result = _parse_normalized(_normalize(text[: MAX_TEXT_LENGTH * 4]), DEFAULT_TIMES)
                if len(_FAST) >= _FAST_LIMIT:
                    _FAST.clear()
                _FAST[text] = result
    else:
        result = _parse_normalized(
            _normalize(text[: MAX_TEXT_LENGTH * 4]), defaults, _name_tokens(names)
        )
    if isinstance(result, str):
        raise FrequencyError(result)
    return result


def clear_parse_cache() -> None:
    """Forget memoised parses (benchmarks measuring the uncached path; tests)."""
    _FAST.clear()
    _FAST_NAMED.clear()
    _parse_normalized.cache_clear()
