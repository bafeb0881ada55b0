"""Prescriptions per student over a date range (work in progress: the full pane follows)."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from medapp.ui.context import AppContext


class SchedulePane(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("schedulePane")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Schedule"))

    @Slot()
    def refresh(self) -> None:
        pass
