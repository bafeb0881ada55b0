"""Reminder lists (today's school doses with status), cached per school and day."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from medapp.cache.store import TTL, school_tag
from medapp.db.repositories.reminders import (
    DayReminders,
    ReminderInputs,
    load_inputs,
    patch_logs,
    reminders_from_inputs,
)
from medapp.domain.school import SchoolCalendar
from medapp.services.desk import STUDENT_READERS, Desk


def reminders_for_school(
    desk: Desk, school_id: uuid.UUID, day: dt.date, *, now: dt.datetime | None = None
) -> DayReminders:
    """The school's doses of ``day`` with their status at ``now`` (default: the desk's clock).

    The inputs are cached per school and day (``desk.cache``), statuses never are: they follow
    the clock. The cache is shared by the users of one PC, so the actor is checked before it."""
    desk.actor.require_read(school_id, "this school's doses")
    now = now or desk.now()
    return reminders_from_inputs(_school_inputs(desk, school_id, day), now)


def school_calendar(desk: Desk, school_id: uuid.UUID, day: dt.date) -> SchoolCalendar | None:
    """The school's hours as the day's reminder list knows them (the same cached read): the
    due-dose cards stay quiet outside them."""
    desk.actor.require_read(school_id, "this school's doses")
    return _school_inputs(desk, school_id, day).calendars.get(school_id)


def _school_inputs(desk: Desk, school_id: uuid.UUID, day: dt.date) -> ReminderInputs:
    cache = desk.cache

    def load() -> ReminderInputs:
        with desk.sessions() as s:
            return load_inputs(s, day, [school_id])

    if cache is None:
        return load()
    key = f"reminders:{school_id}:{day.isoformat()}"
    return cache.get_or_compute(key, TTL.REMINDERS, load, tag=school_tag(school_id))


def reminders_for_district(
    desk: Desk, day: dt.date, *, now: dt.datetime | None = None
) -> DayReminders:
    """Every school's doses the actor may see, at once (district reports, the benchmark); not
    cached. Row-level security narrows "every school" to hers on her own connection."""
    desk.actor.require_role(STUDENT_READERS, "see the district's doses")
    with desk.sessions() as s:
        inputs = load_inputs(s, day, None)
    return reminders_from_inputs(inputs, now or desk.now())


def load_school_inputs(desk: Desk, school_id: uuid.UUID, day: dt.date) -> ReminderInputs:
    """The school's reminder inputs straight from the database (no cache): what a desk keeps
    in memory to patch with :func:`patch_school_inputs` as changes arrive."""
    desk.actor.require_read(school_id, "this school's doses")
    with desk.sessions() as s:
        return load_inputs(s, day, [school_id])


def patch_school_inputs(
    desk: Desk, inputs: ReminderInputs, log_ids: Sequence[uuid.UUID]
) -> ReminderInputs:
    """``inputs`` with the named dose logs re-read (a change notification's row ids): one
    statement by primary key instead of the school's whole day."""
    for school_id in inputs.calendars:
        desk.actor.require_read(school_id, "this school's doses")
    with desk.sessions() as s:
        return patch_logs(s, inputs, log_ids)
