"""The desk at 1024 × 700 (issue 14), with the app's own font size and stylesheet: the window
really takes that size (nothing holds it wider), the key columns of each list are on screen
without scrolling sideways, and Down from a pane's filter box moves into its list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from medapp.runtime.context import AppContext
from medapp.ui.app import MIN_POINT_SIZE
from medapp.ui.main_window import MainWindow
from medapp.ui.models import inventory_model, reminders_model, schedule_model
from medapp.ui.panes.inventory_pane import InventoryPane
from medapp.ui.panes.reminders_pane import RemindersPane
from medapp.ui.panes.schedule_pane import SchedulePane
from medapp.ui.widgets.theme import apply_theme
from tests.ui.test_dose_dialog import lunchtime_on_a_school_day

W, H = 1024, 700


@pytest.fixture
def app_look(qapp: QApplication) -> Iterator[None]:  # noqa: ANN001
    """The running app's font floor and stylesheet (they decide the minimum widths)."""
    font, sheet = qapp.font(), qapp.styleSheet()
    bigger = qapp.font()
    bigger.setPointSizeF(max(bigger.pointSizeF(), MIN_POINT_SIZE))
    qapp.setFont(bigger)
    apply_theme(qapp, "light")
    QSettings().clear()
    yield
    qapp.setFont(font)
    qapp.setStyleSheet(sheet)
    QSettings().clear()


def widest(window: QWidget) -> str:
    """For a failure message: the widgets with the widest minimum."""
    rows = []
    for w in window.findChildren(QWidget):
        if not w.isWindow():
            width = max(w.minimumSizeHint().width(), w.minimumWidth())
            rows.append((width, f"{type(w).__name__}#{w.objectName()}"))
    return ", ".join(f"{n} {w}px" for w, n in sorted(rows, reverse=True)[:8])


def fully_visible(view: QAbstractItemView, column: int) -> bool:
    header = view.header() if hasattr(view, "header") else view.horizontalHeader()  # type: ignore[attr-defined]
    left = header.sectionViewportPosition(column)
    return left >= 0 and left + header.sectionSize(column) <= view.viewport().width()


def test_the_desk_fits_1024_by_700(qtbot, desk_ctx: AppContext, app_look: None) -> None:  # noqa: ANN001
    lunchtime_on_a_school_day(desk_ctx)
    window = MainWindow(desk_ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)
    window.resize(W, H)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (W, H), timeout=3000)
    hint = window.minimumSizeHint()
    assert hint.width() <= W and hint.height() <= H, widest(window)
    for index, pane in enumerate(window.panes):
        window.show_pane(index)
        QApplication.processEvents()
        assert (window.width(), window.height()) == (W, H)
        assert pane.width() >= pane.minimumSizeHint().width(), type(pane).__name__

    reminders = window.reminders_pane
    assert isinstance(reminders, RemindersPane)
    window.show_pane(2)
    qtbot.waitUntil(lambda: reminders.view.viewport().width() > 0)
    QApplication.processEvents()
    for column in (
        reminders_model.COL_TIME,
        reminders_model.COL_STUDENT,
        reminders_model.COL_STATUS,
    ):
        assert fully_visible(reminders.view, column), column
    assert not reminders.view.horizontalScrollBar().isVisible()

    schedule = window.schedule_pane
    assert isinstance(schedule, SchedulePane)
    window.show_pane(1)
    QApplication.processEvents()
    for column in (schedule_model.COL_STUDENT, schedule_model.COL_MED):
        assert fully_visible(schedule.table, column), column

    inventory = window.inventory_pane
    assert isinstance(inventory, InventoryPane)
    window.show_pane(3)
    QApplication.processEvents()
    for column in (inventory_model.COL_MEDICATION, inventory_model.COL_QUANTITY):
        assert fully_visible(inventory.view, column), column


def test_down_from_the_filter_moves_into_the_list(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    lunchtime_on_a_school_day(desk_ctx)
    pane = RemindersPane(desk_ctx)
    qtbot.addWidget(pane)
    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        pane.show()
    pane.filter_edit.setFocus()
    qtbot.waitUntil(pane.filter_edit.hasFocus)
    qtbot.keyClick(pane.filter_edit, Qt.Key.Key_Down)
    assert pane.view.hasFocus()
    item = pane.selected_item()
    assert item is not None  # the first dose, not the section heading
    first_section = pane.model.index(0, 0)
    assert pane.view.currentIndex() == pane.model.index(0, 0, first_section)
