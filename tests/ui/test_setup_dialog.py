"""First start with nothing configured: the setup dialog stores the choice in the settings file,
and "Test connection" asks a real server on 127.0.0.1 off the GUI thread."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from medapp.config import config_file, needs_setup, resolve_settings
from medapp.db.probe import ProbeResult
from medapp.ui.dialogs.setup_dialog import SetupDialog


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEDAPP_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("MEDAPP_DATABASE_URL", raising=False)
    return tmp_path / "config"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_shown_only_when_nothing_is_configured(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert needs_setup(None)
    assert not needs_setup(None, demo=True)
    assert not needs_setup("postgresql://db.example/medapp")
    monkeypatch.setenv("MEDAPP_DATABASE_URL", "postgresql://db.example/medapp")
    assert not needs_setup(None)
    monkeypatch.delenv("MEDAPP_DATABASE_URL")
    config_dir.mkdir(parents=True)
    config_file().write_text("[database]\nprivate = true\n", encoding="utf-8")
    assert not needs_setup(None)


def test_this_pc_only_is_stored(qtbot, config_dir: Path) -> None:  # noqa: ANN001
    dialog = SetupDialog()
    qtbot.addWidget(dialog)
    assert dialog.this_pc.isChecked() and not dialog.server_box.isEnabled()
    dialog.save_button.click()
    assert dialog.result() == SetupDialog.DialogCode.Accepted
    assert dialog.saved_to == config_file()
    settings = resolve_settings()
    assert settings.embedded
    assert not needs_setup(None)


def test_district_server_is_stored_without_a_password(qtbot, config_dir: Path) -> None:  # noqa: ANN001
    dialog = SetupDialog()
    qtbot.addWidget(dialog)
    dialog.district.setChecked(True)
    assert dialog.server_box.isEnabled()
    dialog.host_edit.setText(" db.district.example ")
    dialog.port_edit.setText("6543")
    dialog.database_edit.setText("medapp_lincoln")
    dialog.save_button.click()
    assert dialog.result() == SetupDialog.DialogCode.Accepted
    settings = resolve_settings()
    assert settings.database_url == "postgresql://db.district.example:6543/medapp_lincoln"
    assert settings.source.startswith("config file")
    text = config_file().read_text(encoding="utf-8")
    assert "password" not in text.split("No user name or\n# password")[-1]
    assert "@" not in text


@pytest.mark.parametrize(
    ("host", "port", "database", "says"),
    [
        ("", "5432", "medapp", "Enter the server's name"),
        ("db.example", "70000", "medapp", "port is a number"),
        ("db.example", "five", "medapp", "port is a number"),
        ("db example", "5432", "medapp", "only letters"),
        ("db.example", "5432", "med app", "database name"),
    ],
)
def test_bad_address_is_refused_and_nothing_saved(  # noqa: PLR0913
    qtbot,  # noqa: ANN001
    config_dir: Path,
    host: str,
    port: str,
    database: str,
    says: str,
) -> None:
    dialog = SetupDialog()
    qtbot.addWidget(dialog)
    dialog.district.setChecked(True)
    dialog.host_edit.setText(host)
    dialog.port_edit.setText(port)
    dialog.database_edit.setText(database)
    dialog.save_button.click()
    assert dialog.result() != SetupDialog.DialogCode.Accepted
    assert dialog.banner.isVisibleTo(dialog) and says in dialog.banner.text
    assert not config_file().exists()


def _test_connection(qtbot, host: str, port: int, database: str) -> ProbeResult:  # noqa: ANN001
    dialog = SetupDialog()
    qtbot.addWidget(dialog)
    dialog.district.setChecked(True)
    dialog.host_edit.setText(host)
    dialog.port_edit.setText(str(port))
    dialog.database_edit.setText(database)
    with qtbot.waitSignal(dialog.tested, timeout=15_000) as blocker:
        dialog.test_button.click()
        assert not dialog.test_button.isEnabled()  # the GUI thread is free meanwhile
    assert dialog.test_button.isEnabled()
    result = blocker.args[0]
    assert dialog.banner.text == result.message
    return result


def test_test_connection_reaches_the_local_server(qtbot, config_dir: Path) -> None:  # noqa: ANN001
    if not _listening(5432):
        pytest.skip("no PostgreSQL server listens on 127.0.0.1:5432 on this machine")
    result = _test_connection(qtbot, "127.0.0.1", 5432, "postgres")
    assert result.ok, result.message
    assert "127.0.0.1:5432" in result.message
    assert not config_file().exists()  # testing saves nothing


def test_test_connection_to_a_closed_port_says_so(qtbot, config_dir: Path) -> None:  # noqa: ANN001
    port = _closed_port()
    result = _test_connection(qtbot, "127.0.0.1", port, "medapp")
    assert not result.ok
    assert result.message.startswith(f"Nothing answers at 127.0.0.1:{port}.")
    assert "running" in result.message


def test_missing_database_on_a_live_server_is_named(qtbot, config_dir: Path) -> None:  # noqa: ANN001
    if not _listening(5432):
        pytest.skip("no PostgreSQL server listens on 127.0.0.1:5432 on this machine")
    result = _test_connection(qtbot, "127.0.0.1", 5432, "medapp_no_such_database")
    assert not result.ok
    assert "no database 'medapp_no_such_database'" in result.message
