"""QApplication set-up: organisation names for QSettings, stylesheet, palette, main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from medapp import paths
from medapp.db.engine import Database


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setOrganizationName("medapp")
    app.setApplicationName("medapp")
    app.setApplicationDisplayName("medapp")
    style = paths.resource_path("style.qss")
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app  # type: ignore[return-value]


def run_gui(db: Database, *, demo: bool = False) -> int:
    from medapp.ui.main_window import MainWindow

    app = make_app()
    window = MainWindow(db, demo=demo)
    window.show()
    try:
        return app.exec()
    finally:
        db.dispose()
