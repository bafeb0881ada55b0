"""``medapp --self-check``: prove an installation works, step by step, without a screen.

District IT runs it after installing (``medapp-cli --self-check`` in the frozen bundle) and the
packaging test runs it from a fresh home folder: every part a desk needs at start-up is touched
once — the database (the private server by default), the migrations shipped with this build,
formulary search, today's reminders, the disk cache, Qt (offscreen), the one-desk-per-user
channel (a lock file and a Qt local socket: QtNetwork must be in the bundle), the job scheduler.
Each
step prints ``OK <step>: <detail>`` or ``FAIL <step>: <sentence>``; the first failure ends the
check with exit code 1. Whatever happens, the private server this check started is stopped
before it returns, so an installer may overwrite the program folder right after.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from medapp.config import Settings

if TYPE_CHECKING:
    from medapp.db.engine import Database

EXIT_OK = 0
EXIT_FAILED = 1
SCHEDULER_WAIT_S = 10.0


class CheckFailed(Exception):
    """A step did not work; the message is the sentence printed after ``FAIL <step>:``."""


class _Report:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def step(self, name: str, action: Callable[[], str]) -> None:
        started = time.perf_counter()
        try:
            detail = action()
        except Exception as exc:  # noqa: BLE001 - every failure becomes one sentence
            sentence = " ".join(str(exc).split()) or type(exc).__name__
            print(f"FAIL {name}: {sentence}", file=self.out, flush=True)
            raise CheckFailed(sentence) from exc
        ms = (time.perf_counter() - started) * 1000
        print(f"OK {name}: {detail} ({ms:.0f} ms)", file=self.out, flush=True)


def run_self_check(settings: Settings, out: TextIO) -> int:
    """Run every step on the configured database; 0 when all passed, 1 at the first failure."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # headless: IT's console, CI
    report = _Report(out)
    try:
        with _database(settings, report) as db:
            _steps(db, report)
    except CheckFailed:
        return EXIT_FAILED
    print("self-check passed", file=out, flush=True)
    return EXIT_OK


@contextmanager
def _database(settings: Settings, report: _Report) -> Iterator[Database]:
    """Open (and migrate) the database; on every way out dispose it and stop the private
    server this process started (the installer must never meet a running postgres)."""
    from medapp.bootstrap import connect, embedded_pgdata
    from medapp.db.embedded import stop_embedded

    opened: list[Database] = []

    def open_db() -> str:
        db = connect(settings, schema="upgrade" if settings.embedded else "check")
        opened.append(db)
        return db.display_name

    try:
        report.step("database", open_db)
        yield opened[0]
    finally:
        for db in opened:
            db.dispose()
        if settings.embedded:
            stopped = _stop_private_server(stop_embedded, embedded_pgdata())
            print(f"OK private server: {stopped}", file=report.out, flush=True)


def _stop_private_server(stop: Callable[[Path], None], pgdata: Path) -> str:
    stop(pgdata)
    if not (pgdata / "postmaster.pid").exists():
        return "stopped"
    return "still running for another medapp on this account"


def _steps(db: Database, report: _Report) -> None:
    from medapp.cache.store import Cache
    from medapp.db import migrate
    from medapp.formulary.search import search_medications
    from medapp.services.desk import auditor_desk
    from medapp.services.reminders import reminders_for_district

    def migrations() -> str:
        current, head = migrate.current_revision(db.engine), migrate.head_revision(db.engine)
        if current != head:
            raise CheckFailed(f"the database is at schema {current}, this build needs {head}")
        return f"schema {head}"

    def search() -> str:
        with db.sessions() as session:
            page = search_medications(session, "ibuprofen", limit=5)
        return f"{page.total} products match 'ibuprofen'"

    def reminders() -> str:
        day = reminders_for_district(auditor_desk(db.sessions), dt.date.today())
        return f"{len(day.items)} doses today"

    def cache() -> str:
        with tempfile.TemporaryDirectory(prefix="medapp-self-check-") as folder:
            store = Cache(Path(folder) / "cache")
            try:
                store.set("self-check", {"written": True}, ttl=60)
                if store.get("self-check") != {"written": True}:
                    raise CheckFailed("a value written to the disk cache did not read back")
            finally:
                store.close()
        return "written and read back"

    report.step("migrations", migrations)
    report.step("search", search)
    report.step("reminders", reminders)
    report.step("cache", cache)
    report.step("qt", _qt)
    report.step("one desk", _one_desk)
    report.step("scheduler", _scheduler)


def _qt() -> str:
    """The application object with its theme and icon: proves the Qt plugins (platform, SVG
    image format) and the bundled resources are there."""
    from PySide6.QtGui import QGuiApplication

    from medapp.ui.app import make_app

    app = make_app(["medapp"])
    if app.windowIcon().isNull():
        raise CheckFailed("the application icon could not be drawn (Qt SVG support missing)")
    return f"Qt {QGuiApplication.platformName()} platform, icon drawn"


def _one_desk() -> str:
    """One desk per user (:class:`medapp.ui.startup.DeskInstance`) on a throw-away folder: hold
    it, see a second start refused, send the second start's "raise" request through the local
    socket and get it answered by the event loop, release, hold again. Proves the frozen bundle
    carries QtNetwork (a desk without it could not start at all)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtNetwork import QLocalSocket

    from medapp.ui.startup import RAISE_REQUEST, DeskInstance

    app = QCoreApplication.instance()
    if app is None:
        raise CheckFailed("no Qt application: the qt step must run first")
    with tempfile.TemporaryDirectory(prefix="medapp-self-check-desk-") as name:
        folder = Path(name)
        first = DeskInstance(folder, parent=app)
        try:
            if not first.acquire():
                raise CheckFailed("the desk lock of a new, empty folder was already taken")
            second = DeskInstance(folder)
            if second.acquire():
                second.release()
                raise CheckFailed("a second desk got the lock the first one holds")
            asked = threading.Event()
            loop = QEventLoop()

            def answered() -> None:
                asked.set()
                loop.quit()

            first.raise_requested.connect(answered)
            QTimer.singleShot(int(SCHEDULER_WAIT_S * 1000), loop.quit)
            sock = QLocalSocket()
            sock.connectToServer(first.key)
            if not sock.waitForConnected(int(SCHEDULER_WAIT_S * 1000)):
                raise CheckFailed(f"the desk's local socket did not answer: {sock.errorString()}")
            sock.write(RAISE_REQUEST)
            sock.flush()
            loop.exec()
            sock.abort()
            if not asked.is_set():
                raise CheckFailed("the running desk never received a second start's request")
        finally:
            first.release()
            first.deleteLater()
        again = DeskInstance(folder)
        if not again.acquire():
            raise CheckFailed("the desk lock was not released")
        again.release()
    return "held, a second start refused and answered, released"


def _scheduler() -> str:
    """The desk's scheduler on the Qt event loop: start, run one job, shut down."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from medapp.jobs.scheduler import DeskScheduler

    ran = threading.Event()
    loop = QEventLoop()
    scheduler = DeskScheduler()
    scheduler.add_job(ran.set, id="self-check")
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(lambda: loop.quit() if ran.is_set() else None)
    QTimer.singleShot(int(SCHEDULER_WAIT_S * 1000), loop.quit)
    scheduler.start()
    poll.start()
    try:
        loop.exec()
    finally:
        poll.stop()
        scheduler.shutdown(wait=True)
        QCoreApplication.processEvents()
    if not ran.is_set():
        raise CheckFailed(f"the scheduler did not run its job within {SCHEDULER_WAIT_S:.0f} s")
    return "started, ran a job, stopped"
