"""The due-dose cards' rules with a controlled clock: one card per dose, never repeated,
snoozed and back, stacked in time order, quiet outside school hours, and what a card may say."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from medapp.domain.due_cards import (
    DueCards,
    DueDose,
    card_text,
    short_student_name,
    stack_title,
    tray_text,
)

NY = ZoneInfo("America/New_York")


def at(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=NY)


def dose(n: int, hour: int, *, overdue: bool = False, day: int = 2) -> DueDose:
    return DueDose(uuid.UUID(int=n), at(hour, day=day), f"Student{n} L.", overdue=overdue)


def primed() -> DueCards:
    """A desk that started before these doses fell due (its first, empty feed at 7:00)."""
    cards = DueCards(NY)
    assert cards.update([], at(7, 0)) == [] and cards.primed
    return cards


def test_the_first_feed_primes_silently_and_later_doses_alert() -> None:
    """Start-up at lunchtime: the doses already due get their cards but no alert; a dose that
    falls due afterwards alerts, once."""
    cards = DueCards(NY)
    assert not cards.primed
    assert cards.update([dose(1, 12), dose(2, 12)], at(12, 5)) == []
    assert cards.primed
    assert [d.prescription_id.int for d in cards.visible(at(12, 5))] == [1, 2]
    assert cards.update([dose(1, 12), dose(2, 12)], at(12, 6)) == []  # still silent
    fresh = cards.update([dose(1, 12), dose(2, 12), dose(3, 13)], at(13, 0))
    assert [d.prescription_id.int for d in fresh] == [3]
    assert cards.update([dose(1, 12), dose(2, 12), dose(3, 13)], at(13, 1)) == []
    # a snoozed start-up card does alert when it comes back: she asked for it
    cards.snooze(dose(1, 12).key, 5, at(13, 1))
    assert [d.key for d in cards.wake(at(13, 6))] == [dose(1, 12).key]
    # the next school day, the desk still running: a dose falling due alerts
    assert len(cards.update([dose(1, 10, day=3)], at(10, 0, day=3))) == 1


def test_one_card_per_dose_stacked_in_time_order_never_repeated() -> None:
    cards = primed()
    fresh = cards.update([dose(2, 11), dose(1, 10)], at(11, 1))
    assert [d.prescription_id.int for d in fresh] == [1, 2]
    assert [d.prescription_id.int for d in cards.visible(at(11, 1))] == [1, 2]
    # the next check sees the same doses: no new card, no second card for either
    assert cards.update([dose(1, 10), dose(2, 11)], at(11, 2)) == []
    assert len(cards) == 2
    # Open on one: it goes for good, even though the dose is still due at the next check
    cards.dismiss(dose(1, 10).key)
    assert cards.update([dose(1, 10), dose(2, 11)], at(11, 3)) == []
    assert [d.prescription_id.int for d in cards.visible(at(11, 3))] == [2]


def test_snooze_hides_a_card_until_its_time_comes() -> None:
    cards = DueCards(NY)
    cards.update([dose(1, 10)], at(10, 0))
    until = cards.snooze(dose(1, 10).key, 5, at(10, 1))
    assert until == at(10, 6) and cards.next_wake() == at(10, 6)
    assert cards.visible(at(10, 3)) == []
    assert cards.wake(at(10, 5)) == []  # not yet
    assert cards.update([dose(1, 10)], at(10, 5)) == []  # a check during the snooze: no card
    woken = cards.wake(at(10, 6))
    assert [d.key for d in woken] == [dose(1, 10).key]
    assert cards.visible(at(10, 6)) == [dose(1, 10)] and cards.next_wake() is None
    # ten minutes, this time
    cards.snooze(dose(1, 10).key, 10, at(10, 7))
    assert cards.visible(at(10, 16)) == [] and cards.visible(at(10, 17)) == [dose(1, 10)]
    with pytest.raises(ValueError):
        cards.snooze(dose(1, 10).key, 0, at(10, 7))
    assert cards.snooze(dose(9, 10).key, 5, at(10, 7)) is None  # no such card


def test_a_documented_dose_takes_its_card_away_and_overdue_keeps_it() -> None:
    cards = DueCards(NY)
    cards.update([dose(1, 10), dose(2, 10)], at(10, 0))
    # dose 1 passes its window undocumented: the card stays, now "overdue"
    cards.update([dose(1, 10, overdue=True), dose(2, 10)], at(11, 5))
    shown = cards.visible(at(11, 5))
    assert [d.overdue for d in shown] == [True, False]
    # dose 2 was recorded (it leaves the open list): its card goes
    cards.update([dose(1, 10, overdue=True)], at(11, 6))
    assert [d.prescription_id.int for d in cards.visible(at(11, 6))] == [1]
    # an overdue dose that never had a card gets none (the list shows it as missed)
    assert cards.update([dose(1, 10, overdue=True), dose(3, 9, overdue=True)], at(11, 7)) == []


def test_give_steps_aside_and_comes_back_if_cancelled() -> None:
    cards = DueCards(NY)
    cards.update([dose(1, 10)], at(10, 0))
    assert cards.take(dose(1, 10).key)
    assert cards.visible(at(10, 1)) == []
    cards.release(dose(1, 10).key)
    assert cards.visible(at(10, 1)) == [dose(1, 10)]
    assert not cards.take(dose(7, 10).key)


def test_a_new_school_day_starts_with_no_cards() -> None:
    cards = primed()
    cards.update([dose(1, 10)], at(10, 0))
    cards.dismiss(dose(1, 10).key)
    # next day, the same order's same time is a new dose (another date)
    fresh = cards.update([dose(1, 10, day=3)], at(10, 0, day=3))
    assert len(fresh) == 1 and len(cards) == 1
    # yesterday's leftovers in the feed are not today's cards
    assert cards.update([dose(5, 10, day=2), dose(1, 10, day=3)], at(10, 1, day=3)) == []


def test_quiet_outside_school_hours() -> None:
    cards = DueCards(NY, day_start=dt.time(8, 0), day_end=dt.time(15, 0))
    assert not cards.quiet(at(8, 0)) and not cards.quiet(at(15, 0))
    assert cards.quiet(at(7, 59)) and cards.quiet(at(15, 1))
    assert not DueCards(NY).quiet(at(3, 0))  # hours unknown: never quiet


def test_what_a_card_may_say() -> None:
    d = DueDose(uuid.UUID(int=1), at(10, 30), short_student_name("Lovelace, Ada Maria"))
    assert card_text(d, NY, locked=False).title == "Due 10:30"
    assert card_text(d, NY, locked=False).body == "Ada L."
    locked = card_text(d, NY, locked=True)
    assert "Ada" not in locked.title + locked.body and "sign in" in locked.body
    overdue = DueDose(d.prescription_id, d.scheduled_for, d.student, overdue=True)
    assert card_text(overdue, NY, locked=False).title == "Overdue 10:30"
    assert stack_title(1) == "1 dose due" and stack_title(3) == "3 doses due"
    many = [DueDose(uuid.UUID(int=i), at(10), f"S{i} X.") for i in range(6)]
    tray = tray_text(many, NY, locked=False)
    assert tray.title == "6 doses due now" and "10:00 S0 X." in tray.body
    assert "… and 2 more" in tray.body
    assert tray_text(many, NY, locked=True).body == "Sign in to see it."


@pytest.mark.parametrize(
    ("full", "short"),
    [
        ("Lovelace, Ada", "Ada L."),
        ("Ada Lovelace", "Ada L."),
        ("  Lovelace ,  Ada  Maria ", "Ada L."),
        ("Ada", "Ada"),
        ("Lovelace,", "Lovelace"),
    ],
)
def test_first_name_and_last_initial_only(full: str, short: str) -> None:
    assert short_student_name(full) == short
