"""``medapp admin …`` as district IT runs it: on a server (``--database-url``) and on the private
database, idempotent, passwords only from standard input, one sentence and exit 2 on bad input,
and no password in any output whatever the database address looks like."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from medapp.cli import main
from medapp.db import migrate
from medapp.db.engine import make_engine
from medapp.db.testing import scratch_database

PASSWORD = "district it pass phrase"


@pytest.fixture(autouse=True)
def _keep_the_umask() -> Iterator[None]:
    """``main`` sets the app's private umask for the process; the rest of the suite keeps its own."""
    import os

    old = os.umask(0o022)
    os.umask(old)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def server_url(pg_server_url: str) -> Iterator[str]:
    with scratch_database(pg_server_url) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def admin(
    capsys, monkeypatch, *args: str, url: str | None = None, stdin: str = ""
) -> tuple[int, str, str]:  # noqa: ANN001
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    argv = (["--database-url", url] if url else []) + ["admin", *args]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_district_it_creates_schools_and_users_on_a_server(
    server_url: str, capsys, monkeypatch, login_roles
) -> None:  # noqa: ANN001
    nurse = login_roles.new("nurse")
    code, out, _ = admin(capsys, monkeypatch, "create-school", "Oak Elementary", url=server_url)
    assert code == 0 and "Oak Elementary" in out and "OAK-ELEMENTARY" in out
    code, out, _ = admin(
        capsys, monkeypatch, "create-school", "Pine Middle", "--code", "PINE", url=server_url
    )
    assert code == 0 and "code PINE" in out
    assert admin(capsys, monkeypatch, "create-school", "Oak Elementary", url=server_url)[0] == 0

    create = (
        "create-user",
        nurse,
        "--role",
        "nurse",
        "--school",
        "Oak Elementary",
        "--school",
        "PINE",
        "--name",
        "Olive  Oak",
        "--password-stdin",
    )
    code, out, err = admin(capsys, monkeypatch, *create, url=server_url, stdin=PASSWORD + "\n")
    assert code == 0, err
    assert f"User '{nurse}'" in out and "created" in out and PASSWORD not in out + err
    code, out, _ = admin(capsys, monkeypatch, *create, url=server_url, stdin=PASSWORD + "\n")
    assert code == 0 and "already exists; nothing changed" in out

    engine = create_engine(server_url)
    with engine.connect() as conn:
        verifier = conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"), {"n": nurse}
        ).scalar()
    assert verifier.startswith("SCRAM-SHA-256$")

    code, out, _ = admin(capsys, monkeypatch, "list-users", "--json", url=server_url)
    [row] = [u for u in json.loads(out) if u["username"] == nurse]
    assert row == {
        "username": nurse,
        "first_name": "Olive",
        "last_name": "Oak",
        "role": "NURSE",
        "schools": ["Oak Elementary", "Pine Middle"],
        "active": True,
        "login_role": True,
        "has_password": True,
    }
    code, out, _ = admin(
        capsys,
        monkeypatch,
        "reset-password",
        nurse,
        "--password-stdin",
        url=server_url,
        stdin="a new pass phrase\r\n",
    )
    assert code == 0 and "changed" in out
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"), {"n": nurse}
            ).scalar()
            != verifier
        )
    code, out, _ = admin(capsys, monkeypatch, "disable-user", nurse, url=server_url)
    assert code == 0 and "disabled" in out
    code, out, _ = admin(capsys, monkeypatch, "list-users", url=server_url)
    assert any(line.startswith(nurse) and "DISABLED" in line for line in out.splitlines())
    with engine.connect() as conn:
        assert not conn.execute(
            text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :n"), {"n": nurse}
        ).scalar()
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (
            ("create-user", "x.user", "--role", "nurse", "--school", "Nowhere", "--password-stdin"),
            PASSWORD,
            "no school 'Nowhere'",
        ),
        (
            ("create-user", "x.user", "--role", "auditor", "--password-stdin"),
            "short",
            "at least 10",
        ),
        (("create-user", "x.user", "--role", "auditor"), "", "--password-stdin"),
        (
            ("create-user", "Bad Name", "--role", "auditor", "--password-stdin"),
            PASSWORD,
            "cannot be a user name",
        ),
        (("reset-password", "no.such.user", "--password-stdin"), PASSWORD, "no user"),
        (("disable-user", "no.such.user"), "", "no user"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    server_url: str, capsys, monkeypatch, args, stdin, words
) -> None:  # noqa: ANN001
    code, out, err = admin(capsys, monkeypatch, *args, url=server_url, stdin=stdin)
    assert code == 2 and words in err and "Traceback" not in err
    assert err.startswith("medapp: ") and len(err.strip().splitlines()) == 1
    if len(stdin) > 5:
        assert stdin not in err + out


def test_an_unknown_role_is_a_usage_error(server_url: str, capsys, monkeypatch) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exit_:
        admin(capsys, monkeypatch, "create-user", "x.y", "--role", "king", url=server_url)
    assert exit_.value.code == 2


def test_the_private_database(capsys, monkeypatch) -> None:  # noqa: ANN001
    """Without an address the commands work on this PC's private database (argon2 hashes)."""
    import uuid

    name = f"p.{uuid.uuid4().hex[:8]}"
    assert admin(capsys, monkeypatch, "create-school", "Home School")[0] == 0
    code, out, err = admin(
        capsys,
        monkeypatch,
        "create-user",
        name,
        "--role",
        "lead_nurse",
        "--school",
        "Home School",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert code == 0, err
    code, out, _ = admin(capsys, monkeypatch, "list-users", "--json")
    [row] = [u for u in json.loads(out) if u["username"] == name]
    assert row["role"] == "LEAD_NURSE" and row["has_password"] and row["login_role"]


def test_password_comes_from_standard_input_in_a_real_process(server_url: str, login_roles) -> None:  # noqa: ANN001
    name = login_roles.new("sub")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "medapp",
            "--database-url",
            server_url,
            "admin",
            "create-user",
            name,
            "--role",
            "auditor",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr


# --- database addresses: never a password, never a traceback ----------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("user:s3cretpw@db.example", "not a URL"),
        ("postgresql://u:s3cretpw@127.0.0.1:notaport/db", "port"),
        ("postgresql://u:s3cretpw@127.0.0.1:99999/db", "port"),
        ("mysql://u:s3cretpw@127.0.0.1/db", "needs PostgreSQL"),
        ("postgresql+nodriver://u:s3cretpw@127.0.0.1/db", "driver 'nodriver'"),
        ("postgresql+psycopg2://u:s3cretpw@127.0.0.1/db", "driver 'psycopg2'"),
        ("postgresql://u:s3cretpw@127.0.0.1:1/db", "nothing is listening"),
    ],
)
def test_bad_addresses_are_one_sentence_without_the_password(
    url: str, words: str, capsys, monkeypatch
) -> None:  # noqa: ANN001
    for command in (["db", "current"], ["admin", "list-users"]):
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        code = main(["--database-url", url, *command])
        out, err = capsys.readouterr()
        assert code == 2, err
        assert words in err and "s3cretpw" not in out + err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    from medapp import paths

    log_file = paths.log_dir() / "medapp.log"
    assert "s3cretpw" not in (log_file.read_text() if log_file.exists() else "")
