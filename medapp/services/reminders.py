"""Reminder lists (today's school doses with status), cached per school and day."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.store import TTL, Cache, school_tag
from medapp.db.repositories.reminders import (
    DayReminders,
    ReminderInputs,
    load_inputs,
    reminders_from_inputs,
)


def reminders_for_school(
    sessions: sessionmaker[Session],
    school_id: uuid.UUID,
    day: dt.date,
    *,
    now: dt.datetime | None = None,
    cache: Cache | None = None,
) -> DayReminders:
    now = now or dt.datetime.now(dt.UTC)

    def load() -> ReminderInputs:
        with sessions() as s:
            return load_inputs(s, day, [school_id])

    if cache is None:
        inputs = load()
    else:
        key = f"reminders:{school_id}:{day.isoformat()}"
        inputs = cache.get_or_compute(key, TTL.REMINDERS, load, tag=school_tag(school_id))
    return reminders_from_inputs(inputs, now)


def reminders_for_district(
    sessions: sessionmaker[Session], day: dt.date, *, now: dt.datetime | None = None
) -> DayReminders:
    """Every school's doses at once (district reports, the benchmark); not cached."""
    with sessions() as s:
        inputs = load_inputs(s, day, None)
    return reminders_from_inputs(inputs, now or dt.datetime.now(dt.UTC))
