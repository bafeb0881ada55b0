"""QApplication set-up: organisation names for QSettings, font, palette and stylesheet (light or
dark), the application icon; then the desk context (database, cache, outbox) and the window."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from medapp.db.engine import Database

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


def run_gui(db: Database, *, demo: bool = False, started_at: float | None = None) -> int:
    """Open the desk on ``db`` and run until the window closes (the ``medapp`` command)."""
    started_at = started_at if started_at is not None else time.perf_counter()
    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache
    from medapp.ui.context import AppContext
    from medapp.ui.main_window import MainWindow

    app = make_app()
    ctx = AppContext(db=db, cache=Cache(), outbox=Outbox())
    window = MainWindow(ctx, demo=demo, started_at=started_at)
    window.show()
    try:
        return app.exec()
    finally:
        ctx.stop()
        ctx.cache.close()
        db.dispose()
