"""Dose logs, corrections, and the status of each scheduled school dose.

Why here: "was this dose given?" decides whether a child gets a second dose or none, so the
matching of logs to doses has one implementation, used by the schedule pane, the reminder job
and the end-of-day report.

Statuses of a scheduled dose (window = ±``SchoolCalendar.dose_window``, default 60 minutes):

* UPCOMING — before its window opens, nothing recorded.
* DUE — inside its window, nothing recorded.
* COMPLETED — a GIVEN log inside the window (or explicitly recorded for this dose early).
* LATE — a GIVEN log after the window, the same school day: given, but flagged for the nurse.
* MISSED — the window has passed and nothing is recorded.
* NOT_GIVEN — a NOT_GIVEN log with its reason (refused, absent, held, no supply, parent called,
  other + free text).

Matching (one log satisfies at most one dose, so two doses close together are never both
satisfied by one log), O((n + m) log(n + m)):

1. Exact: a log whose ``scheduled_for`` is the dose's time belongs to that dose (a GIVEN beats a
   NOT_GIVEN; the database allows only one current GIVEN per scheduled dose).
2. Window: the remaining logs and doses are paired nearest-first among pairs within the window
   (candidates found by bisection on the sorted dose times, then one sort of the pairs).
3. Late: each remaining log, in time order, takes the latest unclaimed dose whose window closed
   before it on the same school-local day (a stack sweep).

Logs left over are returned as ``unmatched`` (extra doses, PRN doses) so nothing is hidden.
Records are never deleted: a correction is a new log that supersedes the old one; superseded logs
and ENTERED_IN_ERROR markers stay in history but never satisfy a dose.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from medapp.domain.schedule import ScheduledDose
from medapp.domain.school import DEFAULT_DOSE_WINDOW, require_aware

__all__ = [
    "CLOCK_SKEW",
    "DayStatus",
    "DoseLog",
    "DoseState",
    "DoseStatus",
    "LogStatus",
    "NotGivenReason",
    "bulk_dose_statuses",
    "correct",
    "current_logs",
    "dose_statuses",
    "history",
    "mark_entered_in_error",
    "validate_new_log",
]

_NOT_COUNTING = frozenset({"ENTERED_IN_ERROR", "MISSED"})

CLOCK_SKEW = timedelta(minutes=5)
"""Office PCs' clocks disagree by a few minutes; a GIVEN time further in the future is refused."""


class LogStatus(StrEnum):
    """What a log records (the database's ``medication_logs.status`` values)."""

    GIVEN = "GIVEN"
    NOT_GIVEN = "NOT_GIVEN"
    ENTERED_IN_ERROR = "ENTERED_IN_ERROR"
    #: written by the end-of-day close for a school dose nobody documented; it records the
    #: absence, so it never satisfies a dose (the dose's status is MISSED by the clock anyway)
    MISSED = "MISSED"


class NotGivenReason(StrEnum):
    """Why a dose was not given (the database's ``not_given_reason`` values)."""

    REFUSED = "REFUSED"
    ABSENT = "ABSENT"
    HELD = "HELD"
    NO_SUPPLY = "NO_SUPPLY"
    PARENT_CALLED = "PARENT_CALLED"
    OTHER = "OTHER"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    NotGivenReason.REFUSED: "Refused",
    NotGivenReason.ABSENT: "Absent",
    NotGivenReason.HELD: "Held",
    NotGivenReason.NO_SUPPLY: "No supply",
    NotGivenReason.PARENT_CALLED: "Parent called",
    NotGivenReason.OTHER: "Other",
}


class DoseStatus(StrEnum):
    UPCOMING = "UPCOMING"
    DUE = "DUE"
    COMPLETED = "COMPLETED"
    LATE = "LATE"
    MISSED = "MISSED"
    NOT_GIVEN = "NOT_GIVEN"


@dataclass(frozen=True, slots=True)
class DoseLog:
    """One recorded dose event (mirrors a ``medication_logs`` row).

    ``time_given`` is when it happened (for NOT_GIVEN: when it was decided); ``scheduled_for``
    is the scheduled dose it was recorded against, or None for PRN/unscheduled doses.
    ``superseded`` is True once a newer log corrects this one (``superseded_at`` is set);
    ``supersedes_id`` on the newer log points back. The same rules as the database's CHECK
    constraints are enforced here so a bad log fails before it is sent.
    """

    id: Hashable
    prescription_id: Hashable
    status: LogStatus
    time_given: datetime
    scheduled_for: datetime | None = None
    nurse_name: str = ""
    reason: NotGivenReason | None = None
    notes: str | None = None
    supersedes_id: Hashable | None = None
    superseded: bool = False
    override_reason: str | None = None
    given_epoch: float = field(init=False, repr=False, compare=False)
    scheduled_epoch: float | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        require_aware(self.time_given, "time_given")
        object.__setattr__(self, "given_epoch", self.time_given.timestamp())
        scheduled_epoch = None
        if self.scheduled_for is not None:
            require_aware(self.scheduled_for, "scheduled_for")
            scheduled_epoch = self.scheduled_for.timestamp()
        object.__setattr__(self, "scheduled_epoch", scheduled_epoch)
        if (self.status is LogStatus.NOT_GIVEN) != (self.reason is not None):
            raise ValueError("A NOT_GIVEN log needs a reason, and only a NOT_GIVEN log has one.")
        if self.reason is NotGivenReason.OTHER and not (self.notes or "").strip():
            raise ValueError("Reason “Other” needs a note saying what happened.")
        if self.status is LogStatus.ENTERED_IN_ERROR and self.supersedes_id is None:
            raise ValueError("An entered-in-error marker must say which log it corrects.")

    @property
    def is_current(self) -> bool:
        """Counts for dose status: not corrected away, not an error marker, not a MISSED record
        (which only writes down what the clock already says)."""
        return not self.superseded and self.status not in _NOT_COUNTING


@dataclass(frozen=True, slots=True)
class DoseState:
    """A scheduled dose with its status and the log that decided it (if any)."""

    dose: ScheduledDose
    status: DoseStatus
    log: DoseLog | None = None

    @property
    def reason(self) -> NotGivenReason | None:
        return self.log.reason if self.log is not None else None

    @property
    def needs_attention(self) -> bool:
        """LATE and MISSED doses are flagged for the nurse; DUE ones are prompted."""
        return self.status in (DoseStatus.LATE, DoseStatus.MISSED, DoseStatus.DUE)


@dataclass(frozen=True, slots=True)
class DayStatus:
    """Every scheduled dose's state (in time order) and the current logs no dose claimed."""

    doses: tuple[DoseState, ...]
    unmatched: tuple[DoseLog, ...] = ()


# --------------------------------------------------------------------------------------------
# Corrections (append-only)
# --------------------------------------------------------------------------------------------


def correct(original: DoseLog, replacement: DoseLog) -> tuple[DoseLog, DoseLog]:
    """Correct ``original`` with ``replacement``: both are kept, the old one marked superseded.

    Returns (original marked superseded, replacement linked to it) — the two rows to write.
    Only the newest log of a chain can be corrected, so history stays a single line.
    """
    if original.superseded:
        raise ValueError("This record was already corrected; correct the newest record instead.")
    if replacement.prescription_id != original.prescription_id:
        raise ValueError("A correction must be for the same prescription.")
    if replacement.id == original.id:
        raise ValueError("A correction is a new record with its own id.")
    return replace(original, superseded=True), replace(replacement, supersedes_id=original.id)


def mark_entered_in_error(
    original: DoseLog, *, id: Hashable, at: datetime, nurse_name: str, notes: str
) -> tuple[DoseLog, DoseLog]:
    """Withdraw a log recorded by mistake (wrong student, wrong medication) without deleting it."""
    if not notes.strip():
        raise ValueError("Say why the record was entered in error.")
    marker = DoseLog(
        id=id,
        prescription_id=original.prescription_id,
        status=LogStatus.ENTERED_IN_ERROR,
        time_given=at,
        scheduled_for=original.scheduled_for,
        nurse_name=nurse_name,
        notes=notes,
        supersedes_id=original.id,
    )
    return correct(original, marker)


def current_logs(logs: Iterable[DoseLog]) -> list[DoseLog]:
    """Logs that count: not superseded (by flag or by a newer log in the same set), not markers."""
    logs = list(logs)
    replaced = {log.supersedes_id for log in logs if log.supersedes_id is not None}
    if not replaced:
        return [log for log in logs if log.is_current]
    return [log for log in logs if log.is_current and log.id not in replaced]


def history(logs: Iterable[DoseLog], log_id: Hashable) -> list[DoseLog]:
    """The correction chain containing ``log_id``, oldest first (what the history view shows)."""
    by_id = {log.id: log for log in logs}
    successor = {log.supersedes_id: log for log in by_id.values() if log.supersedes_id is not None}
    if log_id not in by_id:
        return []
    first = by_id[log_id]
    while first.supersedes_id is not None and first.supersedes_id in by_id:
        first = by_id[first.supersedes_id]
    chain = [first]
    while chain[-1].id in successor:
        chain.append(successor[chain[-1].id])
    return chain


def validate_new_log(log: DoseLog, now: datetime, skew: timedelta = CLOCK_SKEW) -> None:
    """Refuse a log that cannot be true: a dose recorded as given in the future."""
    require_aware(now, "now")
    if log.status is LogStatus.GIVEN and log.time_given > now + skew:
        raise ValueError(
            f"The time given ({log.time_given.isoformat(timespec='minutes')}) is in the future; "
            "record a dose after it is given."
        )


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


def dose_statuses(
    doses: Sequence[ScheduledDose],
    logs: Iterable[DoseLog],
    now: datetime,
    window: timedelta = DEFAULT_DOSE_WINDOW,
) -> DayStatus:
    """The status of each scheduled dose given the logs (superseded logs are ignored)."""
    require_aware(now, "now")
    return _day_status(doses, current_logs(logs), now.timestamp(), window.total_seconds())


def bulk_dose_statuses(
    doses_by_prescription: Mapping[Hashable, Sequence[ScheduledDose]],
    logs: Iterable[DoseLog],
    now: datetime,
    window: timedelta = DEFAULT_DOSE_WINDOW,
) -> dict[Hashable, DayStatus]:
    """``dose_statuses`` for many prescriptions at once, logs grouped in one pass.

    Every prescription of ``doses_by_prescription`` gets a DayStatus; logs of prescriptions not
    in it are ignored (they belong to another query).
    """
    require_aware(now, "now")
    now_ts = now.timestamp()
    w = window.total_seconds()
    logs = list(logs)
    replaced = {log.supersedes_id for log in logs if log.supersedes_id is not None}
    grouped: dict[Hashable, list[DoseLog]] = {}
    for log in logs:
        if log.superseded or log.status in _NOT_COUNTING or (replaced and log.id in replaced):
            continue
        bucket = grouped.get(log.prescription_id)
        if bucket is None:
            grouped[log.prescription_id] = [log]
        else:
            bucket.append(log)
    empty: list[DoseLog] = []
    get = grouped.get
    return {
        rx: _day_status(doses, get(rx, empty), now_ts, w)
        for rx, doses in doses_by_prescription.items()
    }


_GIVEN = LogStatus.GIVEN
_NOT_GIVEN = LogStatus.NOT_GIVEN
_ERROR = LogStatus.ENTERED_IN_ERROR
_S_UPCOMING = DoseStatus.UPCOMING
_S_DUE = DoseStatus.DUE
_S_MISSED = DoseStatus.MISSED
_S_COMPLETED = DoseStatus.COMPLETED
_S_LATE = DoseStatus.LATE
_S_NOT_GIVEN = DoseStatus.NOT_GIVEN
_EMPTY = ()


def _day_status(
    doses: Sequence[ScheduledDose], logs: list[DoseLog], now_ts: float, w: float
) -> DayStatus:
    """Status of one prescription's doses; ``logs`` are already current (not superseded)."""
    n = len(doses)
    if n == 0:
        return DayStatus(_EMPTY, tuple(logs))
    if n == 1 and len(logs) <= 1:
        return _one_dose(doses[0], logs, now_ts, w)
    times = [d.epoch for d in doses]
    ordered: Sequence[ScheduledDose] = doses
    if n > 1 and any(times[k] > times[k + 1] for k in range(n - 1)):
        ordered = sorted(doses, key=lambda d: d.epoch)
        times = [d.epoch for d in ordered]
    upcoming_before = now_ts + w  # a dose at s is UPCOMING when now < s - w, i.e. s > now + w
    missed_before = now_ts - w  # ... and MISSED when now > s + w, i.e. s < now - w

    if not logs:
        return DayStatus(
            tuple(
                DoseState(
                    d,
                    _S_UPCOMING
                    if s > upcoming_before
                    else _S_MISSED
                    if s < missed_before
                    else _S_DUE,
                )
                for d, s in zip(ordered, times, strict=True)
            )
        )

    claimed: list[DoseLog | None] = [None] * n
    displaced: list[DoseLog] = []
    remaining = _match_exact(ordered, logs, claimed, displaced)
    if remaining:
        remaining = _match_window(times, remaining, claimed, w)
    if remaining:
        remaining = _match_late(ordered, times, remaining, claimed, w)

    states = []
    for k in range(n):
        s = times[k]
        log = claimed[k]
        if log is None:
            status = (
                _S_UPCOMING if s > upcoming_before else _S_MISSED if s < missed_before else _S_DUE
            )
        elif log.status is _NOT_GIVEN:
            status = _S_NOT_GIVEN
        elif log.given_epoch > s + w:
            status = _S_LATE
        else:
            status = _S_COMPLETED
        states.append(DoseState(ordered[k], status, log))
    return DayStatus(
        tuple(states), tuple(remaining + displaced) if remaining or displaced else _EMPTY
    )


def _one_dose(dose: ScheduledDose, logs: list[DoseLog], now_ts: float, w: float) -> DayStatus:
    """The common case (one school dose, at most one log) without the general machinery.

    Same rules as the three matching phases, specialised: a log tagged for this dose, or inside
    its window, or after it on the same day claims it; any other log is unmatched.
    """
    s = dose.epoch
    if logs:
        log = logs[0]
        t = log.given_epoch
        late = t > s + w
        if (
            log.scheduled_epoch == s
            or (not late and t >= s - w)
            or (
                late and _local_day(log.time_given, dose.scheduled_for) == dose.scheduled_for.date()
            )
        ):
            if log.status is _NOT_GIVEN:
                status = _S_NOT_GIVEN
            else:
                status = _S_LATE if late else _S_COMPLETED
            return DayStatus((DoseState(dose, status, log),))
        unmatched: tuple[DoseLog, ...] = (log,)
    else:
        unmatched = _EMPTY
    if s > now_ts + w:
        status = _S_UPCOMING
    elif s < now_ts - w:
        status = _S_MISSED
    else:
        status = _S_DUE
    return DayStatus((DoseState(dose, status),), unmatched)


def _match_exact(
    ordered: Sequence[ScheduledDose],
    logs: list[DoseLog],
    claimed: list[DoseLog | None],
    displaced: list[DoseLog],
) -> list[DoseLog]:
    """Logs recorded against a dose's exact time claim it (GIVEN over NOT_GIVEN, then newest).

    A log that loses its own dose to a better one goes to ``displaced``: it was recorded for
    that dose, so it must not satisfy a neighbouring one.
    """
    for log in logs:
        if log.scheduled_epoch is not None:
            break
    else:
        return logs
    times = [dose.epoch for dose in ordered]
    n = len(times)
    remaining: list[DoseLog] = []
    for log in logs:
        tagged = log.scheduled_epoch
        k = bisect_left(times, tagged) if tagged is not None else n
        if k == n or times[k] != tagged:
            remaining.append(log)
            continue
        holder = claimed[k]
        if holder is None:
            claimed[k] = log
        elif _exact_rank(log) > _exact_rank(holder):
            claimed[k] = log
            displaced.append(holder)
        else:
            displaced.append(log)
    return remaining


def _exact_rank(log: DoseLog) -> tuple[bool, float]:
    return (log.status is _GIVEN, log.given_epoch)


def _match_window(
    times: list[float], logs: list[DoseLog], claimed: list[DoseLog | None], w: float
) -> list[DoseLog]:
    """Pair logs and unclaimed doses within the window, nearest pairs first."""
    # (distance, dose, NOT_GIVEN after GIVEN, log time, input position): ties never depend on
    # the order the logs arrived in, except between logs identical in time and status.
    candidates: list[tuple[float, int, bool, float, int]] = []
    for j, log in enumerate(logs):
        t = log.given_epoch
        lo = bisect_left(times, t - w)
        hi = bisect_right(times, t + w)
        for k in range(lo, hi):
            if claimed[k] is None:
                candidates.append((abs(t - times[k]), k, log.status is not _GIVEN, t, j))
    if not candidates:
        return logs
    if len(candidates) > 1:
        candidates.sort()
    used = [False] * len(logs)
    for _, k, _g, _t, j in candidates:
        if claimed[k] is None and not used[j]:
            claimed[k] = logs[j]
            used[j] = True
    return [log for j, log in enumerate(logs) if not used[j]]


def _match_late(
    ordered: Sequence[ScheduledDose],
    times: list[float],
    logs: list[DoseLog],
    claimed: list[DoseLog | None],
    w: float,
) -> list[DoseLog]:
    """Each leftover log, oldest first, takes the latest passed unclaimed dose of its day."""
    logs = sorted(logs, key=lambda log: log.given_epoch)
    stack: list[int] = []
    k = 0
    n = len(times)
    left: list[DoseLog] = []
    for log in logs:
        t = log.given_epoch
        while k < n and times[k] + w < t:
            if claimed[k] is None:
                stack.append(k)
            k += 1
        if stack:
            top = stack[-1]
            dose_at = ordered[top].scheduled_for
            if _local_day(log.time_given, dose_at) == dose_at.date():
                claimed[top] = log
                stack.pop()
                continue
        left.append(log)
    return left


def _local_day(moment: datetime, reference: datetime) -> date:
    """``moment``'s calendar date in the timezone of ``reference`` (the school's)."""
    return moment.astimezone(reference.tzinfo).date()
