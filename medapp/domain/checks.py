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

One dose, one truth: a current GIVEN whose dose tag (``scheduled_for``, or the time given when
it has none) lies within the school's dose window of a scheduled dose satisfies that dose,
whatever the tag says to the second; a second GIVEN for it is refused with who and when and
the log's id (``DoseRefused.existing_log_id``) so the desk can offer "Correct…" on it. A dose
given early or late with an override is recorded *for* the dose it replaces. A GIVEN after a
NOT_GIVEN for the same dose needs a written reason and supersedes the NOT_GIVEN
(``GiveDecision.supersedes_id``); a NOT_GIVEN for a dose already given is refused
(``check_can_record_not_given``). Nothing is recorded for a later school day. PRN limits apply
to every GIVEN of an as-needed order, whatever dose tag the command carries.

Override reasons are sentences (``override_reason_problem``): at least 10 characters with a few
letters, because "ok" or "..." tells the next nurse nothing.

The allergy check is a simple safety net, not a drug database: case-insensitive whole-word and
ingredient matching of the medication's names against the student's allergens, plus a short list
of common allergy classes (penicillins, sulfonamides, NSAIDs, cephalosporins, opioids).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
from medapp.domain.plausibility import (
    dose_strength_conflict,
    dose_text_differs,
    quantity_over_order,
)
from medapp.domain.prn import PrnLimits, PrnRule, check_prn
from medapp.domain.schedule import (
    PlanFlagCode,
    Prescription,
    authorization_status,
    doses_due_at_school,
    effective_frequency,
)
from medapp.domain.school import SchoolCalendar, require_aware

__all__ = [
    "MIN_REASON_LENGTH",
    "DoseRefused",
    "GiveDecision",
    "Override",
    "OverrideReasonError",
    "OverrideRecord",
    "RuleWarning",
    "WarningCode",
    "active_ingredients",
    "allergy_matches",
    "check_can_give",
    "check_can_record_not_given",
    "override_reason_problem",
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
    EARLY_DOSE = "EARLY_DOSE"
    LATER_DAY = "LATER_DAY"
    NOT_GIVEN_ON_FILE = "NOT_GIVEN_ON_FILE"
    GIVEN_ON_FILE = "GIVEN_ON_FILE"
    ALREADY_NOT_GIVEN = "ALREADY_NOT_GIVEN"
    DOSE_DIFFERS = "DOSE_DIFFERS"
    QUANTITY_OVER_ORDER = "QUANTITY_OVER_ORDER"
    DOSE_STRENGTH_CONFLICT = "DOSE_STRENGTH_CONFLICT"


#: Findings that point at an existing log the nurse may want to correct instead.
_POINTS_AT_LOG = frozenset(
    {WarningCode.ALREADY_GIVEN, WarningCode.GIVEN_ON_FILE, WarningCode.ALREADY_NOT_GIVEN}
)


@dataclass(frozen=True, slots=True)
class RuleWarning:
    """One finding. ``blocking`` findings stop the dose unless ``overridable`` and overridden;
    non-blocking ones are information for the nurse (authorization expiring, a late dose)."""

    code: WarningCode
    message: str
    blocking: bool = True
    overridable: bool = False
    earliest_allowed: datetime | None = None
    log_id: Hashable | None = None  # the existing log this finding is about (to correct)


MIN_REASON_LENGTH = 10


class OverrideReasonError(ValueError):
    """An override reason that is not a sentence; the message says what is needed."""


def override_reason_problem(reason: object) -> str | None:
    """Why ``reason`` is not an acceptable written reason (one sentence), or None when it is.

    A reason is kept forever with the dose and read by the next nurse and the auditor, so it
    must say something: at least 10 characters, and words (5 letters or more), not only
    punctuation or numbers."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        return (
            "A written reason is required: say in a sentence why (at least "
            f"{MIN_REASON_LENGTH} characters)."
        )
    if len(text) < MIN_REASON_LENGTH:
        return (
            f"The reason “{text}” is too short: say in a sentence why (at least "
            f"{MIN_REASON_LENGTH} characters)."
        )
    if sum(ch.isalpha() for ch in text) < 5:
        return "The reason must be written in words, not only punctuation or numbers."
    return None


@dataclass(frozen=True, slots=True)
class Override:
    """A nurse's decision to give despite overridable warnings; a written reason is required
    (a sentence: see ``override_reason_problem``; OverrideReasonError otherwise)."""

    reason: str

    def __post_init__(self) -> None:
        problem = override_reason_problem(self.reason)
        if problem is not None:
            raise OverrideReasonError(problem)


@dataclass(frozen=True, slots=True)
class OverrideRecord:
    """What gets stored with the dose (``medication_logs.override_reason``)."""

    reason: str
    codes: tuple[WarningCode, ...]

    def as_text(self) -> str:
        return f"Overrode {', '.join(self.codes)}: {self.reason.strip()}"


class DoseRefused(ValueError):
    """The dose may not be recorded; ``warnings`` say why (and what an override would need)."""

    def __init__(
        self,
        warnings: tuple[RuleWarning, ...],
        message: str,
        existing_log_id: Hashable | None = None,
    ) -> None:
        super().__init__(message)
        self.warnings = warnings
        if existing_log_id is None:
            existing_log_id = next(
                (w.log_id for w in warnings if w.code in _POINTS_AT_LOG and w.log_id is not None),
                None,
            )
        #: the current log that makes this record impossible (offer "Correct…" on it)
        self.existing_log_id = existing_log_id


@dataclass(frozen=True, slots=True)
class GiveDecision:
    """All findings for one proposed dose, and the scheduled dose it would be recorded for."""

    warnings: tuple[RuleWarning, ...] = ()
    scheduled_for: datetime | None = None
    #: a current NOT_GIVEN of the same dose that this GIVEN supersedes (after an override)
    supersedes_id: Hashable | None = None

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
    order_dose: str | None = None,
    dosage_given: str | None = None,
    quantity_used: int | None = None,
    product_strength: str | None = None,
) -> GiveDecision:
    """Every rule about giving ``prescription`` at ``at`` (recorded at ``now``).

    ``logs`` are the prescription's logs (corrections included; only current ones count);
    ``scheduled_for`` is the scheduled dose being given (snapped to the school dose within the
    window of it), or None to pick the scheduled dose whose window contains ``at`` — or, for an
    early/late dose, the dose it replaces (an override is then needed). As-needed orders ignore
    ``scheduled_for`` (the result's ``scheduled_for`` is None) and always check the PRN limits.
    ``medication_names`` (brand, generic, ingredients; defaults to the prescription's
    ``medication_name``) are matched against the student's ``allergens``. With ``order_dose``
    (the order's dose text), ``dosage_given`` and ``quantity_used`` are checked for
    plausibility, and ``product_strength`` for a conflict with the order (a notice).
    """
    warnings = _when_findings(
        at,
        now,
        scheduled_for,
        calendar,
        clock_skew,
        "The time given ({}) is in the future; record a dose after giving it.",
    )
    day = calendar.local_date(at)
    warnings.extend(_order_findings(prescription, calendar, day))

    extras = _plausibility(order_dose, dosage_given, quantity_used, product_strength)
    current = current_logs(logs)
    target = scheduled_for
    supersedes: Hashable | None = None
    not_in_force = any(
        w.code in _ORDER_NOT_IN_FORCE or w.code is WarningCode.LATER_DAY for w in warnings
    )
    if not_in_force:
        # No order to give under (or a dose of a later day): schedule and PRN findings would
        # only add noise.
        warnings.extend(extras)
        return _with_allergies(warnings, prescription, medication_names, allergens, target)
    window = calendar.dose_window
    try:
        frequency = effective_frequency(prescription, calendar)
    except FrequencyError as exc:
        warnings.append(
            RuleWarning(
                WarningCode.FREQUENCY_INVALID,
                f"The frequency cannot be checked: {exc}",
                overridable=True,
            )
        )
        if prescription.is_prn:
            target = None
            limits = PrnLimits(prescription.prn_min_interval, prescription.prn_max_per_day)
            warnings.extend(_prn_findings(limits, current, at, calendar))
        else:
            key = target or at
            warnings.extend(_already(log, calendar) for log in _given_near(current, key, window))
    else:
        if frequency.prn:
            target = None
            warnings.extend(_prn_findings(PrnLimits.of(frequency), current, at, calendar))
        else:
            target, found, supersedes = _scheduled_findings(
                prescription, calendar, at, now, current, target
            )
            warnings.extend(found)
    warnings.extend(extras)
    return _with_allergies(warnings, prescription, medication_names, allergens, target, supersedes)


def check_can_record_not_given(
    prescription: Prescription,
    calendar: SchoolCalendar,
    *,
    at: datetime,
    now: datetime,
    logs: Iterable[DoseLog] = (),
    scheduled_for: datetime | None = None,
    clock_skew: timedelta = CLOCK_SKEW,
) -> GiveDecision:
    """May a NOT_GIVEN be recorded at ``at`` (for ``scheduled_for``)? None of these findings
    can be overridden.

    Refused: a decision time in the future, a dose of a later school day (a student sent home
    sick is recorded for *today's* remaining doses), a dose that already has a current GIVEN
    (correct that record instead) or already a current NOT_GIVEN. The result's
    ``scheduled_for`` is the school dose it is recorded for (the tag snapped to the dose within
    the window, or the dose whose window holds ``at``), None for an as-needed order.
    """
    warnings = _when_findings(
        at,
        now,
        scheduled_for,
        calendar,
        clock_skew,
        "The time ({}) is in the future; record what happened once it happened.",
    )
    try:
        frequency = effective_frequency(prescription, calendar)
    except FrequencyError:
        frequency = None
    if prescription.is_prn or (frequency is not None and frequency.prn):
        return GiveDecision(tuple(warnings), None)
    window = calendar.dose_window
    target = scheduled_for
    if frequency is not None:
        # The tag (else the time) names the school dose within its window; a tag that names no
        # school dose is judged by the time instead, like an untagged record.
        target = None
        for key in (k for k in (scheduled_for, at) if k is not None):
            plan = doses_due_at_school(prescription, calendar, calendar.local_date(key))
            near = [d.scheduled_for for d in plan.doses if abs(d.scheduled_for - key) <= window]
            if near:
                target = min(near, key=lambda s, k=key: (abs(s - k), s))  # type: ignore[misc]
                break
    if target is not None:
        current = current_logs(logs)
        given = _given_near(current, target, window)
        if given:
            warnings.append(_given_on_file(given[0], calendar))
        else:
            refused = _not_given_for(current, target, window)
            if refused is not None:
                warnings.append(_already_not_given(refused, calendar))
    return GiveDecision(tuple(warnings), target)


_ORDER_NOT_IN_FORCE = frozenset(
    {
        WarningCode.NOT_ACTIVE,
        WarningCode.NOT_STARTED,
        WarningCode.ENDED,
        WarningCode.AUTHORIZATION_EXPIRED,
    }
)


def _when_findings(
    at: datetime,
    now: datetime,
    scheduled_for: datetime | None,
    calendar: SchoolCalendar,
    clock_skew: timedelta,
    future_message: str,
) -> list[RuleWarning]:
    """The time rules every record shares: not in the future (``future_message`` names the
    local time at ``{}``), not for a later school day."""
    require_aware(at, "at")
    require_aware(now, "now")
    warnings: list[RuleWarning] = []
    if at > now + clock_skew:
        local = at.astimezone(calendar.tz).strftime("%H:%M")
        warnings.append(RuleWarning(WarningCode.FUTURE_TIME, future_message.format(local)))
    if scheduled_for is not None:
        require_aware(scheduled_for, "scheduled_for")
        warnings.extend(_later_day(scheduled_for, now, calendar))
    return warnings


def _later_day(
    scheduled_for: datetime, now: datetime, calendar: SchoolCalendar
) -> list[RuleWarning]:
    day = calendar.local_date(scheduled_for)
    if day <= calendar.local_date(now):
        return []
    return [
        RuleWarning(
            WarningCode.LATER_DAY,
            f"Nothing can be recorded for a later school day ({day.isoformat()}); record it on "
            "that day.",
        )
    ]


def _order_findings(
    prescription: Prescription, calendar: SchoolCalendar, day: date
) -> list[RuleWarning]:
    warnings: list[RuleWarning] = []
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
    return warnings


def _plausibility(
    order_dose: str | None,
    dosage_given: str | None,
    quantity_used: int | None,
    product_strength: str | None,
) -> list[RuleWarning]:
    if not order_dose:
        return []
    found: list[RuleWarning] = []
    differs = dose_text_differs(order_dose, dosage_given)
    if differs:
        found.append(RuleWarning(WarningCode.DOSE_DIFFERS, differs, overridable=True))
    over = quantity_over_order(order_dose, quantity_used, product_strength=product_strength)
    if over:
        found.append(RuleWarning(WarningCode.QUANTITY_OVER_ORDER, over, overridable=True))
    if product_strength:
        conflict = dose_strength_conflict(order_dose, product_strength)
        if conflict:
            found.append(RuleWarning(WarningCode.DOSE_STRENGTH_CONFLICT, conflict, blocking=False))
    return found


def _prn_findings(
    limits: PrnLimits, current: list[DoseLog], at: datetime, calendar: SchoolCalendar
) -> list[RuleWarning]:
    decision = check_prn(limits, current, at, calendar)
    found: list[RuleWarning] = []
    for rule in decision.rules:
        code = (
            WarningCode.PRN_MIN_INTERVAL
            if rule is PrnRule.MIN_INTERVAL
            else WarningCode.PRN_MAX_PER_DAY
        )
        found.append(
            RuleWarning(
                code, decision.reason, overridable=True, earliest_allowed=decision.earliest_allowed
            )
        )
    return found


def _with_allergies(
    warnings: list[RuleWarning],
    prescription: Prescription,
    medication_names: Iterable[str],
    allergens: Iterable[str],
    target: datetime | None,
    supersedes: Hashable | None = None,
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
    return GiveDecision(tuple(warnings), target, supersedes)


def _dose_key(log: DoseLog) -> datetime:
    """The dose a log is for: its tag, or the time given when it has none."""
    return log.scheduled_for if log.scheduled_for is not None else log.time_given


def _given_near(
    current: list[DoseLog],
    target: datetime,
    window: timedelta,
    doses: Iterable[datetime] = (),
) -> list[DoseLog]:
    """Current GIVEN logs that satisfy the dose at ``target`` (their dose within the window).

    A log tagged exactly with another of the day's ``doses`` belongs to that dose, even when
    two doses are closer than the window."""
    others = {d for d in doses if d != target}
    return sorted(
        (
            log
            for log in current
            if log.status is LogStatus.GIVEN
            and abs(_dose_key(log) - target) <= window
            and log.scheduled_for not in others
        ),
        key=lambda log: abs(_dose_key(log) - target),
    )


def _not_given_for(current: list[DoseLog], target: datetime, window: timedelta) -> DoseLog | None:
    candidates = [
        log
        for log in current
        if log.status is LogStatus.NOT_GIVEN and abs(_dose_key(log) - target) <= window
    ]
    return min(candidates, key=lambda log: abs(_dose_key(log) - target), default=None)


def _hm(moment: datetime, calendar: SchoolCalendar) -> str:
    return moment.astimezone(calendar.tz).strftime("%H:%M")


def _scheduled_findings(
    prescription: Prescription,
    calendar: SchoolCalendar,
    at: datetime,
    now: datetime,
    current: list[DoseLog],
    tag: datetime | None,
) -> tuple[datetime | None, list[RuleWarning], Hashable | None]:
    """(the dose this GIVEN is for, findings, the NOT_GIVEN it would supersede)."""
    window = calendar.dose_window
    plan = doses_due_at_school(prescription, calendar, calendar.local_date(tag or at))
    states = dose_statuses(plan.doses, current, now, window).doses
    times = [d.scheduled_for for d in plan.doses]
    found: list[RuleWarning] = []
    target: datetime | None = None
    if tag is not None:
        # A tag names a school dose only within the window of one; any other tag (a dose that
        # is not on the schedule) is ignored and the dose is judged by its time, like an
        # untagged one — a made-up tag must not open a second dose.
        near = [s for s in times if abs(s - tag) <= window]
        if near:
            target = min(near, key=lambda s: (abs(s - tag), s))
        elif calendar.local_date(tag) != calendar.local_date(at):
            plan = doses_due_at_school(prescription, calendar, calendar.local_date(at))
            states = dose_statuses(plan.doses, current, now, window).doses
            times = [d.scheduled_for for d in plan.doses]
    if target is not None:
        if at < target - window:
            found.append(_early(target, calendar))
        elif at > target + window:
            found.append(
                RuleWarning(
                    WarningCode.LATE_DOSE,
                    f"Late: the {_hm(target, calendar)} dose's window has passed; it will be "
                    "flagged as late.",
                    blocking=False,
                )
            )
    else:
        near = [s for s in times if abs(s - at) <= window]
        if near:
            target = min(near, key=lambda s: (abs(s - at), s))
        else:
            # An early or late dose stands for one of the day's doses: the nearest one with
            # nothing recorded (else one recorded as not given). It is linked to that dose so
            # the dose shows as done and cannot be given again.
            pool = [st for st in states if st.log is None] or [
                st for st in states if st.status is DoseStatus.NOT_GIVEN
            ]
            if pool:
                target = min((st.dose.scheduled_for for st in pool), key=lambda s: (abs(s - at), s))
                if at < target:
                    found.append(_early(target, calendar))
                else:
                    found.append(
                        RuleWarning(
                            WarningCode.NOT_SCHEDULED,
                            f"Late: the {_hm(target, calendar)} dose's window closed at "
                            f"{_hm(target + window, calendar)}. With a written reason this is "
                            f"recorded as the late {_hm(target, calendar)} dose.",
                            overridable=True,
                        )
                    )
            elif states:
                target = min(times, key=lambda s: (abs(s - at), s))
            else:
                found.append(
                    RuleWarning(
                        WarningCode.NOT_SCHEDULED,
                        "No scheduled school dose is due at this time.",
                        overridable=True,
                    )
                )
                found.extend(_already(log, calendar) for log in _given_near(current, at, window))
                return None, found, None
    state = next((st for st in states if st.dose.scheduled_for == target), None)
    given = (
        state.log
        if state is not None and state.log is not None and state.log.status is LogStatus.GIVEN
        else None
    )
    if given is None:
        near_given = _given_near(current, target, window, times)
        given = near_given[0] if near_given else None
    if given is not None:
        found.append(_already(given, calendar))
        return target, found, None
    refused = (
        state.log
        if state is not None and state.log is not None and state.log.status is LogStatus.NOT_GIVEN
        else _not_given_for(current, target, window)
    )
    if refused is not None:
        found.append(_not_given_on_file(refused, calendar))
        return target, found, refused.id
    return target, found, None


def _early(target: datetime, calendar: SchoolCalendar) -> RuleWarning:
    opens = target - calendar.dose_window
    return RuleWarning(
        WarningCode.EARLY_DOSE,
        f"Early: the {_hm(target, calendar)} dose's window opens at {_hm(opens, calendar)}. "
        f"With a written reason this is recorded as the {_hm(target, calendar)} dose.",
        overridable=True,
    )


def _who_when(log: DoseLog, calendar: SchoolCalendar) -> str:
    by = f" by {log.nurse_name}" if log.nurse_name else ""
    return f"at {_hm(log.time_given, calendar)}{by}"


def _already(log: DoseLog, calendar: SchoolCalendar) -> RuleWarning:
    return RuleWarning(
        WarningCode.ALREADY_GIVEN,
        f"Already given {_who_when(log, calendar)}. If that record is wrong, use Correct… on it.",
        log_id=log.id,
    )


def _given_on_file(log: DoseLog, calendar: SchoolCalendar) -> RuleWarning:
    return RuleWarning(
        WarningCode.GIVEN_ON_FILE,
        f"This dose was already given {_who_when(log, calendar)}, so it cannot be recorded as "
        "not given. If that record is wrong, use Correct… on it.",
        log_id=log.id,
    )


def _reason_label(log: DoseLog) -> str:
    return log.reason.label if log.reason is not None else "not given"


def _already_not_given(log: DoseLog, calendar: SchoolCalendar) -> RuleWarning:
    return RuleWarning(
        WarningCode.ALREADY_NOT_GIVEN,
        f"Already recorded as not given ({_reason_label(log)}) {_who_when(log, calendar)}. "
        "If that record is wrong, use Correct… on it.",
        log_id=log.id,
    )


def _not_given_on_file(log: DoseLog, calendar: SchoolCalendar) -> RuleWarning:
    return RuleWarning(
        WarningCode.NOT_GIVEN_ON_FILE,
        f"This dose was recorded as not given ({_reason_label(log)}) {_who_when(log, calendar)}. "
        "Giving it now needs a written reason; the 'not given' record is then superseded.",
        overridable=True,
        log_id=log.id,
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


# Salt and form words that are not the allergen ("amoxicillin trihydrate" → amoxicillin).
_SALTS = frozenset(
    """
    hcl hydrochloride hydrobromide sodium potassium calcium magnesium sulfate sulphate acetate
    saccharate aspartate succinate maleate tartrate bitartrate mesylate besylate citrate phosphate
    fumarate monohydrate dihydrate trihydrate anhydrous hyclate dipropionate propionate furoate
    bromide chloride lactate gluconate disodium dimesylate xinafoate tromethamine
    """.split()
)
_INGREDIENT_SPLIT = re.compile(r"\s*(?:;|,|/|\+|\band\b|\bwith\b|&)\s*", re.IGNORECASE)
_STRENGTH_TAIL = re.compile(r"\s+\d.*$")


def active_ingredients(generic_name: str | None, name: str = "") -> tuple[str, ...]:
    """The product's active ingredients as allergens, lower case, salts dropped, in order.

    ``generic_name`` may list several ("amoxicillin and clavulanate potassium",
    "AMOXICILLIN; CLAVULANATE POTASSIUM", "dextroamphetamine saccharate, amphetamine
    aspartate, …"); without it the product name without its strength is used ("Tylenol 325 mg"
    → "tylenol")."""
    found: list[str] = []
    source = generic_name or _STRENGTH_TAIL.sub("", name or "")
    for part in _INGREDIENT_SPLIT.split(source):
        words = [w for w in _WORD.findall(part.casefold()) if w not in _SALTS]
        ingredient = " ".join(words).strip()
        if len(ingredient) >= 3 and ingredient not in found:
            found.append(ingredient)
    return tuple(found)
