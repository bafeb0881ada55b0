"""Scheduled desk jobs: pop-up rules, and the scheduler really running jobs off the GUI thread."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from medapp.db.models import MedicationLog, StudentMedication
from medapp.db.repositories.reminders import DayReminders, ReminderItem, RxInfo
from medapp.domain.doses import DoseStatus
from medapp.jobs.scheduler import DeskJobs
from medapp.jobs.watchers import DoseWatcher
from medapp.services.doses import DoseCommand

NY = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 2)


def item(n: int, status: DoseStatus, hour: int) -> ReminderItem:
    rx = RxInfo(
        prescription_id=uuid.UUID(int=n),
        school_id=uuid.UUID(int=0),
        student_id=uuid.UUID(int=100 + n),
        student_name=f"Student{n}, A",
        student_number=f"S{n}",
        grade="3",
        medication_id=uuid.UUID(int=7),
        medication_name="Methylphenidate",
        strength="10 mg",
        dosage="10 mg",
        route="PO",
        is_controlled=True,
        is_prn=False,
    )
    return ReminderItem(
        rx, dt.datetime(2026, 11, 2, hour, 0, tzinfo=NY), status, None, None, None, None, ()
    )


def day(*items: ReminderItem, on: dt.date = DAY) -> DayReminders:
    return DayReminders(on, tuple(items), (), {}, dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY))


def test_each_due_or_missed_dose_is_announced_once() -> None:
    watcher = DoseWatcher(NY)
    first = watcher.check(day(item(1, DoseStatus.DUE, 12), item(2, DoseStatus.UPCOMING, 14)))
    assert [(n.kind, n.count) for n in first] == [("due", 1)]
    assert "12:00 A S." in first[0].text and "Methylphenidate" not in first[0].text
    assert watcher.check(day(item(1, DoseStatus.DUE, 12))) == []
    later = watcher.check(day(item(1, DoseStatus.MISSED, 12), item(2, DoseStatus.DUE, 14)))
    assert sorted((n.kind, n.count) for n in later) == [("due", 1), ("missed", 1)]
    assert "not given" in next(n for n in later if n.kind == "missed").text
    # a new day starts clean
    assert watcher.check(day(item(1, DoseStatus.DUE, 12), on=DAY + dt.timedelta(days=1)))


def test_priming_keeps_missed_doses_visible() -> None:
    watcher = DoseWatcher(NY)
    watcher.prime(day(item(1, DoseStatus.DUE, 12), item(2, DoseStatus.MISSED, 9)))
    notices = watcher.check(day(item(1, DoseStatus.DUE, 12), item(2, DoseStatus.MISSED, 9)))
    assert [n.kind for n in notices] == ["missed"]


def test_many_doses_are_summarised() -> None:
    notices = DoseWatcher(NY).check(day(*(item(i, DoseStatus.DUE, 12) for i in range(9))))
    assert notices[0].title == "9 doses due now" and "… and 5 more" in notices[0].text


def test_scheduler_syncs_the_outbox_off_the_gui_thread(qtbot, desk_ctx) -> None:  # noqa: ANN001
    with Session(desk_ctx.db.engine) as s:
        rx_id = s.scalars(select(StudentMedication.id).where(StudentMedication.is_active)).first()
    cmd = DoseCommand(
        id=uuid.uuid4(),
        prescription_id=rx_id,
        nurse_id=desk_ctx.user_id,
        status="NOT_GIVEN",
        reason="ABSENT",
        time_given=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2),
    )
    desk_ctx.outbox.put(cmd.to_record())
    jobs = DeskJobs(desk_ctx, reminder_seconds=3600, outbox_seconds=1, alert_view_minutes=60)
    threads: list[str] = []
    jobs.signals.outbox_synced.connect(lambda *a: threads.append(threading.current_thread().name))
    try:
        with qtbot.waitSignal(jobs.signals.outbox_synced, timeout=10_000) as blocker:
            jobs.start()
        assert blocker.args == [1, 0, 0]
    finally:
        jobs.stop()
    assert threads == ["MainThread"]  # delivered to the GUI thread through a queued signal
    with Session(desk_ctx.db.engine) as s:
        assert s.get(MedicationLog, cmd.id).recorded_offline
    assert len(desk_ctx.outbox) == 0


def test_stopped_scheduler_runs_nothing_more(qtbot, desk_ctx) -> None:  # noqa: ANN001
    jobs = DeskJobs(desk_ctx, reminder_seconds=1, outbox_seconds=3600, alert_view_minutes=60)
    ticks: list[int] = []
    original = jobs.check_doses
    jobs.scheduler.modify_job("doses", func=lambda: (ticks.append(1), original()))
    jobs.start()
    qtbot.waitUntil(lambda: len(ticks) >= 1, timeout=10_000)
    jobs.stop()
    seen = len(ticks)
    qtbot.wait(2500)
    assert len(ticks) == seen


def test_the_jobs_purge_yesterdays_student_lists_at_start(qtbot, desk_ctx) -> None:  # noqa: ANN001
    from medapp.cache.store import FORMULARY_TAG, school_tag

    desk_ctx.cache.set(
        "reminders:s:2026-11-02", {"names": ["Lovelace, Ada"]}, 3600, school_tag("s")
    )
    desk_ctx.cache.set("formulary:snapshot", ["amoxicillin"], 86400, FORMULARY_TAG)
    jobs = DeskJobs(desk_ctx, reminder_seconds=3600, outbox_seconds=3600, alert_view_minutes=60)
    try:
        jobs.start()  # returns at once: the purge runs on the jobs' own thread
        qtbot.waitUntil(
            lambda: desk_ctx.cache.get("reminders:s:2026-11-02") is None, timeout=10_000
        )
    finally:
        jobs.stop()
    assert desk_ctx.cache.get("formulary:snapshot") == ["amoxicillin"]


def test_a_failing_job_is_retried_with_back_off_and_shown_in_the_status_bar(
    qtbot,  # noqa: ANN001
    desk_ctx,  # noqa: ANN001
) -> None:
    """The reminders job fails twice, then works: each failure is in the status bar with its
    retry delay (1 s, then 2 s — long before the job's hourly interval), and the message goes
    once it runs again. The real scheduler runs it, on its own thread."""
    from medapp.ui.app import connect_jobs
    from medapp.ui.main_window import MainWindow

    window = MainWindow(desk_ctx)
    qtbot.addWidget(window)
    window.show()
    jobs = DeskJobs(
        desk_ctx,
        reminder_seconds=3600,
        outbox_seconds=3600,
        alert_view_minutes=60,
        retry_seconds=(1.0, 2.0),
    )
    runs: list[str] = []

    def flaky() -> None:
        runs.append(threading.current_thread().name)
        if len(runs) <= 2:
            raise ConnectionError("the server is away")

    jobs.add_job("doses", flaky, "interval", seconds=3600, start=dt.datetime.now(dt.UTC))
    connect_jobs(jobs, window)
    shown: list[str] = []
    jobs.signals.job_failed.connect(lambda *_a: shown.append(window.job_status.text()))
    recovered: list[str] = []
    jobs.signals.job_recovered.connect(recovered.append)
    try:
        jobs.start()
        qtbot.waitUntil(lambda: recovered == ["doses"], timeout=15_000)
    finally:
        jobs.stop()
    assert shown == [
        "Reminders could not be refreshed — retrying in 1 s",
        "Reminders could not be refreshed — retrying in 2 s",
    ]
    assert len(runs) == 3 and "MainThread" not in runs
    assert window.job_status.isHidden() and window.job_status.text() == ""


def test_back_off_grows_to_its_ceiling(qtbot, desk_ctx) -> None:  # noqa: ANN001
    """A job that keeps failing is retried after 5 s, 15 s, 60 s, then every 5 minutes."""
    from medapp.jobs.scheduler import RETRY_SECONDS, failure_text

    jobs = DeskJobs(desk_ctx, reminder_seconds=3600, outbox_seconds=3600, alert_view_minutes=60)
    delays: list[int] = []
    jobs.signals.job_failed.connect(lambda _name, seconds: delays.append(seconds))

    def broken() -> None:
        raise OSError("never works")

    try:
        for _ in range(6):  # run it directly, as the scheduler does, six times
            jobs._guarded("alerts", "alerts", broken)()
        qtbot.waitUntil(lambda: len(delays) == 6, timeout=5_000)
    finally:
        jobs.stop()
    assert RETRY_SECONDS == (5, 15, 60, 300)
    assert delays == [5, 15, 60, 300, 300, 300]
    assert failure_text("outbox", 5) == "Offline doses could not be sent — retrying in 5 s"
