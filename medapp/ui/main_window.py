"""The nurse's desk window. This first shell shows what the database holds and who is at the
desk; the search, schedule, reminder and inventory panes plug into ``panes``."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from medapp.db.engine import Database
from medapp.services.overview import DeskSummary, desk_summary
from medapp.ui.workers import run_in_background


class SummaryCard(QFrame):
    def __init__(self, title: str, object_name: str) -> None:
        super().__init__()
        self.setObjectName(object_name)
        self.setProperty("card", True)
        layout = QVBoxLayout(self)
        self.value = QLabel("…")
        self.value.setObjectName(f"{object_name}Value")
        self.value.setProperty("cardValue", True)
        caption = QLabel(title)
        caption.setProperty("cardCaption", True)
        layout.addWidget(self.value)
        layout.addWidget(caption)
        self.setAccessibleName(title)

    def set_value(self, value: int) -> None:
        self.value.setText(f"{value:,}")


class OverviewPane(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("overviewPane")
        outer = QVBoxLayout(self)
        heading = QLabel("Today at the health office")
        heading.setProperty("heading", True)
        outer.addWidget(heading)
        grid = QGridLayout()
        self.cards = {
            "students": SummaryCard("students enrolled", "cardStudents"),
            "active_prescriptions": SummaryCard("active medication orders", "cardPrescriptions"),
            "formulary_items": SummaryCard("medications in the formulary", "cardFormulary"),
            "inventory_lots": SummaryCard("stock lots on the shelf", "cardInventory"),
        }
        for i, card in enumerate(self.cards.values()):
            grid.addWidget(card, i // 2, i % 2)
        outer.addLayout(grid)
        outer.addStretch(1)

    def show_summary(self, summary: DeskSummary) -> None:
        for key, card in self.cards.items():
            card.set_value(getattr(summary, key))


class MainWindow(QMainWindow):
    def __init__(self, db: Database, *, demo: bool = False) -> None:
        super().__init__()
        self.db = db
        self.setObjectName("mainWindow")
        self.setWindowTitle("medapp — health office" + (" (demo data)" if demo else ""))
        self.panes = QTabWidget()
        self.panes.setObjectName("paneTabs")
        self.overview = OverviewPane()
        self.panes.addTab(self.overview, "Overview")
        self.setCentralWidget(self.panes)

        bar = self.statusBar()
        bar.setObjectName("statusBar")
        self.user_picker = QComboBox()
        self.user_picker.setObjectName("userPicker")
        self.user_picker.setAccessibleName("Who is at the desk")
        self.user_picker.setMinimumWidth(180)
        self.db_label = QLabel(f"Database: {db.display_name}")
        self.db_label.setObjectName("databaseLabel")
        self.state_label = QLabel("Connecting…")
        self.state_label.setObjectName("connectionState")
        at_desk = QWidget()
        row = QHBoxLayout(at_desk)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("At the desk:"))
        row.addWidget(self.user_picker)
        bar.addWidget(at_desk)
        bar.addPermanentWidget(self.db_label)
        bar.addPermanentWidget(self.state_label)

        self._restore_geometry()
        self.refresh()
        self._timer = QTimer(self)
        self._timer.setInterval(60_000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def refresh(self) -> None:
        sessions = self.db.sessions
        run_in_background(
            self, lambda: desk_summary(sessions), self._show_summary, self._show_error
        )

    def _show_summary(self, summary: DeskSummary) -> None:
        self.overview.show_summary(summary)
        if self.user_picker.count() == 0:
            for user_id, name in summary.nurses:
                self.user_picker.addItem(name, user_id)
        self.state_label.setText("Online")
        self.state_label.setProperty("state", "online")
        self._repolish(self.state_label)

    def _show_error(self, exc: BaseException) -> None:
        self.state_label.setText("Offline")
        self.state_label.setProperty("state", "offline")
        self._repolish(self.state_label)
        self.statusBar().showMessage("The database did not answer; retrying every minute.", 10_000)

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("mainWindow/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)
        self.panes.setCurrentIndex(int(settings.value("mainWindow/pane", 0)))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        settings = QSettings()
        settings.setValue("mainWindow/geometry", self.saveGeometry())
        settings.setValue("mainWindow/pane", self.panes.currentIndex())
        super().closeEvent(event)


def show_fatal(message: str) -> None:
    QMessageBox.critical(None, "medapp", message)


__all__ = ["MainWindow", "show_fatal", "Qt"]
