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
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from PySide6.QtCore import QObject, QTimer, Signal

from medapp.jobs.end_of_day import EndOfDayJob
from medapp.jobs.watchers import DoseWatcher
from medapp.services.desk import AccessDenied
from medapp.services.doses import sync_outbox
from medapp.services.inventory import refresh_alert_view
from medapp.services.reminders import reminders_for_school
from medapp.ui.context import AppContext

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

    def _process_jobs(self) -> float | None:  # type: ignore[override]
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
    outbox_synced = Signal(int, int, int)  # delivered, rejected, still waiting
    job_failed = Signal(str)  # job name (never the exception text: it may carry PHI)


class DeskJobs:
    """The jobs of one running desk; ``start()`` after the window is shown."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        reminder_seconds: int = 60,
        outbox_seconds: int = 60,
        alert_view_minutes: int = 15,
    ) -> None:
        self.ctx = ctx
        self.signals = JobSignals()
        self.scheduler = DeskScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
        )
        self.watcher: DoseWatcher | None = None  # made at the first check: the school is known then
        self._primed = False
        self.scheduler.add_job(
            self.check_doses,
            "interval",
            seconds=reminder_seconds,
            id="doses",
            next_run_time=dt.datetime.now(dt.UTC),
        )
        self.scheduler.add_job(self.sync, "interval", seconds=outbox_seconds, id="outbox")
        self.scheduler.add_job(
            self.refresh_alerts, "interval", minutes=alert_view_minutes, id="alerts"
        )
        # The PC keeps no student data overnight: the day's reminder lists go at day end.
        self.scheduler.add_job(
            self.purge_day, "cron", hour=0, minute=5, id="purge", timezone=_school_zone(ctx)
        )
        # ... and whatever an earlier day left behind, once at start (on the jobs' thread)
        self.scheduler.add_job(
            self.purge_day, id="purge-at-start", next_run_time=dt.datetime.now(dt.UTC)
        )

        self._add_end_of_day_job()

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
            tz = ZoneInfo(ctx.school_timezone)
            today = dt.datetime.now(tz).date()
            reminders = reminders_for_school(ctx.desk, ctx.school_id, today)
        except Exception:  # noqa: BLE001 - the next tick tries again; the pane shows offline
            log.warning("dose check failed", exc_info=False)
            self.signals.job_failed.emit("doses")
            return
        if self.watcher is None or self.watcher.tz != tz:
            self.watcher, self._primed = DoseWatcher(tz), False
        if not self._primed:
            self.watcher.prime(reminders)
            self._primed = True
        for notice in self.watcher.check(reminders):
            self.signals.notice.emit(notice.kind, notice.title, notice.text)

    def sync(self) -> None:
        if len(self.ctx.outbox) == 0:
            return
        try:
            desk = self.ctx.desk
        except AccessDenied:
            return  # nobody signed in yet: the outbox waits for a nurse's desk
        try:
            report = sync_outbox(desk)
        except Exception:  # noqa: BLE001
            self.signals.job_failed.emit("outbox")
            return
        if report.delivered or report.rejected:
            self.signals.outbox_synced.emit(report.delivered, report.rejected, report.still_waiting)
            if self.ctx.school_id is not None:
                self.ctx.hub.data_changed.emit("medication_logs", str(self.ctx.school_id))

    # -- end of the school day (issue 14) ------------------------------------------------------

    def _add_end_of_day_job(self, minutes: int = 5, first_after_seconds: int = 120) -> None:
        """Every few minutes, and first shortly after start (not during it): close the days
        that are over (``medapp/jobs/end_of_day.py``)."""
        self.end_of_day = EndOfDayJob(self.ctx)
        self.scheduler.add_job(
            self.close_days,
            "interval",
            minutes=minutes,
            id="end-of-day",
            next_run_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=first_after_seconds),
        )

    def close_days(self) -> None:
        try:
            closed = self.end_of_day.run()
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.warning("end-of-day close failed", exc_info=False)
            self.signals.job_failed.emit("end-of-day")
            return
        for day, written in closed:
            self.signals.notice.emit(
                "end_of_day",
                "School day closed",
                f"{written} undocumented dose(s) of {day.isoformat()} recorded as missed.",
            )
        if closed and self.ctx.school_id is not None:
            self.ctx.hub.data_changed.emit("medication_logs", str(self.ctx.school_id))

    def refresh_alerts(self) -> None:
        try:
            refresh_alert_view(self.ctx.db.engine)
        except Exception:  # noqa: BLE001
            self.signals.job_failed.emit("alerts")
