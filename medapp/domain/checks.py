"""May this dose be given now? Every rule, one answer, and overrides that leave a record.

Why one function: the record-dose dialog, the barcode scan and an offline resend must refuse the
same things for the same reasons. ``check_can_give`` returns every finding as a
:class:`RuleWarning` with a code, a message for the nurse, whether it blocks, and whether a nurse
may override it. ``GiveDecision.authorize`` turns the findings plus an optional
:class:`Override` into "go" (with the override text to store in ``override_reason``) or a
:class:`DoseRefused` error.

What can be overridden with a written reason (a nurse's clinical judgement, recorded): PRN limits
(the prescriber may have said so by phone), an allergy match (the listed allergy may be an
intolerance), a dose at no scheduled time, a frequency the parser could not read. What cannot:
a time in the future, an order not active/started/ended, an expired authorization (there is no
legal order), and a scheduled dose already given (correct the earlier record if it was wrong —
the database also allows only one current "given" per scheduled dose).

The allergy check is a simple safety net, not a drug database: case-insensitive whole-word and
ingredient matching of the medication's names against the student's allergens, plus a short list
of common allergy classes (penicillins, sulfonamides, NSAIDs, cephalosporins, opioids).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from medapp.domain.doses import (
    CLOCK_SKEW,
    DoseLog,
    DoseStatus,
    LogStatus,
    current_logs,
    dose_statuses,
)
from medapp.domain.frequency import FrequencyError
from medapp.domain.prn import PrnRule, check_prn
from medapp.domain.schedule import (
    PlanFlagCode,
    Prescription,
    authorization_status,
    doses_due_at_school,
    effective_frequency,
)
from medapp.domain.school import SchoolCalendar, require_aware

__all__ = [
    "DoseRefused",
    "GiveDecision",
    "Override",
    "OverrideRecord",
    "RuleWarning",
    "WarningCode",
    "allergy_matches",
    "check_can_give",
]


class WarningCode(StrEnum):
    FUTURE_TIME = "FUTURE_TIME"
    NOT_ACTIVE = "NOT_ACTIVE"
    NOT_STARTED = "NOT_STARTED"
    ENDED = "ENDED"
    AUTHORIZATION_EXPIRED = "AUTHORIZATION_EXPIRED"
    AUTHORIZATION_EXPIRING = "AUTHORIZATION_EXPIRING"
    FREQUENCY_INVALID = "FREQUENCY_INVALID"
    ALREADY_GIVEN = "ALREADY_GIVEN"
    NOT_SCHEDULED = "NOT_SCHEDULED"
    LATE_DOSE = "LATE_DOSE"
    PRN_MIN_INTERVAL = "PRN_MIN_INTERVAL"
    PRN_MAX_PER_DAY = "PRN_MAX_PER_DAY"
    ALLERGY = "ALLERGY"


@dataclass(frozen=True, slots=True)
class RuleWarning:
    """One finding. ``blocking`` findings stop the dose unless ``overridable`` and overridden;
    non-blocking ones are information for the nurse (authorization expiring, a late dose)."""

    code: WarningCode
    message: str
    blocking: bool = True
    overridable: bool = False
    earliest_allowed: datetime | None = None


@dataclass(frozen=True, slots=True)
class Override:
    """A nurse's decision to give despite overridable warnings; a written reason is required."""

    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("An override needs a written reason.")


@dataclass(frozen=True, slots=True)
class OverrideRecord:
    """What gets stored with the dose (``medication_logs.override_reason``)."""

    reason: str
    codes: tuple[WarningCode, ...]

    def as_text(self) -> str:
        return f"Overrode {', '.join(self.codes)}: {self.reason.strip()}"


class DoseRefused(ValueError):
    """The dose may not be recorded; ``warnings`` say why (and what an override would need)."""

    def __init__(self, warnings: tuple[RuleWarning, ...], message: str) -> None:
        super().__init__(message)
        self.warnings = warnings


@dataclass(frozen=True, slots=True)
class GiveDecision:
    """All findings for one proposed dose, and the scheduled dose it would be recorded for."""

    warnings: tuple[RuleWarning, ...] = ()
    scheduled_for: datetime | None = None

    @property
    def blockers(self) -> tuple[RuleWarning, ...]:
        """Blocking findings no override can lift."""
        return tuple(w for w in self.warnings if w.blocking and not w.overridable)

    @property
    def needs_override(self) -> tuple[RuleWarning, ...]:
        """Blocking findings a nurse may override with a written reason."""
        return tuple(w for w in self.warnings if w.blocking and w.overridable)

    @property
    def notices(self) -> tuple[RuleWarning, ...]:
        return tuple(w for w in self.warnings if not w.blocking)

    @property
    def allowed(self) -> bool:
        """True when nothing blocks: the dose can be recorded without an override."""
        return not any(w.blocking for w in self.warnings)

    def has(self, code: WarningCode) -> bool:
        return any(w.code is code for w in self.warnings)

    def authorize(self, override: Override | None = None) -> OverrideRecord | None:
        """Go/no-go. Returns the override record to store (None when none was needed).

        Raises DoseRefused when a non-overridable finding blocks, or when an overridable one
        blocks and no override was given. An override given when none is needed is not
        recorded (nothing was overridden).
        """
        if self.blockers:
            raise DoseRefused(self.blockers, " ".join(w.message for w in self.blockers))
        pending = self.needs_override
        if not pending:
            return None
        if override is None:
            raise DoseRefused(
                pending,
                " ".join(w.message for w in pending) + " A written override reason is required.",
            )
        return OverrideRecord(override.reason.strip(), tuple(w.code for w in pending))


def check_can_give(
    prescription: Prescription,
    calendar: SchoolCalendar,
    *,
    at: datetime,
    now: datetime,
    logs: Iterable[DoseLog] = (),
    scheduled_for: datetime | None = None,
    medication_names: Iterable[str] = (),
    allergens: Iterable[str] = (),
    clock_skew: timedelta = CLOCK_SKEW,
) -> GiveDecision:
    """Every rule about giving ``prescription`` at ``at`` (recorded at ``now``).

    ``logs`` are the prescription's logs (corrections included; only current ones count);
    ``scheduled_for`` is the scheduled dose being given, or None to pick the scheduled dose
    whose window contains ``at`` (for a scheduled order) or to treat it as PRN.
    ``medication_names`` (brand, generic, ingredients; defaults to the prescription's
    ``medication_name``) are matched against the student's ``allergens``.
    """
    require_aware(at, "at")
    require_aware(now, "now")
    warnings: list[RuleWarning] = []
    if at > now + clock_skew:
        local = at.astimezone(calendar.tz).strftime("%H:%M")
        warnings.append(
            RuleWarning(
                WarningCode.FUTURE_TIME,
                f"The time given ({local}) is in the future; record a dose after giving it.",
            )
        )
    day = calendar.local_date(at)
    if not prescription.is_active:
        warnings.append(RuleWarning(WarningCode.NOT_ACTIVE, "The prescription is not active."))
    if day < prescription.start_date:
        warnings.append(
            RuleWarning(
                WarningCode.NOT_STARTED,
                f"The prescription starts on {prescription.start_date.isoformat()}.",
            )
        )
    if prescription.end_date is not None and day > prescription.end_date:
        warnings.append(
            RuleWarning(
                WarningCode.ENDED, f"The prescription ended on {prescription.end_date.isoformat()}."
            )
        )
    auth = authorization_status(prescription, calendar, day)
    if auth is not None:
        expired = auth.code is PlanFlagCode.AUTHORIZATION_EXPIRED
        warnings.append(
            RuleWarning(
                WarningCode.AUTHORIZATION_EXPIRED
                if expired
                else WarningCode.AUTHORIZATION_EXPIRING,
                auth.message,
                blocking=expired,
            )
        )

    current = current_logs(logs)
    target = scheduled_for
    not_in_force = any(w.code in _ORDER_NOT_IN_FORCE for w in warnings)
    try:
        if not_in_force:
            # No order to give under: schedule and PRN findings would only add noise.
            return _with_allergies(warnings, prescription, medication_names, allergens, target)
        frequency = effective_frequency(prescription, calendar)
    except FrequencyError as exc:
        warnings.append(
            RuleWarning(
                WarningCode.FREQUENCY_INVALID,
                f"The frequency cannot be checked: {exc}",
                overridable=True,
            )
        )
        if target is not None:
            warnings.extend(_already_given_tagged(current, target, calendar))
    else:
        if frequency.prn and scheduled_for is None:
            decision = check_prn(frequency, current, at, calendar)
            for rule in decision.rules:
                code = (
                    WarningCode.PRN_MIN_INTERVAL
                    if rule is PrnRule.MIN_INTERVAL
                    else WarningCode.PRN_MAX_PER_DAY
                )
                warnings.append(
                    RuleWarning(
                        code,
                        decision.reason,
                        overridable=True,
                        earliest_allowed=decision.earliest_allowed,
                    )
                )
        else:
            target, found = _scheduled_findings(prescription, calendar, at, now, current, target)
            warnings.extend(found)

    return _with_allergies(warnings, prescription, medication_names, allergens, target)


_ORDER_NOT_IN_FORCE = frozenset(
    {
        WarningCode.NOT_ACTIVE,
        WarningCode.NOT_STARTED,
        WarningCode.ENDED,
        WarningCode.AUTHORIZATION_EXPIRED,
    }
)


def _with_allergies(
    warnings: list[RuleWarning],
    prescription: Prescription,
    medication_names: Iterable[str],
    allergens: Iterable[str],
    target: datetime | None,
) -> GiveDecision:
    names = list(medication_names) or (
        [prescription.medication_name] if prescription.medication_name else []
    )
    for allergen in allergy_matches(names, allergens):
        warnings.append(
            RuleWarning(
                WarningCode.ALLERGY,
                f"Allergy on file: “{allergen}” matches {' / '.join(names)}.",
                overridable=True,
            )
        )
    return GiveDecision(tuple(warnings), target)


def _scheduled_findings(
    prescription: Prescription,
    calendar: SchoolCalendar,
    at: datetime,
    now: datetime,
    current: list[DoseLog],
    target: datetime | None,
) -> tuple[datetime | None, list[RuleWarning]]:
    window = calendar.dose_window
    plan = doses_due_at_school(prescription, calendar, calendar.local_date(target or at))
    if target is None:
        near = [d.scheduled_for for d in plan.doses if abs(d.scheduled_for - at) <= window]
        if not near:
            return None, [
                RuleWarning(
                    WarningCode.NOT_SCHEDULED,
                    "No scheduled school dose is due at this time.",
                    overridable=True,
                )
            ]
        target = min(near, key=lambda s: (abs(s - at), s))
    found: list[RuleWarning] = []
    states = dose_statuses(plan.doses, current, now, window).doses
    state = next((s for s in states if s.dose.scheduled_for == target), None)
    if state is None:
        found.extend(_already_given_tagged(current, target, calendar))
    elif state.log is not None and state.status in (DoseStatus.COMPLETED, DoseStatus.LATE):
        found.append(_already(state.log, calendar))
    if at > target + window:
        found.append(
            RuleWarning(
                WarningCode.LATE_DOSE,
                f"Late: the {target.astimezone(calendar.tz).strftime('%H:%M')} dose's window has "
                "passed; it will be flagged as late.",
                blocking=False,
            )
        )
    return target, found


def _already_given_tagged(
    current: list[DoseLog], target: datetime, calendar: SchoolCalendar
) -> list[RuleWarning]:
    for log in current:
        if log.status is LogStatus.GIVEN and log.scheduled_for == target:
            return [_already(log, calendar)]
    return []


def _already(log: DoseLog, calendar: SchoolCalendar) -> RuleWarning:
    by = f" by {log.nurse_name}" if log.nurse_name else ""
    hhmm = log.time_given.astimezone(calendar.tz).strftime("%H:%M")
    return RuleWarning(
        WarningCode.ALREADY_GIVEN,
        f"Already given at {hhmm}{by}. If that record is wrong, correct it instead.",
    )


# --------------------------------------------------------------------------------------------
# Allergy matching
# --------------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+")
_STOP = frozenset(
    """
    and with the of for hcl hydrochloride sodium potassium calcium magnesium sulfate acetate
    tablet tablets capsule capsules oral solution suspension chewable extended release er xr sr
    dr cream ointment inhaler spray drops injection allergy allergic allergies intolerance
    reaction medication medicine drug drugs mild severe
    """.split()
)
_CLASSES = {
    "penicillin": "penicillin amoxicillin ampicillin dicloxacillin nafcillin oxacillin "
    "piperacillin augmentin amoxil",
    "sulfa": "sulfamethoxazole sulfasalazine sulfadiazine sulfisoxazole bactrim septra",
    "sulfonamide": "sulfamethoxazole sulfasalazine sulfadiazine sulfisoxazole bactrim septra",
    "nsaid": "ibuprofen naproxen ketorolac diclofenac celecoxib meloxicam aspirin indomethacin "
    "advil motrin aleve",
    "aspirin": "aspirin acetylsalicylic",
    "cephalosporin": "cephalexin cefdinir ceftriaxone cefuroxime cefadroxil cefprozil keflex",
    "opioid": "codeine hydrocodone oxycodone morphine tramadol",
    "codeine": "codeine",
}
_CLASS_MEMBERS = {key: frozenset(value.split()) for key, value in _CLASSES.items()}


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if len(w) >= 3 and w not in _STOP]


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


def allergy_matches(medication_names: Iterable[str], allergens: Iterable[str]) -> tuple[str, ...]:
    """The allergens (as written) that match any of the medication's names or ingredients.

    Matches a whole allergen phrase, any allergen word of 4+ letters as a whole medication word
    (singular/plural alike), an allergen of 5+ letters as the start of a medication word
    ("sulfa" → "sulfamethoxazole"), or an allergy class ("penicillin" → amoxicillin).
    """
    med_words: set[str] = set()
    med_text: list[str] = []
    for name in medication_names:
        words = _words(name)
        med_words.update(_singular(w) for w in words)
        med_text.append(" ".join(words))
    if not med_words:
        return ()
    joined = " | ".join(med_text)
    matched: list[str] = []
    for allergen in allergens:
        words = [_singular(w) for w in _words(allergen)]
        if not words:
            continue
        phrase = " ".join(words)
        hit = (
            f" {phrase} " in f" {joined} "
            or any(len(w) >= 4 and w in med_words for w in words)
            or any(len(w) >= 5 and any(m.startswith(w) for m in med_words) for w in words)
            or any(w in _CLASS_MEMBERS and med_words & _CLASS_MEMBERS[w] for w in words)
        )
        if hit and allergen not in matched:
            matched.append(allergen)
    return tuple(matched)
