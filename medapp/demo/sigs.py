"""Every frequency text ("sig") the demo writes, with what a school does with it.

One list, so a test can prove the project's parser accepts every one of them
(``medapp.domain.frequency.parse_frequency``) and reads PRN limits, named days and day spacing
the same way the generator does.

``school_times`` are the administration times the school order names (stored in
``student_medications.administration_times``; they win over the parsed times). Symbolic times
follow the school: ``LUNCH`` is its lunch time, ``BEFORE_LUNCH`` fifteen minutes earlier,
``ARRIVAL`` fifteen minutes after the day starts. Each school sig names its school dose in its
own words (the times only make it exact), so the domain's ``doses_due_at_school`` finds a school
dose in the text alone. A scheduled sig with no school times is a home medication ("every
morning", "tid"): it appears in the formulary as the typical wording but no school order uses
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from medapp.demo.schoolcal import add_minutes

LUNCH = "lunch"
BEFORE_LUNCH = "before lunch"
ARRIVAL = "arrival"


@dataclass(frozen=True)
class Sig:
    text: str
    prn: bool = False
    school_times: tuple[str, ...] = ()
    min_interval_minutes: int | None = None
    max_per_day: int | None = None
    weekdays: frozenset[int] | None = None
    every_n_days: int = 1

    def times_at(self, day_start: time, lunch: time) -> tuple[time, ...]:
        """The school's administration times for this sig (sorted, unique)."""
        out: set[time] = set()
        for t in self.school_times:
            if t == LUNCH:
                out.add(lunch)
            elif t == BEFORE_LUNCH:
                out.add(add_minutes(lunch, -15))
            elif t == ARRIVAL:
                out.add(add_minutes(day_start, 15))
            else:
                hh, mm = t.split(":")
                out.add(time(int(hh), int(mm)))
        return tuple(sorted(out))


def _prn(text: str, interval_hours: int | None = None, max_per_day: int | None = None) -> Sig:
    minutes = interval_hours * 60 if interval_hours else None
    return Sig(text, prn=True, min_interval_minutes=minutes, max_per_day=max_per_day)


def _at(text: str, *times: str, **kw: object) -> Sig:
    return Sig(text, school_times=times, **kw)  # type: ignore[arg-type]


MWF = frozenset({0, 2, 4})

SIGS: tuple[Sig, ...] = (
    # --- scheduled, with the time(s) the school gives them. Every school order names its school
    # dose the way real school orders do (a clock time, noon/lunch, "at school", or qid/q6h
    # that home cannot cover), so the app's own rules put it on the school list even without
    # the administration times the nurse entered (issue 9, rule 1).
    _at("1 tab PO daily at noon", "12:00"),
    _at("1 tab PO daily at 11:30", "11:30"),
    _at("1 cap PO daily at 12:30 pm", "12:30"),
    _at("1 tab PO daily at 12:30 pm", "12:30"),
    _at("1 tab PO daily at 12:00", "12:00"),
    _at("1/2 tab PO daily at noon", "12:00"),
    _at("at noon", "12:00"),
    _at("daily at 11:30", "11:30"),
    _at("once daily at 12:30 pm", "12:30"),
    _at("1 tab PO at 08:30 and 12:30", "08:30", "12:30"),
    _at("daily with lunch", LUNCH),
    _at("with lunch", LUNCH),
    _at("1 cap PO with lunch", LUNCH),
    _at("1 tab PO with lunch", LUNCH),
    _at("2 caps PO with lunch", LUNCH),
    _at("inject SC before lunch", BEFORE_LUNCH),
    _at("inject SC with lunch", LUNCH),
    _at("every morning at school", ARRIVAL),
    _at("1 tab PO daily at school", ARRIVAL),
    _at("once daily at school", ARRIVAL),
    _at("qd at school", ARRIVAL),
    _at("tid with meals", LUNCH),
    _at("1 tab PO tid with meals", LUNCH),
    _at("1 cap PO tid with meals", LUNCH),
    _at("qid", LUNCH),
    _at("1 cap PO qid", LUNCH),
    _at("Mon/Wed/Fri at 10:00", "10:00", weekdays=MWF),
    _at("every other day at noon", "12:00", every_n_days=2),
    _at("1 tab PO every other day at noon", "12:00", every_n_days=2),
    # --- scheduled home medications (formulary wording only; no school dose)
    Sig("twice daily"),
    Sig("bid"),
    Sig("1 tab PO bid"),
    Sig("2 puffs twice daily"),
    Sig("2 puffs bid"),
    Sig("1 vial via nebulizer twice daily"),
    Sig("every morning"),
    Sig("1 tab PO daily"),
    Sig("once daily"),
    Sig("qd"),
    Sig("tid"),
    Sig("1 tab PO tid"),
    Sig("every other day", every_n_days=2),
    Sig("1 tab PO every other day", every_n_days=2),
    # --- as needed
    _prn("2 puffs q4h prn wheezing", 4),
    _prn("2 puffs q4-6h prn wheezing", 4),
    _prn("1 vial via nebulizer q4h prn wheezing", 4),
    _prn("q4h prn", 4),
    _prn("every 4 hours as needed", 4),
    _prn("q4-6h prn fever or pain", 4),
    _prn("every 6 hours as needed for pain", 6),
    _prn("1 tab PO q6h prn pain, max 2 per day", 6, 2),
    _prn("q6h prn headache", 6),
    _prn("q6h prn itching", 6),
    _prn("every 6 hours as needed for hives", 6),
    _prn("every 8 hours as needed", 8),
    _prn("q8h prn pain", 8),
    _prn("q8h prn nausea", 8),
    _prn("every 8 hours as needed for nausea", 8),
    _prn("q8h prn anxiety, max 1 per day", 8, 1),
    _prn("daily as needed for allergies", None, 1),
    _prn("daily as needed for heartburn", None, 1),
    _prn("bid prn rash", None, 2),
    _prn("prn anaphylaxis, max 2 per day", None, 2),
    _prn("prn opioid overdose, max 2 per day", None, 2),
    _prn("prn adrenal crisis, max 1 per day", None, 1),
    _prn("prn severe hypoglycemia, max 1 per day", None, 1),
    _prn("prn low blood sugar, max 3 per day", None, 3),
    _prn("prn seizure, max 1 per day", None, 1),
    _prn("prn seizure, max 2 per day", None, 2),
    _prn("prn insect sting, max 3 per day", None, 3),
)

SIG_BY_TEXT: dict[str, Sig] = {s.text: s for s in SIGS}
assert len(SIG_BY_TEXT) == len(SIGS), "duplicate sig text"


def sig(text: str) -> Sig:
    try:
        return SIG_BY_TEXT[text]
    except KeyError:
        raise KeyError(f"demo sig {text!r} is not in medapp.demo.sigs.SIGS") from None
