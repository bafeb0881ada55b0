"""First start with nothing configured: where does this PC keep its records?

Shown once, before anything else (distinct from :mod:`first_run`, which creates the first
account of a private database). Two answers: "This PC only" (a private database in the user
data folder) or "District server" (host, port, database). No user name or password is asked or
stored — each nurse signs in as herself — so "Test connection" is happy when the server answers
and asks for a sign-in. The test runs off the GUI thread: a server that does not answer keeps
the dialog responsive for the few seconds it takes to give up. The choice goes to the settings
file in the user config folder (:func:`medapp.config.save_setup`), which IT can also push.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from medapp.config import DEFAULT_DATABASE, DEFAULT_PORT, ServerAddress, save_setup
from medapp.db.probe import ProbeResult, probe_server
from medapp.ui.widgets import Banner, BusyIndicator

Probe = Callable[[str, int, str], ProbeResult]


class _Relay(QObject):
    """Carries the probe's answer from its thread to the GUI thread (a queued signal)."""

    done = Signal(object, int)  # ProbeResult, the test's sequence number


class SetupDialog(QDialog):
    #: a connection test finished; its ProbeResult (tests wait on it)
    tested = Signal(object)

    def __init__(self, probe: Probe = probe_server, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._probe = probe
        self._test_number = 0
        self.saved_to: Path | None = None
        self.setObjectName("setupDialog")
        self.setWindowTitle("Set up medapp")
        self.setModal(True)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_tested)

        outer = QVBoxLayout(self)
        title = QLabel("Where does this PC keep its records?")
        title.setObjectName("setupTitle")
        title.setProperty("heading", True)
        outer.addWidget(title)

        self.this_pc = QRadioButton("This PC only")
        self.this_pc.setObjectName("setupThisPc")
        self.this_pc.setAccessibleDescription("A private database on this PC")
        this_pc_hint = self._hint(
            "A private database on this PC, for one health office. Nothing leaves the PC.",
            "setupThisPcHint",
        )
        self.district = QRadioButton("District server")
        self.district.setObjectName("setupDistrict")
        self.district.setAccessibleDescription("The district's shared PostgreSQL server")
        district_hint = self._hint(
            "The district's shared server (district IT gives you its name). Each nurse signs "
            "in with her own name and password; no password is stored on this PC.",
            "setupDistrictHint",
        )
        group = QButtonGroup(self)
        group.addButton(self.this_pc)
        group.addButton(self.district)
        self.this_pc.setChecked(True)
        for widget in (self.this_pc, this_pc_hint, self.district, district_hint):
            outer.addWidget(widget)

        self.server_box = QWidget()
        self.server_box.setObjectName("setupServerBox")
        form = QFormLayout(self.server_box)
        form.setContentsMargins(24, 0, 0, 0)
        self.host_edit = self._field(form, "Server", "setupHost", "e.g. db.district.example")
        self.port_edit = self._field(form, "Port", "setupPort", str(DEFAULT_PORT))
        self.port_edit.setText(str(DEFAULT_PORT))
        self.database_edit = self._field(form, "Database", "setupDatabase", DEFAULT_DATABASE)
        self.database_edit.setText(DEFAULT_DATABASE)
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("setupTest")
        self.test_button.clicked.connect(self.test_connection)
        test_row.addWidget(self.test_button)
        self.busy = BusyIndicator("Trying the server…", "setupBusy")
        test_row.addWidget(self.busy)
        test_row.addStretch(1)
        form.addRow(test_row)
        outer.addWidget(self.server_box)

        self.banner = Banner("setupBanner")
        outer.addWidget(self.banner)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.save_button.setObjectName("setupSave")
        self.save_button.setText("Save and continue")
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("setupCancel")
        cancel.setText("Quit")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

        self.district.toggled.connect(self._choice_changed)
        self._choice_changed(False)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)

    @staticmethod
    def _hint(text: str, object_name: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName(object_name)
        label.setWordWrap(True)
        label.setProperty("muted", True)
        label.setContentsMargins(24, 0, 0, 6)
        return label

    @staticmethod
    def _field(form: QFormLayout, label: str, object_name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(object_name)
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(label)
        form.addRow(label, edit)
        return edit

    @Slot(bool)
    def _choice_changed(self, district: bool) -> None:
        self.server_box.setEnabled(district)
        self.banner.clear()
        if district:
            self.host_edit.setFocus()

    def _address(self) -> ServerAddress | None:
        """The typed server, or None after showing what to fix."""
        try:
            return ServerAddress.parse(
                self.host_edit.text(), self.port_edit.text(), self.database_edit.text()
            )
        except ValueError as exc:
            self.banner.error(str(exc))
            return None

    @Slot()
    def test_connection(self) -> None:
        address = self._address()
        if address is None:
            return
        self.banner.clear()
        self._test_number += 1
        number, relay, probe = self._test_number, self._relay, self._probe
        self.test_button.setEnabled(False)
        self.busy.start()

        def work() -> None:
            try:
                result = probe(address.host, address.port, address.database)
            except Exception as exc:  # noqa: BLE001 - the probe's answer is a sentence anyway
                result = ProbeResult(False, f"The test failed: {exc}")
            try:
                relay.done.emit(result, number)
            except RuntimeError:  # the dialog was closed meanwhile: nobody to tell
                pass

        threading.Thread(target=work, name="medapp-setup-probe", daemon=True).start()

    @Slot(object, int)
    def _on_tested(self, result: ProbeResult, number: int) -> None:
        if number != self._test_number:
            return  # an older test's late answer
        self.busy.stop()
        self.test_button.setEnabled(True)
        self.banner.show_message("info" if result.ok else "error", result.message)
        self.tested.emit(result)

    @Slot()
    def save(self) -> None:
        server = None
        if self.district.isChecked():
            server = self._address()
            if server is None:
                return
        try:
            self.saved_to = save_setup(server)
        except OSError as exc:
            self.banner.error(f"The settings could not be saved ({exc.strerror or exc}).")
            return
        self.accept()


def ask_where_records_live(parent: QWidget | None = None) -> bool:
    """Show the setup dialog (the QApplication must exist); False when the person quit."""
    dialog = SetupDialog(parent=parent)
    return dialog.exec() == QDialog.DialogCode.Accepted
