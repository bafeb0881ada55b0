"""Screenshots of the desk on school demo data, for the README and for reviewing the look.

    python -m medapp.tools.screens [--database-url URL] [--out docs/screens] [--scale 1.5]

Without a URL the private demo database is used (``medapp --demo``'s), filled with the school
demo on first use; a URL names a database that already holds it (or an empty one to fill).
The window opens offscreen at 1280 × 800 with the first nurse of the first school signed in (a
real sign-in with the demo password, on her own connection) and the desk clock at 11:50 on the next school day (so today's doses are due); it waits for
every pane's data and saves ``main-window.png``, one PNG per pane (search with "albut" typed
and a result selected, schedule, reminders, inventory), the dialogs, the dose dialog in its
"given" and "already given" states, the correction dialog, the reaction dialog with a
parent-given medication, the sign-in dialog, the locked desk, the history of an order (signed
in as the demo's lead nurse), and the main window in the dark palette. Nothing is written to the
user's settings or cache; the demo database gets one dose and its correction per run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1280, 800


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m medapp.tools.screens", description=__doc__)
    p.add_argument("--database-url", help="a database holding the school demo (or empty)")
    p.add_argument("--out", default="docs/screens", help="folder for the PNG files")
    p.add_argument("--scale", type=float, default=1.0, help="screen scaling (1.25, 1.5 …)")
    p.add_argument("--suffix", default="", help="added to every file name (e.g. -150)")
    return p.parse_args(argv)


def _database(url: str | None) -> Any:
    from sqlalchemy import text

    from medapp.bootstrap import connect
    from medapp.cli import _load_demo
    from medapp.config import resolve_settings

    settings = resolve_settings(url)
    db = connect(settings, demo=url is None, schema="upgrade")
    with db.engine.connect() as conn:
        empty = not conn.execute(text("SELECT EXISTS (SELECT 1 FROM students)")).scalar()
    if empty:
        _load_demo(db, "school", 1, say=lambda m: print(m, file=sys.stderr))
    return db


def _desk_clock(db: Any, school_id: Any) -> dt.datetime:
    """11:50 school time on the next school day (today if it is one)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from medapp.db.mapping import calendar_from_row
    from medapp.db.models import School, SchoolClosure

    with Session(db.engine) as s:
        school = s.get(School, school_id)
        closures = s.scalars(
            select(SchoolClosure.closed_on).where(SchoolClosure.school_id == school_id)
        ).all()
        calendar = calendar_from_row(school, closures)
    day = dt.date.today()
    while not calendar.is_school_day(day):
        day += dt.timedelta(days=1)
    return calendar.at(day, dt.time(11, 50)).astimezone(dt.UTC)


def _wait(predicate: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return True


def _settle(ms: int = 250) -> None:
    end = time.monotonic() + ms / 1000
    _wait(lambda: time.monotonic() >= end, ms / 1000 + 1)


def _save(widget: Any, path: Path) -> Path:
    _settle()
    pixmap = widget.grab()
    if not pixmap.save(str(path), "PNG", 9):
        raise RuntimeError(f"could not write {path}")
    print(f"  {path}  ({path.stat().st_size // 1024} KB)")
    return path


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    scratch = Path(tempfile.mkdtemp(prefix="medapp-screens-"))
    os.environ["MEDAPP_CACHE_DIR"] = str(scratch / "cache")  # never the user's own cache

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache
    from medapp.db.engine import Database
    from medapp.demo.accounts import DEMO_PASSWORD, enable_demo_sign_in
    from medapp.runtime.context import AppContext
    from medapp.services.desk import auditor_desk
    from medapp.services.inventory_admin import LotRow
    from medapp.services.people import desk_users, list_schools
    from medapp.ui.app import make_app, make_gate
    from medapp.ui.main_window import MainWindow
    from medapp.ui.widgets.theme import apply_theme

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings")
    )
    app = make_app(theme="light")
    app.setOrganizationName("medapp-screens")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sfx = args.suffix

    db = _database(args.database_url)
    reader = auditor_desk(db.sessions)  # the tool reads as the database's owner
    school = list_schools(reader)[0]
    nurse = desk_users(reader, school.id)[0]
    # The demo database as a PC's private one: argon2 passwords, each connection takes her role.
    private = Database(engine=db.engine, sessions=db.sessions, url=db.url, embedded=True)
    with db.engine.begin() as conn:
        enable_demo_sign_in(conn, create_roles=True)
    ctx = AppContext(db=private, cache=Cache(scratch / "cache"), outbox=Outbox(scratch / "outbox"))
    moment = _desk_clock(db, school.id)
    ctx.clock = lambda: moment
    gate = make_gate(private, demo=True)
    window = MainWindow(
        ctx, exit_when_ready=False, gate=gate, sign_in_as=(nurse.username, DEMO_PASSWORD)
    )
    window.resize(WIDTH, HEIGHT)
    window.show()
    try:
        if not _wait(lambda: window.is_ready, 60):
            raise RuntimeError("the window did not load its data within 60 s")
        print(f"Screens of {db.display_name} → {out}/")

        # Search: "albut" typed, Ventolin HFA selected (it has a lot on the shelf)
        window.show_pane(0)
        search = window.search_pane
        assert search is not None
        search.set_query("albut")
        _wait(lambda: search.proxy.rowCount() > 0)
        names = [search.model.hits[r].name for r in range(search.model.rowCount())]
        target = names.index("Ventolin HFA") if "Ventolin HFA" in names else 0
        search.select_medication(search.model.hits[target].id)
        _wait(
            lambda: (
                search.details.lots_view.isVisible()
                or "No lots" in search.details.stock_summary.text()
            )
        )
        search.view.setFocus()
        _save(window, out / f"search{sfx}.png")

        window.show_pane(1)
        schedule = window.schedule_pane
        _wait(lambda: getattr(schedule, "view_data", None) is not None)
        _save(window, out / f"schedule{sfx}.png")

        window.show_pane(2)
        reminders: Any = window.reminders_pane
        _wait(lambda: getattr(reminders, "reminders", None) is not None)
        _save(window, out / f"reminders{sfx}.png")
        _save(window, out / f"main-window{sfx}.png")

        window.show_pane(3)
        inventory = window.inventory_pane
        assert inventory is not None
        _wait(lambda: inventory.overview is not None)
        _save(window, out / f"inventory{sfx}.png")

        # Dialogs of this part
        lot: LotRow = next(
            (r for r in inventory.model.lots if r.is_controlled and r.alerts),
            inventory.model.lots[0],
        )
        inventory.select_lot(lot.id)
        inventory.adjust_selected()
        dialog = inventory.dialog
        assert dialog is not None
        _wait(lambda: dialog.witness_combo.isEnabled() or not lot.is_controlled)  # type: ignore[attr-defined]
        dialog.count_spin.setValue(max(0, lot.quantity - 1))  # type: ignore[attr-defined]
        if dialog.witness_combo.count() > 1:  # type: ignore[attr-defined]
            dialog.witness_combo.setCurrentIndex(1)  # type: ignore[attr-defined]
        dialog.witness_password.setText("x" * 12)  # type: ignore[attr-defined]
        _save(dialog, out / f"dialog-adjust-stock{sfx}.png")
        dialog.reject()  # type: ignore[attr-defined]

        window.show_pane(0)
        search.add_medication()
        add = search.dialog
        assert add is not None
        add.name_edit.setText("Children's Cetirizine Syrup")  # type: ignore[attr-defined]
        add.form_combo.setEditText("Syrup")  # type: ignore[attr-defined]
        add.strength_edit.setText("5 mg/5 mL")  # type: ignore[attr-defined]
        add.ndc_edit.setText("12345678")  # type: ignore[attr-defined]
        add.save()  # type: ignore[attr-defined]
        _wait(lambda: add.errors.any_shown())  # type: ignore[attr-defined]
        _save(add, out / f"dialog-add-medication{sfx}.png")
        add.reject()  # type: ignore[attr-defined]

        window.show_pane(2)
        item = _first_due(reminders)
        if item is not None:
            dose = reminders.open_dose(item)
            if dose is not None:
                _wait(lambda: getattr(dose, "sheet", None) is not None)
                dose.resize(1024, 700)  # the smallest window the dialog is made for
                _save(dose, out / f"dialog-dose{sfx}.png")
                dose.reject()
                _wait(lambda: reminders.dose_dialog is None)
        recorded = _dose_states(reminders, out, sfx)

        # Locked after the idle time: nothing of the records shows
        window.lock()
        _settle()
        _save(window, out / f"locked{sfx}.png")
        # Someone else takes the desk: the sign-in (the demo lists its accounts)
        window.sign_in()
        picker: Any = window.sign_in_dialog
        assert picker is not None
        picker.user_edit.setText("lead.okafor")
        picker.password_edit.setFocus()
        _settle()
        _save(picker, out / f"dialog-sign-in{sfx}.png")
        picker.password_edit.setText(DEMO_PASSWORD)
        picker.submit()
        _wait(lambda: ctx.actor is not None and ctx.actor.username == "lead.okafor")
        _wait(lambda: not window.locked)
        window.show_pane(2)
        _wait(lambda: getattr(reminders, "reminders", None) is not None)
        if recorded is not None:
            _history(reminders, recorded, out, sfx)

        _setup_dialog(out, sfx)

        # The dark palette
        apply_theme(app, "dark")
        window._refresh_icons()
        window.show_pane(3)
        _save(window, out / f"inventory-dark{sfx}.png")
        window.show_pane(0)
        _save(window, out / f"search-dark{sfx}.png")
        window.show_pane(2)
        _save(window, out / f"main-window-dark{sfx}.png")
        apply_theme(app, "light")
    finally:
        window.close()
        ctx.stop()
        ctx.cache.close()
        QApplication.processEvents()
        db.dispose()
    return 0


def _setup_dialog(out: Path, sfx: str) -> None:
    """The first-start question (no settings yet): the district server being filled in."""
    from medapp.ui.dialogs.setup_dialog import SetupDialog

    dialog = SetupDialog()
    dialog.district.setChecked(True)
    dialog.host_edit.setText("db.district.example")
    dialog.show()
    _save(dialog, out / f"setup-dialog{sfx}.png")
    dialog.close()


def _history(reminders: Any, item: Any, out: Path, sfx: str) -> None:
    """Order history… of the dose recorded and corrected above (the lead nurse's menu)."""
    from medapp.ui.dialogs.history_dialog import HistoryDialog

    menu = reminders.menu_for(item)
    action = next((a for a in menu.actions() if a.objectName() == "menuOrderHistory"), None)
    if action is None:
        return
    action.trigger()
    dialog = reminders.findChild(HistoryDialog)
    if dialog is None:
        return
    _wait(lambda: dialog.model.rowCount() > 0 or dialog.banner.isVisible())
    _settle()
    _save(dialog, out / f"dialog-history{sfx}.png")
    dialog.close()


def _dose_states(reminders: Any, out: Path, sfx: str) -> Any:
    """The dose dialog of a controlled substance: "given" (ready to record), "already given"
    (reopened after recording: who and when, Correct…), then the correction dialog with both
    records (the original struck through) and a reaction to a medication the parent gave.

    This records one dose and its correction in the demo database (nothing else is written).
    """
    from medapp.services.corrections import CorrectionKind

    item = _first_due(reminders, controlled=True, unrecorded=True)
    if item is None:
        print("  (no unrecorded controlled dose today: dose-state screens skipped)")
        return
    dose = reminders.open_dose(item)
    _wait(lambda: dose.sheet is not None and dose.preview is not None)
    dose.resize(1024, 700)
    _save(dose, out / f"dialog-dose-given{sfx}.png")
    dose.record()
    _wait(lambda: reminders.dose_dialog is None, 30)
    _settle()

    again = reminders.open_dose(item)
    _wait(lambda: again.sheet is not None and again.already_box.isVisible())
    again.resize(1024, 700)
    _save(again, out / f"dialog-dose-already-given{sfx}.png")

    again.already_correct.click()
    correction = again.correction_dialog
    _wait(lambda: correction.detail is not None)
    correction.select_kind(CorrectionKind.ENTERED_IN_ERROR)
    correction.reason_edit.setText("Recorded for the wrong student; this student was absent.")
    correction.record()
    _wait(lambda: correction.result_ is not None and len(correction.history) >= 2, 30)
    correction.resize(960, 640)
    _save(correction, out / f"dialog-correction{sfx}.png")
    correction.reject()
    _wait(lambda: again.correction_dialog is None)
    again.reject()
    _wait(lambda: reminders.dose_dialog is None)

    reaction = reminders.report_reaction(item)
    _wait(lambda: reaction.sheet is not None)
    reaction.choose_other("amoxicillin")
    _wait(lambda: reaction.search_model.rowCount() > 0)
    reaction.choose_result(reaction.search_model.choice_at(0).id)
    reaction.severity.setCurrentIndex(reaction.severity.findData("MODERATE"))
    reaction.reaction.setText("Hives on the arms and chest since this morning")
    reaction.action.setPlainText("Parent called; antihistamine per standing order")
    _save(reaction, out / f"dialog-reaction{sfx}.png")
    reaction.reject()
    return item


def _first_due(pane: Any, *, controlled: bool = False, unrecorded: bool = False) -> Any:
    model = pane.model
    for s in range(model.rowCount()):
        section = model.index(s, 0)
        for r in range(model.rowCount(section)):
            item = model.item_at(model.index(r, 0, section))
            if item is None or (controlled and not item.rx.is_controlled):
                continue
            if unrecorded and item.log_id is not None:
                continue
            return item
    return None


if __name__ == "__main__":
    raise SystemExit(main())
