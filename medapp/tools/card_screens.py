"""Pictures of the due-dose cards and of the desk at its smallest size (issue 14).

    python -m medapp.tools.card_screens [--database-url URL] [--out docs/screens]

Like :mod:`medapp.tools.screens` (same demo database, sign-in and 11:50 desk clock, nothing
written to the user's settings or cache): ``notification-card.png`` is the window at 1280 × 800
with the cards of the doses due at 11:50 (as the dose job reports them), and
``window-1024x700.png`` the window at 1024 × 700 on the Reminders pane, the cards over it.
Nothing is recorded in the database.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from medapp.tools.screens import HEIGHT, WIDTH, _database, _desk_clock, _save, _settle, _wait


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m medapp.tools.card_screens", description=__doc__)
    p.add_argument("--database-url", help="a database holding the school demo (or empty)")
    p.add_argument("--out", default="docs/screens", help="folder for the PNG files")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = Path(tempfile.mkdtemp(prefix="medapp-card-screens-"))
    os.environ["MEDAPP_CACHE_DIR"] = str(scratch / "cache")

    from PySide6.QtCore import QSettings

    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache
    from medapp.db.engine import Database
    from medapp.demo.accounts import DEMO_PASSWORD, enable_demo_sign_in
    from medapp.jobs.watchers import open_doses
    from medapp.runtime.context import AppContext
    from medapp.services.desk import auditor_desk
    from medapp.services.people import desk_users, list_schools
    from medapp.ui.app import make_app, make_gate
    from medapp.ui.main_window import MainWindow
    from medapp.ui.widgets.due_cards import SOUND_SETTING

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings")
    )
    app = make_app(theme="light")
    app.setOrganizationName("medapp-screens")
    QSettings().setValue(SOUND_SETTING, False)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    db = _database(args.database_url)
    reader = auditor_desk(db.sessions)
    school = list_schools(reader)[0]
    nurse = desk_users(reader, school.id)[0]
    private = Database(engine=db.engine, sessions=db.sessions, url=db.url, embedded=True)
    with db.engine.begin() as conn:
        enable_demo_sign_in(conn, create_roles=True)
    ctx = AppContext(db=private, cache=Cache(scratch / "cache"), outbox=Outbox(scratch / "outbox"))
    moment = _desk_clock(db, school.id)
    ctx.clock = lambda: moment
    window = MainWindow(
        ctx,
        exit_when_ready=False,
        gate=make_gate(private, demo=True),
        sign_in_as=(nurse.username, DEMO_PASSWORD),
    )
    window.resize(WIDTH, HEIGHT)
    window.show()
    try:
        if not _wait(lambda: window.is_ready, 60):
            raise RuntimeError("the window did not load its data within 60 s")
        window.show_pane(2)
        reminders: Any = window.reminders_pane
        _wait(lambda: getattr(reminders, "reminders", None) is not None)
        doses = open_doses(reminders.reminders)
        window.show_due_doses(doses, None)
        _settle()
        _save(window, out / "notification-card.png")
        window.resize(1024, 700)
        _settle(500)
        size = window.size()
        print(f"  window {size.width()} × {size.height()} (asked 1024 × 700)")
        _save(window, out / "window-1024x700.png")
    finally:
        window.close()
        ctx.stop()
        db.dispose()
        app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
