"""End of day… (issue 14): the day's summary in the app, closing the day from it, its report
as a PDF; the desk job that closes past days at start and today after the last window."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medapp.cache.outbox import Outbox
from medapp.cache.store import Cache
from medapp.db.models import MedicationLog, School, User
from medapp.jobs.end_of_day import EndOfDayJob
from medapp.runtime.context import AppContext
from medapp.ui.dialogs.end_of_day import EndOfDayDialog

NY = ZoneInfo("America/New_York")


@pytest.fixture
def ctx(ui_db, tmp_path) -> Iterator[AppContext]:  # noqa: ANN001
    with Session(ui_db.engine) as s:
        school = s.scalars(select(School)).one()
        nurse = s.scalars(select(User)).one()
        context = AppContext(
            db=ui_db,
            cache=Cache(tmp_path / "cache"),
            outbox=Outbox(tmp_path / "outbox"),
            school_id=school.id,
            school_name=school.name,
            school_timezone=school.timezone,
            user_id=nurse.id,
            user_name=f"{nurse.first_name} {nurse.last_name}",
            clock=lambda: dt.datetime(2026, 11, 2, 14, 0, tzinfo=NY),
        )
    yield context
    context.stop()
    context.cache.close()


def missed_count(ctx: AppContext) -> int:
    with Session(ctx.db.engine) as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(MedicationLog)
                .where(MedicationLog.status == "MISSED")
            )
            or 0
        )


def test_the_nurse_sees_her_day_closes_it_and_saves_its_report(qtbot, ctx, tmp_path: Path) -> None:  # noqa: ANN001
    dialog = EndOfDayDialog(ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    assert "missed 1" in dialog.counts.text()
    assert dialog.model.rowCount() == 1
    assert dialog.close_day_button.isEnabled()
    assert "close it" in dialog.state.text()

    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.close_day_button.click()
    assert missed_count(ctx) == 1
    assert "closed" in dialog.state.text() and not dialog.close_day_button.isEnabled()

    out = dialog.save_pdf(tmp_path / "day.pdf")
    words = " ".join(
        unicodedata.normalize("NFKC", PdfReader(str(out)).pages[0].extract_text()).split()
    )
    assert "End-of-day report" in words and "Missed" in words


def test_the_job_closes_the_past_days_once(ctx) -> None:  # noqa: ANN001
    ctx.clock = lambda: dt.datetime(2026, 11, 4, 13, 0, tzinfo=NY)  # before today's close
    job = EndOfDayJob(ctx, lookback_days=3)
    closed = job.run()
    # Sunday 1 Nov has no school; Mon 2 and Tue 3 close, Wed 4 is still open at 13:00.
    assert closed == [(dt.date(2026, 11, 2), 1), (dt.date(2026, 11, 3), 1)]
    assert job.run() == []
    ctx.clock = lambda: dt.datetime(2026, 11, 4, 13, 31, tzinfo=NY)
    assert job.run() == [(dt.date(2026, 11, 4), 1)]
    assert EndOfDayJob(ctx, lookback_days=3).run() == []  # a second desk adds nothing
    assert missed_count(ctx) == 3


def test_the_menu_opens_the_day_and_ctrl_p_is_print(qtbot, ctx) -> None:  # noqa: ANN001
    from PySide6.QtGui import QAction, QKeySequence

    from medapp.ui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.is_ready, timeout=15_000)
    print_action = window.findChild(QAction, "printAction")
    assert print_action is not None
    assert print_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Print)
    window.findChild(QAction, "endOfDayAction").trigger()
    dialog = window.findChild(EndOfDayDialog, "endOfDayDialog")
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.summary is not None, timeout=10_000)
    assert dialog.summary.counts.missed == 1
    dialog.close()
