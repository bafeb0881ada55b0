"""The desk window on the committed school demo: four panes in order, the status bar (who,
school, database, online, last refresh), keyboard switching, remembered geometry and pane,
notifications, offline state — and the GUI thread never waiting on the database. Signing in,
locking and switching user are in ``test_desk_sign_in.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from medapp.cache.outbox import Outbox
from medapp.cache.store import Cache
from medapp.db.engine import Database
from medapp.runtime.context import AppContext
from medapp.ui.main_window import MainWindow
from medapp.ui.panes.inventory_pane import InventoryPane
from medapp.ui.panes.reminders_pane import RemindersPane
from medapp.ui.panes.schedule_pane import SchedulePane
from medapp.ui.panes.search_pane import SearchPane


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test starts with nobody remembered and no saved geometry (temporary INI file)."""
    QSettings().clear()
    yield
    QSettings().clear()


@pytest.fixture
def blank_ctx(demo_db: Database, tmp_path: Path) -> Iterator[AppContext]:
    """An AppContext as ``run_gui`` builds it: nobody at the desk yet."""
    ctx = AppContext(db=demo_db, cache=Cache(tmp_path / "cache"), outbox=Outbox(tmp_path / "out"))
    yield ctx
    ctx.stop()
    ctx.cache.close()


def open_window(qtbot, ctx: AppContext, **kw: object) -> MainWindow:  # noqa: ANN001
    window = MainWindow(ctx, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.show()
    return window


def test_four_panes_and_the_status_bar(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    window = open_window(qtbot, desk_ctx)
    qtbot.waitUntil(lambda: window.is_ready, timeout=15_000)
    assert [type(p) for p in window.panes] == [
        SearchPane,
        SchedulePane,
        RemindersPane,
        InventoryPane,
    ]
    assert window.user_label.text() == desk_ctx.user_name
    assert window.school_label.text() == desk_ctx.school_name == "Riverside K-8 School"
    assert "/" in window.db_label.text()  # host:port/database of the server
    qtbot.waitUntil(lambda: window.state_label.text() == "Online", timeout=10_000)
    assert window.refreshed_label.text().startswith("Updated ")
    assert "Riverside K-8 School" in window.windowTitle()
    assert window.sign_in_dialog is None  # the ctx already says who is at the desk


def test_every_interactive_widget_has_an_object_name(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QHeaderView,
        QLineEdit,
        QWidget,
    )

    window = open_window(qtbot, desk_ctx)
    qtbot.waitUntil(lambda: window.is_ready, timeout=15_000)
    window.inventory_pane.select_lot(window.inventory_pane.model.lots[0].id)
    window.inventory_pane.adjust_selected()  # a dialog of this part, open
    others = (window.schedule_pane, window.reminders_pane)  # the other GUI engineer's panes

    def ancestors(widget: QWidget) -> list[QWidget]:
        chain, parent = [], widget.parentWidget()
        while parent is not None:
            chain.append(parent)
            parent = parent.parentWidget()
        return chain

    missing = []
    for kind in (QAbstractButton, QAbstractItemView, QComboBox, QLineEdit):
        for widget in window.findChildren(kind):
            chain = ancestors(widget)
            if any(o in chain for o in others) or widget.objectName().startswith("qt_"):
                continue
            if isinstance(widget, QHeaderView) or any(isinstance(a, QComboBox) for a in chain):
                continue  # a table's header, a combo box's own parts
            if isinstance(widget.parentWidget(), QLineEdit):
                continue  # the clear button / icon action inside a line edit
            if not widget.objectName():
                parent = widget.parentWidget()
                missing.append(
                    f"{type(widget).__name__} in {parent.objectName() if parent else ''}"
                )
    assert not missing, "\n".join(missing)


def test_keyboard_switches_panes_and_finds(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    window = open_window(qtbot, desk_ctx)
    qtbot.waitUntil(lambda: bool(window.panes), timeout=10_000)
    window.activateWindow()
    for i, key in enumerate((Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4)):
        qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)
        assert window.current_index() == i
        assert window.stack.currentWidget() is window.panes[i]
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.inventory_pane is not None
    qtbot.waitUntil(lambda: window.inventory_pane.filter_edit.hasFocus(), timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_pane is not None
    qtbot.waitUntil(lambda: window.search_pane.search_box.hasFocus(), timeout=3000)
    # the sidebar buttons do the same
    qtbot.mouseClick(window.nav_buttons[2], Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.reminders_pane


def test_size_position_and_pane_are_remembered(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    window = open_window(qtbot, desk_ctx)
    qtbot.waitUntil(lambda: bool(window.panes), timeout=10_000)
    window.resize(777, 666)  # inside the offscreen screen (800 x 800), above the minimum height
    size = window.size()
    window.show_pane(3)
    window.close()
    again = open_window(qtbot, desk_ctx)
    qtbot.waitUntil(lambda: bool(again.panes), timeout=10_000)
    assert again.current_index() == 3
    assert again.stack.currentWidget() is again.inventory_pane
    assert again.size() == size and size.height() == 666


def test_notifications_fall_back_to_the_status_bar(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QSystemTrayIcon

    window = open_window(qtbot, desk_ctx)
    window.show_notification("Dose due", "12:00 Student, A — Ritalin 10 mg")
    if not window.panes:  # before the desk is open nothing names a student
        assert window.last_notification == ("Dose due", "Sign in to see it.")
    qtbot.waitUntil(lambda: bool(window.panes), timeout=10_000)
    window.show_notification("Dose due", "12:00 Student, A — Ritalin 10 mg")
    assert window.last_notification == ("Dose due", "12:00 Student, A — Ritalin 10 mg")
    if not QSystemTrayIcon.isSystemTrayAvailable():  # offscreen: no tray
        assert "Dose due" in window.statusBar().currentMessage()


def test_offline_and_back_online(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    window = open_window(qtbot, desk_ctx)
    qtbot.waitUntil(lambda: window.state_label.text() == "Online", timeout=10_000)
    desk_ctx.hub.connection_changed.emit(False)  # a pane's query failed
    qtbot.waitUntil(lambda: window.state_label.text() == "Offline", timeout=5000)
    assert window.state_label.property("state") == "offline"
    assert window._probe.interval() == 15_000  # retries sooner while offline
    with qtbot.waitSignal(window.inventory_pane.refreshed, timeout=10_000):
        window.probe()  # the database answers: online, and every pane reloads
    assert window.state_label.text() == "Online"


def test_exit_when_ready_prints_the_marker(qtbot, desk_ctx: AppContext, capsys) -> None:  # noqa: ANN001
    app = QApplication.instance()
    assert app is not None
    keep = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    try:
        window = open_window(qtbot, desk_ctx, exit_when_ready=True)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
        assert capsys.readouterr().out.startswith("MEDAPP_READY ")
        assert QSettings().value("mainWindow/geometry") is None  # nothing saved in that mode
    finally:
        app.setQuitOnLastWindowClosed(keep)


def test_theme_switch(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    from medapp.ui.widgets.theme import current_theme

    app = QApplication.instance()
    window = open_window(qtbot, desk_ctx)
    try:
        window.set_theme("dark")
        assert current_theme() == "dark"
        assert app.palette().color(app.palette().ColorRole.Base).lightness() < 128
        assert QSettings().value("ui/theme") == "dark"
    finally:
        window.set_theme("light")
    assert current_theme() == "light"


def test_event_loop_keeps_running_while_the_database_is_slow(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    """The GUI thread never waits on the database: a 1.5 s query must not stop a 50 ms timer."""
    from sqlalchemy import text

    from medapp.ui.workers import run_in_background

    window = open_window(qtbot, desk_ctx)
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    results: list[object] = []

    def slow() -> int:
        with desk_ctx.db.engine.connect() as conn:
            return conn.execute(text("SELECT 42 FROM pg_sleep(1.5)")).scalar_one()

    run_in_background(window, slow, results.append)
    qtbot.waitUntil(lambda: results == [42], timeout=5000)
    timer.stop()
    assert len(ticks) >= 15, f"event loop stalled: only {len(ticks)} ticks in 1.5 s"


def test_a_slow_search_does_not_freeze_the_window(
    qtbot,  # noqa: ANN001
    desk_ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same through the real search pane: a search stuck in pg_sleep, the timer ticks on,
    the busy bar shows, and the answer still lands."""
    from sqlalchemy import text

    from medapp.ui.panes import search_pane as search_module

    real = search_module.search_formulary

    def slow_search(desk, holder, query, **kw):  # noqa: ANN001, ANN202
        with desk.sessions() as s:
            s.execute(text("SELECT pg_sleep(1.0)"))
        return real(desk, holder, query, **kw)

    monkeypatch.setattr(search_module, "search_formulary", slow_search)
    window = open_window(qtbot, desk_ctx)
    qtbot.waitUntil(lambda: window.search_pane is not None, timeout=10_000)
    pane = window.search_pane
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    with qtbot.waitSignal(pane.results_shown, timeout=10_000):
        pane.set_query("ibuprofen")
        qtbot.waitUntil(lambda: pane.busy.isVisible(), timeout=3000)  # after 200 ms
    timer.stop()
    assert len(ticks) >= 10 and pane.proxy.rowCount() > 0
    assert not pane.busy.isVisible()


def test_background_errors_come_back_as_values(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    from medapp.ui.workers import run_in_background

    window = open_window(qtbot, desk_ctx)
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("bad input")

    run_in_background(window, boom, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=3000)
    assert isinstance(errors[0], ValueError)
