"""Pictures of the printed records, for the README and for reviewing them.

    python -m medapp.tools.report_screens --database-url URL [--out docs/screens]

``URL`` names a database holding the school demo (``medapp demo --scale school``). Writes
``mar.pdf``'s first page as ``mar.png`` (rendered from the PDF by ``pdftoppm`` from
poppler-utils), ``end-of-day.png`` (the End of day… dialog of the last school day, grabbed) and
``end-of-day-report.png`` (its PDF's first page). The demo database is only read; the PDFs are
written to a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m medapp.tools.report_screens", description=__doc__)
    p.add_argument("--database-url", required=True)
    p.add_argument("--out", default="docs/screens")
    return p.parse_args(argv)


def _page_png(pdf: Path, png: Path, dpi: int = 80) -> None:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm (poppler-utils) is needed to render the PDF pages.")
    stem = png.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(stem),
        ],
        check=True,
    )


def _last_school_day(cal: Any, today: dt.date) -> dt.date:
    day = today - dt.timedelta(days=1)
    while not cal.is_school_day(day):
        day -= dt.timedelta(days=1)
    return day


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from medapp.bootstrap import connect
    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache
    from medapp.config import resolve_settings
    from medapp.db.mapping import calendar_from_row
    from medapp.db.models import MedicationLog, School, Student, StudentMedication, User
    from medapp.reports.html import day_report_html, mar_html
    from medapp.reports.pdf import write_pdf
    from medapp.runtime.context import AppContext
    from medapp.services.desk import Actor, Desk, Role
    from medapp.services.end_of_day import end_of_day_summary
    from medapp.services.reports import monthly_mar
    from medapp.ui.dialogs.end_of_day import EndOfDayDialog

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = connect(resolve_settings(args.database_url), schema="upgrade")
    with Session(db.engine) as s:
        school = s.scalars(select(School).order_by(School.name)).first()
        if school is None:
            raise SystemExit("No demo school in that database.")
        nurse = s.scalars(
            select(User)
            .where(User.role == "NURSE")
            .where(User.school_id == school.id)
            .order_by(User.username)
        ).first()
        if nurse is None:
            raise SystemExit("No demo school with a nurse in that database.")
        cal = calendar_from_row(school)
        today = dt.datetime.now(cal.tz).date()
        month_start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        # the student with the most scheduled school doses recorded last month
        number = s.execute(
            select(Student.student_number)
            .join(StudentMedication, StudentMedication.student_id == Student.id)
            .join(MedicationLog, MedicationLog.student_medication_id == StudentMedication.id)
            .where(
                Student.school_id == school.id,
                MedicationLog.scheduled_for.is_not(None),
                MedicationLog.time_given >= dt.datetime.combine(month_start, dt.time(), cal.tz),
            )
            .group_by(Student.student_number)
            .order_by(func.count().desc(), Student.student_number)
            .limit(1)
        ).scalar_one()
        latest = s.scalar(
            select(func.max(MedicationLog.time_given))
            .join(StudentMedication, StudentMedication.id == MedicationLog.student_medication_id)
            .join(Student, Student.id == StudentMedication.student_id)
            .where(Student.school_id == school.id)
        )
        last_day = latest.astimezone(cal.tz).date() if latest else _last_school_day(cal, today)
        actor = Actor(
            nurse.id,
            nurse.username,
            nurse.first_name,
            nurse.last_name,
            Role.NURSE,
            frozenset({school.id}),
        )
    desk = Desk(db.sessions, actor)
    with tempfile.TemporaryDirectory() as tmp:
        mar = monthly_mar(desk, number, month_start.year, month_start.month)
        pdf = write_pdf(mar_html(mar), Path(tmp) / "mar.pdf", title="MAR", landscape=True)
        _page_png(pdf, out / "mar.png")

        day = last_day
        summary = end_of_day_summary(desk, school.id, day)
        pdf = write_pdf(day_report_html(summary), Path(tmp) / "day.pdf", title="Day")
        _page_png(pdf, out / "end-of-day-report.png")

        ctx = AppContext(
            db=db,
            cache=Cache(Path(tmp) / "cache"),
            outbox=Outbox(Path(tmp) / "outbox"),
            school_id=school.id,
            school_name=school.name,
            school_timezone=school.timezone,
            user_id=actor.user_id,
            user_name=actor.display_name,
            actor=actor,
        )
        dialog = EndOfDayDialog(ctx, day=day)
        dialog.resize(1000, 620)
        loaded: list[bool] = []
        dialog.loaded.connect(lambda: loaded.append(True))
        dialog.show()
        while not loaded:
            app.processEvents()
        app.processEvents()
        dialog.grab().save(str(out / "end-of-day.png"), "PNG", 9)
        dialog.close()
        ctx.cache.close()
    db.dispose()
    print(f"wrote {out / 'mar.png'}, {out / 'end-of-day.png'}, {out / 'end-of-day-report.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
