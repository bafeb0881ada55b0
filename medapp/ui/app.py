"""QApplication set-up: organisation names for QSettings, font, palette and stylesheet (light or
dark), the application icon; then the desk context (database, cache, outbox) and the window."""

from __future__ import annotations

import gc
import html
import logging
import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from medapp import paths
from medapp.db.engine import Database
from medapp.db.errors import DatabaseUnavailable
from medapp.ui.gate import Gatekeeper

if TYPE_CHECKING:
    from medapp.jobs.scheduler import DeskJobs
    from medapp.runtime.context import AppContext
    from medapp.ui.main_window import MainWindow
    from medapp.ui.startup import DeskInstance

log = logging.getLogger(__name__)

MIN_POINT_SIZE = 10.0


def make_app(argv: list[str] | None = None, *, theme: str | None = None) -> QApplication:
    """The application object (created once), with names, font, theme and icon."""
    from medapp.ui.main_window import app_icon
    from medapp.ui.widgets.theme import apply_theme

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setOrganizationName("medapp")
    app.setApplicationName("medapp")
    app.setApplicationDisplayName("medapp")
    font = app.font()
    if font.pointSizeF() < MIN_POINT_SIZE:
        font.setPointSizeF(MIN_POINT_SIZE)
        app.setFont(font)
    mode = theme or str(QSettings().value("ui/theme", "system") or "system")
    apply_theme(app, mode)
    app.setWindowIcon(app_icon())
    return app


def _start_jobs(ctx: AppContext, window: MainWindow) -> DeskJobs:
    """Due/missed-dose pop-ups, offline outbox sync and the alert-view refresh."""
    from medapp.jobs.scheduler import DeskJobs

    jobs = DeskJobs(ctx)
    connect_jobs(jobs, window)
    jobs.start()
    return jobs


def connect_jobs(jobs: DeskJobs, window: MainWindow) -> None:
    """What the jobs report, shown by the window: pop-ups, sync results, and a failing job in
    the status bar until it runs again."""
    # due doses get a card (and its own tray message); missed ones the notification
    jobs.signals.notice.connect(
        lambda kind, title, text: None if kind == "due" else window.show_notification(title, text)
    )
    jobs.signals.due.connect(window.show_due_doses)
    jobs.signals.outbox_status.connect(
        lambda text: window.show_notification("Offline doses sent", text)
    )
    jobs.signals.job_failed.connect(window.show_job_failed)
    jobs.signals.job_recovered.connect(window.show_job_recovered)


def demo_sign_in_hint(db: Database) -> str:
    """The demo's accounts and their published password, for the sign-in screen."""
    from medapp.demo.accounts import DEMO_PASSWORD, demo_accounts
    from medapp.services.desk import Role

    with db.engine.connect() as conn:
        accounts = demo_accounts(conn)
    names = ", ".join(
        f"<b>{html.escape(username)}</b> ({Role(role).label.lower()})"
        for username, _n, role in accounts
    )
    return (
        "Demo data — every account's password is<br>"
        f"<b style='white-space: nowrap'>{html.escape(DEMO_PASSWORD)}</b><br>Try: {names}."
    )


def _raise_if_schema_is_not_ours(db: Database, username: str, password: str) -> None:
    """After a failed server sign-in: was it because the server's schema is not this version's
    (no ``users`` table yet, say)? Then IT must hear that, not "password not right". Checked on
    one short connection as her; if she cannot connect, the original refusal stands."""
    from sqlalchemy.engine import make_url

    from medapp.bootstrap import check_schema
    from medapp.db.engine import open_database

    url = make_url(db.url).set(username=username, password=password)
    try:
        probe = open_database(url.render_as_string(hide_password=False), pool_size=1)
    except Exception:  # noqa: BLE001 - cannot connect as her: the sign-in's answer stands
        return
    try:
        check_schema(probe)  # raises DatabaseUnavailable with the sentence for IT
    finally:
        probe.dispose()


def make_gate(db: Database, *, demo: bool = False) -> Gatekeeper:
    """The accounts service for the window: sign-in, unlock and the first account.

    On a district server the sign-in is a connection as the nurse; the schema is checked on her
    connection (the desk itself has none before)."""
    from medapp.bootstrap import check_schema
    from medapp.services import accounts, signin

    def sign_in(username: str, password: str) -> signin.SignedIn:
        try:
            signed = signin.sign_in(db, username, password)
        except DatabaseUnavailable:
            raise
        except Exception:
            if not db.embedded:  # e.g. no users table: say what IT must do, not what broke
                _raise_if_schema_is_not_ours(db, username, password)
            raise
        if not db.embedded:
            try:
                check_schema(signed.db)
            except BaseException:
                signed.close()
                raise
            # Connection budget: from now on she works on her own connection; the address's
            # pooled connection is given back (it reconnects by itself if ever used again).
            db.engine.dispose()
        return signed

    return Gatekeeper(
        sign_in=sign_in,
        verify=lambda username, password: signin.verify_password(db, username, password),
        needs_first_admin=lambda: accounts.needs_first_admin(db),
        create_first_admin=lambda username, first, last, password, school: (
            accounts.create_first_admin(
                db, username, password, first_name=first, last_name=last, school_name=school
            )
        ),
        demo_hint=demo_sign_in_hint(db) if demo else None,
    )


def run_gui(
    db: Database,
    *,
    demo: bool = False,
    started_at: float | None = None,
    sign_in_as: tuple[str, str] | None = None,
    instance: DeskInstance | None = None,
) -> int:
    """Open the desk on ``db`` and run until the window closes (the ``medapp`` command).

    ``db`` is the database the app opened (the private server's, or the district server's
    address); every nurse then works on her own connection, made by the sign-in. ``instance``
    (the one desk of this user and folder) brings the window to the front on a second start."""
    started_at = started_at if started_at is not None else time.perf_counter()
    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache
    from medapp.runtime.context import AppContext
    from medapp.ui.main_window import MainWindow
    from medapp.ui.startup import bring_to_front, quit_on_signals

    app = make_app()
    # The demo keeps its own cache and outbox: a demo dose must never be sent to the real server.
    suffix = "-demo" if demo else ""
    ctx = AppContext(
        db=db,
        cache=Cache(paths.cache_dir() / f"diskcache{suffix}"),
        outbox=Outbox(paths.data_dir() / f"outbox{suffix}"),
    )
    window = MainWindow(
        ctx, demo=demo, started_at=started_at, gate=make_gate(db, demo=demo), sign_in_as=sign_in_as
    )
    window.show()
    if instance is not None:
        instance.raise_requested.connect(lambda: bring_to_front(window))
    restore_signals = quit_on_signals(app)  # SIGTERM/SIGINT/SIGHUP: the normal shutdown below
    log.info("desk window shown")
    jobs = _start_jobs(ctx, window)
    # Start-up objects (Qt wrappers, formulary vocabulary, caches) live as long as the app:
    # move them out of the collector's generations so full collections stay short.
    gc.collect()
    gc.freeze()
    try:
        return app.exec()
    finally:
        restore_signals()
        jobs.stop()
        ctx.stop()
        ctx.cache.close()
        if ctx.db is not db:
            ctx.db.dispose()
        db.dispose()
