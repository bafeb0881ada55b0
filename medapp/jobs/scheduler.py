"""APScheduler on the Qt event loop, and the desk's periodic jobs.

Why not APScheduler's own ``QtScheduler``: under PySide6 ``QTimer.singleShot`` returns None, so
that class cannot stop its pending wake-up on shutdown, and a wake-up requested from a worker
thread (adding a job, a job finishing) would create a timer on a thread without an event loop.
``DeskScheduler`` keeps one QTimer on the GUI thread and arms it through a queued signal from
whichever thread asks. Jobs themselves run on APScheduler's thread pool: they do database work
and report through ``JobSignals`` — they never touch widgets.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from PySide6.QtCore import QObject, QTimer, Signal

from medapp.jobs.end_of_day import EndOfDayJob
from medapp.jobs.watchers import DoseWatcher, open_doses
from medapp.runtime.context import AppContext
from medapp.services.desk import AccessDenied
from medapp.services.doses import sync_outbox
from medapp.services.inventory import refresh_alert_view
from medapp.services.reminders import reminders_for_school, school_calendar

log = logging.getLogger(__name__)

MAX_TIMER_MS = 2**31 - 1


class _Waker(QObject):
    arm = Signal(int)  # milliseconds; -1 stops

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.arm.connect(self._arm)

    def _arm(self, ms: int) -> None:
        self.timer.stop()
        if ms >= 0:
            self.timer.start(ms)


class DeskScheduler(BaseScheduler):
    """A BaseScheduler whose wake-ups are a QTimer owned by the GUI thread."""

    def __init__(self, **options: object) -> None:
        self._waker = _Waker()
        self._waker.timer.timeout.connect(self._process_jobs)
        super().__init__(**options)

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)
        self._waker.arm.emit(-1)

    def _start_timer(self, wait_seconds: float | None) -> None:
        if wait_seconds is None or self.state == STATE_STOPPED:
            self._waker.arm.emit(-1)
        else:
            self._waker.arm.emit(min(int(wait_seconds * 1000), MAX_TIMER_MS))

    def wakeup(self) -> None:
        self._start_timer(0)

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        wait_seconds = super()._process_jobs()
        self._start_timer(wait_seconds)
        return wait_seconds


def _school_zone(ctx: AppContext) -> ZoneInfo:
    try:
        return ZoneInfo(ctx.school_timezone)
    except Exception:  # noqa: BLE001 - a bad setting must not stop the jobs
        return ZoneInfo("UTC")


class JobSignals(QObject):
    notice = Signal(str, str, str)  # kind, title, text
    #: the open doses for the notification cards (tuple[DueDose, ...]) and the school's hours
    #: ((day_start, day_end) or None) — cards stay quiet outside them
    due = Signal(object, object)
    outbox_synced = Signal(int, int, int)  # delivered, rejected, still waiting
    outbox_status = Signal(str)  # SyncReport.status_text(): sent, already there, to review, left
    #: job name, seconds until the retry (never the exception text: it may carry PHI)
    job_failed = Signal(str, int)
    #: job name: it ran again without error after failing
    job_recovered = Signal(str)


#: waits before the 1st, 2nd, 3rd … retry of a failing job (the last one repeats)
RETRY_SECONDS: tuple[float, ...] = (5, 15, 60, 300)

#: what a failing job is called in the status bar (no names, no doses)
JOB_LABELS = {
    "doses": "Reminders could not be refreshed",
    "outbox": "Offline doses could not be sent",
    "alerts": "Stock alerts could not be refreshed",
    "purge": "The day-end clean-up could not run",
    "end-of-day": "The school day could not be closed",
}


def failure_text(name: str, retry_in: int) -> str:
    """The status bar's sentence for a failing job."""
    label = JOB_LABELS.get(name, f"A background task ({name}) failed")
    return f"{label} — retrying in {retry_in} s"


class DeskJobs:
    """The jobs of one running desk; ``start()`` after the window is shown.

    Every job runs guarded (:meth:`add_job`): an exception is logged (its type only), reported
    through ``signals.job_failed`` and the job is run again after a back-off
    (:data:`RETRY_SECONDS`) instead of waiting for its next interval; the first run without
    error after that emits ``signals.job_recovered``."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        reminder_seconds: int = 60,
        outbox_seconds: int = 60,
        alert_view_minutes: int = 15,
        retry_seconds: tuple[float, ...] = RETRY_SECONDS,
    ) -> None:
        self.ctx = ctx
        self.signals = JobSignals()
        self.scheduler = DeskScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
        )
        self.watcher: DoseWatcher | None = None  # made at the first check: the school is known then
        self._primed = False
        self.retry_seconds = retry_seconds
        self._failures: dict[str, int] = {}  # job name -> failures in a row
        self._lock = threading.Lock()
        now = dt.datetime.now(dt.UTC)
        self.add_job("doses", self.check_doses, "interval", seconds=reminder_seconds, start=now)
        self.add_job("outbox", self.sync, "interval", seconds=outbox_seconds)
        self.add_job("alerts", self.refresh_alerts, "interval", minutes=alert_view_minutes)
        # The PC keeps no student data overnight: the day's reminder lists go at day end.
        self.add_job("purge", self.purge_day, "cron", hour=0, minute=5, timezone=_school_zone(ctx))
        # ... and whatever an earlier day left behind, once at start (on the jobs' thread)
        self.add_job("purge", self.purge_day, job_id="purge-at-start", start=now)
        self._add_end_of_day_job()

    def add_job(
        self,
        name: str,
        fn: Callable[[], object],
        trigger: str | None = None,
        *,
        job_id: str | None = None,
        start: dt.datetime | None = None,
        **trigger_args: Any,
    ) -> None:
        """Schedule ``fn`` under ``name`` (the name the status bar reports), guarded."""
        job_id = job_id or name
        options: dict[str, Any] = {"id": job_id, "replace_existing": True}
        if start is not None:
            options["next_run_time"] = start
        self.scheduler.add_job(self._guarded(name, job_id, fn), trigger, **options, **trigger_args)

    def _guarded(self, name: str, job_id: str, fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - reported, retried; never the text (PHI)
                self._failed(name, job_id, fn, exc)
            else:
                with self._lock:
                    recovered = self._failures.pop(name, 0) > 0
                if recovered:
                    log.info("job %s runs again", name)
                    self.signals.job_recovered.emit(name)

        return run

    def _failed(self, name: str, job_id: str, fn: Callable[[], object], exc: BaseException) -> None:
        with self._lock:
            count = self._failures.get(name, 0) + 1
            self._failures[name] = count
        delay = self.retry_seconds[min(count, len(self.retry_seconds)) - 1]
        log.warning(
            "job %s failed (%s, %d in a row); retrying in %.0f s",
            name,
            type(exc).__name__,
            count,
            delay,
        )
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        if self.scheduler.state != STATE_STOPPED:
            try:  # the same job, sooner: it can never run twice at once
                self.scheduler.modify_job(job_id, next_run_time=when)
            except JobLookupError:  # a one-off job (already removed): a one-off retry
                self.scheduler.add_job(
                    self._guarded(name, f"{name}-retry", fn),
                    id=f"{name}-retry",
                    next_run_time=when,
                    replace_existing=True,
                )
        self.signals.job_failed.emit(name, max(1, round(delay)))

    def start(self) -> None:
        self.scheduler.start()

    def purge_day(self) -> None:
        dropped = self.ctx.cache.purge_student_data()
        log.info("day-end purge: %d cached student entries dropped", dropped)

    def stop(self) -> None:
        if self.scheduler.state != STATE_STOPPED:
            self.scheduler.shutdown(wait=False)

    def check_doses(self) -> None:
        ctx = self.ctx
        if ctx.school_id is None:
            return
        try:
            desk = ctx.desk
        except AccessDenied:
            return  # nobody signed in: no list to check (not a failure)
        tz = ZoneInfo(ctx.school_timezone)
        today = ctx.now().astimezone(tz).date()  # the desk's clock, as the lists use it
        reminders = reminders_for_school(desk, ctx.school_id, today)
        if self.watcher is None or self.watcher.tz != tz:
            self.watcher, self._primed = DoseWatcher(tz), False
        if not self._primed:
            self.watcher.prime(reminders)
            self._primed = True
        for notice in self.watcher.check(reminders):
            self.signals.notice.emit(notice.kind, notice.title, notice.text)
        calendar = school_calendar(desk, ctx.school_id, today)
        hours = (calendar.day_start, calendar.day_end) if calendar is not None else None
        self.signals.due.emit(open_doses(reminders), hours)

    def sync(self) -> None:
        if len(self.ctx.outbox) == 0:
            return
        try:
            desk = self.ctx.desk
        except AccessDenied:
            return  # nobody signed in yet: the outbox waits for a nurse's desk
        report = sync_outbox(desk)
        if report.delivered or report.rejected or report.already_there:
            self.signals.outbox_synced.emit(report.delivered, report.rejected, report.still_waiting)
            self.signals.outbox_status.emit(report.status_text())
            if self.ctx.school_id is not None:
                self.ctx.hub.data_changed.emit("medication_logs", str(self.ctx.school_id))

    # -- end of the school day (issue 14) ------------------------------------------------------

    def _add_end_of_day_job(self, minutes: int = 5, first_after_seconds: int = 120) -> None:
        """Every few minutes, and first shortly after start (not during it): close the days
        that are over (``medapp/jobs/end_of_day.py``)."""
        self.end_of_day = EndOfDayJob(self.ctx)
        self.add_job(
            "end-of-day",
            self.close_days,
            "interval",
            minutes=minutes,
            start=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=first_after_seconds),
        )

    def close_days(self) -> None:
        closed = self.end_of_day.run()  # a failure is reported and retried by add_job's guard
        for day, written in closed:
            self.signals.notice.emit(
                "end_of_day",
                "School day closed",
                f"{written} undocumented dose(s) of {day.isoformat()} recorded as missed.",
            )
        if closed and self.ctx.school_id is not None:
            self.ctx.hub.data_changed.emit("medication_logs", str(self.ctx.school_id))

    def refresh_alerts(self) -> None:
        refresh_alert_view(self.ctx.db.engine)
