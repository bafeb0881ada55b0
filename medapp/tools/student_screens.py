"""Pictures of the student's page, for the README and for reviewing it.

    python -m medapp.tools.student_screens --database-url URL [--out docs/screens]

``URL`` names a database holding the school demo (``medapp demo --scale school``). The first
nurse of the first school stands at 10:05 on the next school day, opens the page of a student
with an as-needed order, a condition and an emergency contact, gives one PRN dose with its
complaint ("Give PRN…", grabbed as ``dialog-give-prn.png``) and grabs the page
(``student-page.png``, Today tab). This writes that one dose into the demo database.
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


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m medapp.tools.student_screens", description=__doc__)
    p.add_argument("--database-url", required=True)
    p.add_argument("--out", default="docs/screens")
    return p.parse_args(argv)


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


def _save(widget: Any, path: Path) -> None:
    end = time.monotonic() + 0.3
    _wait(lambda: time.monotonic() >= end)
    if not widget.grab().save(str(path), "PNG", 9):
        raise RuntimeError(f"could not write {path}")
    print(f"  {path}")


def _student(db: Any, school_id: Any) -> Any:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from medapp.db.models import (
        EmergencyContact,
        Medication,
        MedicationInventory,
        Student,
        StudentCondition,
        StudentMedication,
    )

    with Session(db.engine) as s:
        prn = (
            select(StudentMedication.student_id)
            .join(Medication, Medication.id == StudentMedication.medication_id)
            .where(
                StudentMedication.is_prn,
                StudentMedication.is_active,
                Medication.name.contains("HFA"),  # an inhaler: "wheezing after recess"
            )
            .scalar_subquery()
        )
        orders = (
            select(func.count())
            .where(StudentMedication.student_id == Student.id)
            .correlate(Student)
            .scalar_subquery()
        )
        supply = (
            select(func.count())
            .where(MedicationInventory.student_id == Student.id)
            .correlate(Student)
            .scalar_subquery()
        )
        return s.scalars(
            select(Student.id)
            .where(
                Student.school_id == school_id,
                Student.id.in_(prn),
                Student.id.in_(select(StudentCondition.student_id)),
                Student.id.in_(select(EmergencyContact.student_id)),
            )
            .order_by(supply.desc(), orders.desc(), Student.last_name)
        ).first()


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = Path(tempfile.mkdtemp(prefix="medapp-student-screens-"))
    os.environ["MEDAPP_CACHE_DIR"] = str(scratch / "cache")

    from medapp.bootstrap import connect
    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache
    from medapp.config import resolve_settings
    from medapp.runtime.context import AppContext
    from medapp.services.desk import auditor_desk
    from medapp.services.people import desk_users, list_schools
    from medapp.tools.screens import _desk_clock
    from medapp.ui.app import make_app
    from medapp.ui.panes.student_page import GivePrnDialog, StudentPageDialog

    app = make_app(theme="light")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = connect(resolve_settings(args.database_url), demo=False, schema="upgrade")
    reader = auditor_desk(db.sessions)
    school = list_schools(reader)[0]
    nurse = desk_users(reader, school.id)[0]
    ctx = AppContext(
        db=db,
        cache=Cache(scratch / "cache"),
        outbox=Outbox(scratch / "outbox"),
        school_id=school.id,
        school_name=school.name,
        school_timezone=school.timezone,
        user_id=nurse.id,
        user_name=nurse.display_name,
    )
    moment = _desk_clock(db, school.id) - dt.timedelta(hours=1, minutes=45)  # 10:05
    ctx.clock = lambda: moment
    student_id = _student(db, school.id)
    if student_id is None:
        print("no demo student with an as-needed order, a condition and a contact", file=sys.stderr)
        return 1
    page = StudentPageDialog(ctx, student_id)
    page.resize(1000, 700)
    page.show()
    try:
        if not _wait(lambda: page.page is not None, 30):
            raise RuntimeError("the student's page did not load within 30 s")
        give = page.open_give_prn()
        if isinstance(give, GivePrnDialog):
            inhaler = next(o for o in give.orders if "HFA" in o.medication_name)
            give.select_order(inhaler.id)
            give.complaint.setText("wheezing after recess")
            give.note.setText("Breathing easier after 10 min")
            _save(give, out / "dialog-give-prn.png")
            loaded = page.page
            give.give()
            _wait(lambda: page.page is not loaded, 30)
        page.tabs.setCurrentIndex(1)  # Today
        _save(page, out / "student-page.png")
    finally:
        page.close()
        ctx.stop()
        ctx.cache.close()
        app.processEvents()
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
