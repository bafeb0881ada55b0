"""The end-of-day close as a desk job: after the last dose window + grace, and at start for
the past week's days not yet closed (a PC that was off, a day nobody signed in).

Runs on the jobs' thread as the nurse signed in at this desk (the MISSED records and their
audit rows carry her name, see ``services/end_of_day.py``); an auditor's or lead nurse's desk
that may not record for the school closes nothing. Days already closed in this session are
remembered, so the sweep costs one query a tick once the day is done.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from zoneinfo import ZoneInfo

from medapp.runtime.context import AppContext
from medapp.services.desk import AccessDenied
from medapp.services.end_of_day import DayTooEarly, close_school_day

log = logging.getLogger(__name__)

#: how many past days the first run looks back on
LOOKBACK_DAYS = 7


class EndOfDayJob:
    """``run()`` closes every day of the desk's school that is due and not yet closed."""

    def __init__(self, ctx: AppContext, lookback_days: int = LOOKBACK_DAYS) -> None:
        self.ctx = ctx
        self.lookback_days = lookback_days
        self.closed: set[tuple[uuid.UUID, dt.date]] = set()

    def run(self) -> list[tuple[dt.date, int]]:
        """(day, MISSED records written) for each day closed now."""
        ctx = self.ctx
        school_id = ctx.school_id
        if school_id is None:
            return []
        try:
            desk = ctx.desk
        except AccessDenied:
            return []  # nobody signed in: the next nurse's desk closes the day
        if not desk.actor.writes_school(school_id):
            return []
        try:
            zone = ZoneInfo(ctx.school_timezone)
        except Exception:  # noqa: BLE001 - a bad setting must not stop the jobs
            zone = ZoneInfo("UTC")
        today = desk.now().astimezone(zone).date()
        done: list[tuple[dt.date, int]] = []
        for back in range(self.lookback_days, -1, -1):
            day = today - dt.timedelta(days=back)
            if (school_id, day) in self.closed:
                continue
            try:
                result = close_school_day(desk, school_id, day)
            except DayTooEarly:
                continue
            self.closed.add((school_id, day))
            if result.written:
                done.append((day, result.written))
        return done
