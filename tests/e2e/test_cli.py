"""The ``medapp`` command as IT staff run it: real subprocesses, real databases."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run(
    *args: str,
    env_extra: dict[str, str] | None = None,
    timeout: int = 180,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("MEDAPP_DATABASE_URL", None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "medapp", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        input=stdin if stdin is not None else "",
    )


def test_db_upgrade_downgrade_current(scratch_url: str) -> None:
    from medapp.db import migrate
    from medapp.db.engine import make_engine

    engine = make_engine(scratch_url)
    head = migrate.head_revision(engine)
    engine.dispose()
    up = run("--database-url", scratch_url, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert f"schema {head}" in up.stdout
    cur = run("db", "current", env_extra={"MEDAPP_DATABASE_URL": scratch_url})
    assert cur.returncode == 0 and f"schema {head} (newest: {head})" in cur.stdout
    down = run("--database-url", scratch_url, "db", "downgrade", "base")
    assert down.returncode == 0 and "schema empty" in down.stdout


def test_unreachable_server_gives_one_line_and_exit_2() -> None:
    result = run(
        "--database-url", "postgresql://medapp:hunter2@127.0.0.1:1/medapp", "db", "current"
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "medapp: Cannot use the medapp database at 127.0.0.1:1"
    )
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_gui_refuses_a_server_without_schema(scratch_url: str, login_roles) -> None:  # noqa: ANN001
    """The desk has no connection of its own before a sign-in: the schema is checked on the
    nurse's connection, and an old or empty server is one sentence for IT."""
    from sqlalchemy import create_engine, text

    name = login_roles.new("nurse")
    admin = create_engine(scratch_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
    finally:
        admin.dispose()
    result = run(
        "--database-url",
        scratch_url,
        "--user",
        name,
        "--password-stdin",
        stdin="a password of hers\n",
        env_extra={"MEDAPP_EXIT_WHEN_READY": "1", "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode != 0
    assert "medapp db upgrade" in result.stderr
    assert "a password of hers" not in result.stderr + result.stdout


def test_info_names_the_folders(tmp_path) -> None:  # noqa: ANN001
    result = run("info", env_extra={"MEDAPP_DATA_DIR": str(tmp_path / "d")})
    assert result.returncode == 0
    assert "private server on this PC" in result.stdout and str(tmp_path / "d") in result.stdout


def test_reset_refuses_a_real_server_database(scratch_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(scratch_url)
    # a scratch database is named medapp_test_*: resettable. A production-like name is not.
    prod_like = url.set(database="postgres").render_as_string(hide_password=False)
    result = run("--database-url", prod_like, "demo", "--reset")
    assert result.returncode == 2 and "Refusing to empty database 'postgres'" in result.stderr


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["db", "--help"]])
def test_help_and_version(args: list[str]) -> None:
    assert run(*args).returncode == 0
