"""The notification cards of due doses: which cards show, stacked, snoozed — without widgets.

A status-bar line vanishes while the nurse is with a student; a card stays until she acts. The
rules live here, pure and driven by an explicit ``now``, so they are tested with a controlled
clock: one card per dose (prescription + scheduled time), never a second card for a dose that
already had one that day, a snoozed card comes back when its snooze ends, a card goes when its
dose is documented (it leaves the open list), and a new school day starts with no cards. The
first feed of a desk primes it silently: the doses already due when the desk starts get their
cards but no sound or tray message (forty beeps at a lunchtime start-up say nothing the cards do
not); only doses that fall due later alert.

What a card may say is decided here too: the time, the count and the student's first name with
the last initial — no medication or dose (the class can see the screen), and nothing about the
student at all while the desk is locked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

#: the snooze choices a card offers, in minutes
SNOOZE_MINUTES: tuple[int, ...] = (5, 10)

DoseKey = tuple[uuid.UUID, dt.datetime]


def short_student_name(full: str) -> str:
    """ "Lovelace, Ada" or "Ada Lovelace" → "Ada L." (first name and last initial only)."""
    full = " ".join(full.split())
    if "," in full:
        last, _, first = full.partition(",")
        first = first.strip().split(" ")[0] if first.strip() else ""
        last = last.strip()
    else:
        parts = full.split(" ")
        first, last = parts[0], (parts[-1] if len(parts) > 1 else "")
    if not first:
        first, last = last, ""
    return f"{first} {last[:1]}." if last else first


@dataclass(frozen=True)
class DueDose:
    """One dose as a card knows it. ``overdue`` is a due dose whose window has passed and that
    nobody documented yet (a card already shown stays for it; no new card is made for it)."""

    prescription_id: uuid.UUID
    scheduled_for: dt.datetime  # aware
    student: str  # first name + last initial (see short_student_name)
    overdue: bool = False

    @property
    def key(self) -> DoseKey:
        return (self.prescription_id, self.scheduled_for)


@dataclass(frozen=True)
class CardText:
    title: str
    body: str


def card_text(dose: DueDose, tz: dt.tzinfo, *, locked: bool) -> CardText:
    """The words on a card. Locked desk: the time only (whoever passes may read it)."""
    when = dose.scheduled_for.astimezone(tz).strftime("%H:%M")
    title = f"{'Overdue' if dose.overdue else 'Due'} {when}"
    if locked:
        return CardText(title, "A dose is due — sign in to see it.")
    return CardText(title, dose.student)


def stack_title(count: int) -> str:
    return "1 dose due" if count == 1 else f"{count} doses due"


def tray_text(doses: list[DueDose], tz: dt.tzinfo, *, locked: bool, limit: int = 4) -> CardText:
    """The system tray's message for doses that just got a card (same rules as a card)."""
    title = "1 dose due now" if len(doses) == 1 else f"{len(doses)} doses due now"
    if locked:
        return CardText(title, "Sign in to see it.")
    lines = [
        f"{d.scheduled_for.astimezone(tz).strftime('%H:%M')} {d.student}" for d in doses[:limit]
    ]
    if len(doses) > limit:
        lines.append(f"… and {len(doses) - limit} more")
    return CardText(title, "\n".join(lines))


@dataclass
class _Card:
    dose: DueDose
    snoozed_until: dt.datetime | None = None
    in_hand: bool = False  # the dose dialog is open for it


class DueCards:
    """The cards of one desk for one school day.

    ``update`` is fed the open doses (due, or overdue and undocumented) at each check; it
    returns the cards that are new (to sound and to show in the tray) — none on the first feed,
    which only primes the stack (its cards show, silently). ``snooze``, ``take``
    (Give: the dose dialog is open), ``release`` (that dialog closed without a record) and
    ``dismiss`` (Open, or the dose recorded) are the nurse's actions; ``wake`` brings back the
    snoozed cards whose time has come. ``visible`` is what the stack shows, oldest first."""

    def __init__(
        self,
        tz: dt.tzinfo,
        *,
        day_start: dt.time | None = None,
        day_end: dt.time | None = None,
    ) -> None:
        self.tz = tz
        self.day_start, self.day_end = day_start, day_end
        self.day: dt.date | None = None
        self._cards: dict[DoseKey, _Card] = {}
        self._seen: set[DoseKey] = set()
        self.primed = False  # the first feed is in: later new cards alert

    # -- feeding -------------------------------------------------------------------------------

    def update(self, doses: Iterable[DueDose], now: dt.datetime) -> list[DueDose]:
        today = now.astimezone(self.tz).date()
        if today != self.day:
            self.day, self._cards, self._seen = today, {}, set()
        current = {d.key: d for d in doses if d.scheduled_for.astimezone(self.tz).date() == today}
        for key in [k for k in self._cards if k not in current]:
            del self._cards[key]  # documented (or the order changed): the card has done its job
        fresh: list[DueDose] = []
        for key, dose in sorted(current.items(), key=lambda kv: _order(kv[1])):
            card = self._cards.get(key)
            if card is not None:
                card.dose = dose  # due → overdue shows on the card
            elif key not in self._seen and not dose.overdue:
                self._seen.add(key)
                self._cards[key] = _Card(dose)
                fresh.append(dose)
        if not self.primed:
            self.primed = True
            return []  # start-up: the doses already due show as cards, without an alert
        return fresh

    def wake(self, now: dt.datetime) -> list[DueDose]:
        """The snoozed cards whose snooze has ended (they show again, and sound again)."""
        woken = []
        for card in self._cards.values():
            if card.snoozed_until is not None and card.snoozed_until <= now:
                card.snoozed_until = None
                woken.append(card.dose)
        return sorted(woken, key=_order)

    # -- the nurse's actions -------------------------------------------------------------------

    def snooze(self, key: DoseKey, minutes: int, now: dt.datetime) -> dt.datetime | None:
        card = self._cards.get(key)
        if card is None:
            return None
        if minutes <= 0:
            raise ValueError("A snooze lasts at least a minute.")
        card.snoozed_until = now + dt.timedelta(minutes=minutes)
        return card.snoozed_until

    def take(self, key: DoseKey) -> bool:
        """Give…: the card steps aside while the dose dialog is open."""
        card = self._cards.get(key)
        if card is not None:
            card.in_hand = True
        return card is not None

    def release(self, key: DoseKey) -> None:
        """The dose dialog closed without a record: the card is back."""
        card = self._cards.get(key)
        if card is not None:
            card.in_hand = False

    def dismiss(self, key: DoseKey) -> None:
        """Open (the dose is in front of her in Reminders) or recorded: the card goes, for good."""
        self._cards.pop(key, None)

    # -- reading -------------------------------------------------------------------------------

    def visible(self, now: dt.datetime) -> list[DueDose]:
        shown = [
            c.dose
            for c in self._cards.values()
            if not c.in_hand and (c.snoozed_until is None or c.snoozed_until <= now)
        ]
        return sorted(shown, key=_order)

    def next_wake(self) -> dt.datetime | None:
        times = [c.snoozed_until for c in self._cards.values() if c.snoozed_until is not None]
        return min(times) if times else None

    def quiet(self, now: dt.datetime) -> bool:
        """Outside school hours: no sound and no tray message (cards still show)."""
        if self.day_start is None or self.day_end is None:
            return False
        wall = now.astimezone(self.tz).time()
        return not (self.day_start <= wall <= self.day_end)

    def __len__(self) -> int:
        return len(self._cards)


def _order(dose: DueDose) -> tuple[dt.datetime, str, str]:
    return (dose.scheduled_for, dose.student, str(dose.prescription_id))


__all__ = [
    "SNOOZE_MINUTES",
    "CardText",
    "DueCards",
    "DueDose",
    "card_text",
    "short_student_name",
    "stack_title",
    "tray_text",
]
