"""What deserves a pop-up: doses that just became due, and doses that were just missed.

Pure functions over a reminder list, so the rules are tested without a scheduler or a screen.
A watcher remembers which doses it already announced (for the day), so a nurse is told once per
dose, not every minute; a new day starts with a clean slate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass, field

from medapp.db.repositories.reminders import DayReminders, ReminderItem
from medapp.domain.doses import DoseStatus
from medapp.domain.due_cards import DueDose, short_student_name


@dataclass(frozen=True)
class Notice:
    kind: str  # "due" or "missed"
    title: str
    text: str
    count: int


def _line(item: ReminderItem, tz: dt.tzinfo) -> str:
    when = item.scheduled_for.astimezone(tz).strftime("%H:%M")
    # the time and the first name with the last initial only: a tray message is seen by the class
    return f"{when} {short_student_name(item.rx.student_name)}"


def open_doses(reminders: DayReminders) -> tuple[DueDose, ...]:
    """The doses a notification card may stand for: due now, or overdue with no record yet."""
    out = []
    for item in reminders.items:
        if item.status is DoseStatus.DUE or (
            item.status is DoseStatus.MISSED and item.log_id is None
        ):
            out.append(
                DueDose(
                    item.rx.prescription_id,
                    item.scheduled_for,
                    short_student_name(item.rx.student_name),
                    overdue=item.status is DoseStatus.MISSED,
                )
            )
    return tuple(out)


def _summarise(kind: str, items: list[ReminderItem], tz: dt.tzinfo, limit: int = 4) -> Notice:
    lines = [_line(i, tz) for i in items[:limit]]
    if len(items) > limit:
        lines.append(f"… and {len(items) - limit} more")
    if kind == "due":
        title = "1 dose due now" if len(items) == 1 else f"{len(items)} doses due now"
    else:
        title = "Missed dose" if len(items) == 1 else f"{len(items)} missed doses"
        lines.append("Record it as given late or not given (with the reason).")
    return Notice(kind, title, "\n".join(lines), len(items))


@dataclass
class DoseWatcher:
    tz: dt.tzinfo
    day: dt.date | None = None
    announced: set[tuple[str, Hashable, dt.datetime]] = field(default_factory=set)

    def check(self, reminders: DayReminders) -> list[Notice]:
        if reminders.day != self.day:
            self.day, self.announced = reminders.day, set()
        fresh: dict[str, list[ReminderItem]] = {"due": [], "missed": []}
        for item in reminders.items:
            kind = {DoseStatus.DUE: "due", DoseStatus.MISSED: "missed"}.get(item.status)
            if kind is None:
                continue
            key = (kind, item.rx.prescription_id, item.scheduled_for)
            if key not in self.announced:
                self.announced.add(key)
                fresh[kind].append(item)
        return [_summarise(kind, items, self.tz) for kind, items in fresh.items() if items]

    def prime(self, reminders: DayReminders, *, missed_too: bool = False) -> None:
        """At start-up, do not re-announce what the nurse can already see on the list —
        except missed doses, which are errors that must be seen the same day."""
        self.day = reminders.day
        for item in reminders.items:
            if item.status is DoseStatus.DUE or (missed_too and item.status is DoseStatus.MISSED):
                self.announced.add(
                    (
                        "due" if item.status is DoseStatus.DUE else "missed",
                        item.rx.prescription_id,
                        item.scheduled_for,
                    )
                )
