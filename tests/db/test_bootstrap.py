"""Where the data lives: settings precedence, the embedded server, and readable failures."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from medapp import config
from medapp.bootstrap import connect
from medapp.config import ConfigError, Settings, resolve_settings
from medapp.db import migrate
from medapp.db.engine import make_engine, normalize_url, open_database
from medapp.db.errors import DatabaseUnavailable, describe_target


@pytest.fixture
def config_dir(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("MEDAPP_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("MEDAPP_DATABASE_URL", raising=False)
    return tmp_path


def test_flag_beats_environment_beats_file_beats_embedded(config_dir, monkeypatch) -> None:  # noqa: ANN001
    assert resolve_settings().embedded
    (config_dir / config.CONFIG_FILE_NAME).write_text(
        '[database]\nurl = "postgresql://file@h/db"\n[school]\ncode = "LINC"\n'
    )
    s = resolve_settings()
    assert (s.database_url, s.school_code) == ("postgresql://file@h/db", "LINC")
    assert s.source.startswith("config file")
    monkeypatch.setenv("MEDAPP_DATABASE_URL", "postgresql://env@h/db")
    assert resolve_settings().database_url == "postgresql://env@h/db"
    assert resolve_settings("postgresql://flag@h/db").source == "flag"


def test_broken_settings_file_is_a_clear_error(config_dir) -> None:  # noqa: ANN001
    (config_dir / config.CONFIG_FILE_NAME).write_text("[database\nurl=")
    with pytest.raises(ConfigError, match="cannot be read"):
        resolve_settings()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ],
)
def test_urls_it_staff_paste_are_accepted(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/d", "not a url at all"])
def test_non_postgres_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(DatabaseUnavailable, match="postgresql://user@host"):
        normalize_url(url)


def test_password_never_shown() -> None:
    assert "secret" not in describe_target("postgresql://u:secret@db.example:5433/med")
    assert describe_target("postgresql://u:secret@db.example:5433/med") == "db.example:5433/med"


def test_unreachable_server_is_one_sentence() -> None:
    # Port 1 on loopback: nothing listens there.
    with pytest.raises(DatabaseUnavailable) as info:
        open_database("postgresql://medapp:pw@127.0.0.1:1/medapp")
    message = str(info.value)
    assert "127.0.0.1:1/medapp" in message and "nothing is listening" in message
    assert "pw" not in message and "\n" not in message and "Traceback" not in message


def test_missing_database_is_named(database_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = (
        make_url(database_url).set(database="no_such_db_xyz").render_as_string(hide_password=False)
    )
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        open_database(url)


def test_server_with_old_schema_is_refused_until_it_upgrades(scratch_url: str) -> None:
    settings = Settings(scratch_url, "flag")
    with pytest.raises(DatabaseUnavailable, match="has no medapp tables yet.*medapp db upgrade"):
        connect(settings)
    db = connect(settings, schema="upgrade")
    try:
        assert migrate.is_up_to_date(db.engine)
    finally:
        db.dispose()
    db = connect(settings)  # now it is current: plain start works
    db.dispose()


def test_embedded_default_starts_a_private_migrated_server(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("MEDAPP_DATA_DIR", str(tmp_path / "data"))
    db = connect(Settings(None, "embedded"))
    try:
        assert db.embedded and db.display_name == "local (this PC)"
        assert migrate.is_up_to_date(db.engine)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == "medapp"
        assert (tmp_path / "data" / "pgdata" / "PG_VERSION").is_file()
    finally:
        db.dispose()


def test_engine_is_not_created_at_import() -> None:
    import medapp.db.engine as engine_module

    assert not any(type(v).__name__ == "Engine" for v in vars(engine_module).values())
    eng = make_engine("postgresql://u@127.0.0.1:1/x")
    eng.dispose()
