from __future__ import annotations

from PySide6.QtCore import QTimer

from medapp.ui.main_window import MainWindow


def test_shell_shows_database_contents_and_who_is_at_the_desk(qtbot, ui_db) -> None:  # noqa: ANN001
    window = MainWindow(ui_db)
    qtbot.addWidget(window)
    window.show()
    value = window.overview.cards["students"].value
    qtbot.waitUntil(lambda: value.text() == "1", timeout=5000)
    assert window.overview.cards["active_prescriptions"].value.text() == "1"
    assert window.overview.cards["inventory_lots"].value.text() == "1"
    assert window.user_picker.currentText() == "Nora Nurse"
    assert window.state_label.text() == "Online"
    assert "/" in window.db_label.text()


def test_event_loop_keeps_running_while_the_database_is_slow(qtbot, ui_db) -> None:  # noqa: ANN001
    """The GUI thread never waits on the database: a 1.5 s query must not stop a 50 ms timer."""
    from sqlalchemy import text

    from medapp.ui.workers import run_in_background

    window = MainWindow(ui_db)
    qtbot.addWidget(window)
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    results: list[object] = []

    def slow() -> int:
        with ui_db.engine.connect() as conn:
            return conn.execute(text("SELECT 42 FROM pg_sleep(1.5)")).scalar_one()

    run_in_background(window, slow, results.append)
    qtbot.waitUntil(lambda: results == [42], timeout=5000)
    timer.stop()
    assert len(ticks) >= 15, f"event loop stalled: only {len(ticks)} ticks in 1.5 s"


def test_background_errors_come_back_as_values(qtbot, ui_db) -> None:  # noqa: ANN001
    from medapp.ui.workers import run_in_background

    window = MainWindow(ui_db)
    qtbot.addWidget(window)
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("bad input")

    run_in_background(window, boom, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=3000)
    assert isinstance(errors[0], ValueError)
