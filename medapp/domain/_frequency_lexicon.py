"""Words and characters of prescription frequencies: the vocabulary the parser knows.

Split from :mod:`medapp.domain.frequency` so the tables (what each word means, which words are
skipped, which are hazards in free text, what to tell the nurse instead) can be read and
reviewed on their own. Also the first step of parsing: normalisation and clock-time tokens.
"""

from __future__ import annotations

import re


class FrequencyError(ValueError):
    """The frequency text cannot be turned into a safe schedule.

    The message is written for the nurse: it quotes the text and says what to write instead.
    A ValueError subclass so that callers validating form input can catch one family.
    Defined here, raised everywhere in the parser, and public as
    ``medapp.domain.frequency.FrequencyError``.
    """

    __module__ = "medapp.domain.frequency"


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
    otc half int upon
    susp soln syrup elixir cream ointment gel lotion respule respules autoinjector pen kwikpen
    flexpen solostar
    """.split()
)
# Product-form abbreviations after a strength ("4 mg ODT", "10 mg XR"): skipped, but too short
# to be pieces of a run-together word (an unknown word is not shredded into them).
_FORM_ABBREVIATIONS = frozenset("odt er xr xl sr cr dr ec la hfa ds".split())
_NOISE = _NOISE | _FORM_ABBREVIATIONS
_NOISE = _NOISE | frozenset(_UNITS) - {"x", "time", "times"}
# "," stands for any comma or semicolon: skipped like noise, but it separates phrases, so "at noon,
# at 4 pm" is two doses while "at noon at 4 pm" would set noon to 4 pm.
_NOISE = _NOISE | {"-", "/", "=", "+", "%", "~", "*", "#", ","}

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
    tonight midnight afternoon weekdays weekends weekday weekend x od < > wake waking rising
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
    "before": "“before …” is only understood with a meal or bedtime (“before lunch”); a dose "
    "“before school” is given at home.",
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
    "wake": "A dose on waking is a home dose; give the clock time if it is given at school.",
    "waking": "A dose on waking is a home dose; give the clock time if it is given at school.",
    "rising": "A dose on rising is a home dose; give the clock time if it is given at school.",
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
# Between a named time and the clock time that sets it ("every morning at 7:30").
_GLUE = frozenset({"at", "in", "the", "on", "around", "about"})
_DAY_LIST_SEP = frozenset({"/", ",", "and", "&"})
_DAY_RANGE_SEP = frozenset({"-", "through", "thru", "to"})

# Times of day: word -> slot of DefaultTimes.
_SLOT_WORDS = {
    "morning": "morning",
    "mornings": "morning",
    "am": "morning",
    "qam": "morning",
    "morn": "morning",
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
}


# Common indications: known only so that run-together words split ("painprn" -> "pain prn");
# they are still free text (skipped after "for"/"prn", refused elsewhere).
_INDICATION_WORDS = frozenset(
    """
    pain anxiety nausea vomiting wheezing cough coughing sleep insomnia fever headache itch
    itching allergy allergies spasm spasms muscle asthma sob breath seizure seizures migraine
    """.split()
)


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
    |(?P<comma>\s*[,;][\s,;]*)
    |(?P<skip>[\s:()\[\]{}!?"'`_|\\]+)
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
