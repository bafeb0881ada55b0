"""The private PostgreSQL's life: started, shared, stopped — also after a crash, and only ever
reachable by this user. Real servers (pgserver) in the test's own folders, real processes.

Processes are found from /proc (Linux): a postmaster's command line names its data folder."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from medapp.config import CONFIG_FILE_NAME
from medapp.db import embedded

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/cmdline").exists(), reason="finds processes through /proc (Linux)"
)

REPO_ROOT = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from medapp.db.embedded import start_embedded
    start_embedded(Path(sys.argv[1]))
    print("ready", flush=True)
    sys.stdin.read()  # closed stdin: a normal exit (exit hooks stop the server)
    """
)


def postgres_pids(folder: Path) -> list[int]:
    """Living postmasters whose command line names ``folder`` (or a folder inside it)."""
    found = []
    needle = str(folder.resolve()).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state == "Z" or not args or Path(args[0].decode(errors="replace")).name != "postgres":
            continue
        if any(needle in arg for arg in args):
            found.append(int(entry.name))
    return found


def wait_until_gone(folder: Path, seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while (pids := postgres_pids(folder)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return pids


def child_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDAPP_")}
    for name in ("CONFIG", "DATA", "CACHE", "LOG"):
        env[f"MEDAPP_{name}_DIR"] = str(tmp_path / name.lower())
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # A PC already set up for "this PC only": a desk started here must not stop at the
    # first-start question (nobody would answer it in a test).
    config = tmp_path / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / CONFIG_FILE_NAME).write_text("[database]\nprivate = true\n", encoding="utf-8")
    return env


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the private server in ``tmp_path/pg``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "pg")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(tmp_path),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(30)
    embedded.stop_embedded(tmp_path / "pg")
    if pids := postgres_pids(tmp_path):  # a test that failed half-way: leave nothing behind
        embedded.stop_server_process((tmp_path / "pg").resolve(), pids[0])


def test_a_holders_normal_exit_stops_the_server(tmp_path: Path, holder) -> None:  # noqa: ANN001
    assert postgres_pids(tmp_path)
    holder.communicate("", timeout=60)
    assert holder.returncode == 0
    assert wait_until_gone(tmp_path) == []


def test_after_sigkill_the_next_start_stops_the_orphan_and_its_exit_stops_the_new_one(
    tmp_path: Path,
    holder,  # noqa: ANN001
) -> None:
    pgdata = (tmp_path / "pg").resolve()
    (orphan,) = postgres_pids(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    time.sleep(0.5)
    assert postgres_pids(tmp_path) == [orphan], "the crash left its server running"
    assert embedded.read_handles(pgdata) == [holder.pid], "…and its dead pid in the handle file"

    url = embedded.start_embedded(pgdata)
    assert orphan not in postgres_pids(tmp_path), "the orphan was stopped, not reused"
    assert embedded.read_handles(pgdata) == [os.getpid()]
    with psycopg.connect(embedded.to_plain_uri(url.replace("+psycopg", ""))) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    embedded.stop_embedded(pgdata)
    assert wait_until_gone(tmp_path) == []


def test_after_sigkill_a_cli_command_cleans_up(tmp_path: Path) -> None:
    """The issue's case with the real command: a killed medapp, then ``medapp db current``."""
    env = child_env(tmp_path)
    pgdata = tmp_path / "data" / "pgdata"
    victim = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(pgdata)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert victim.stdout is not None and victim.stdout.readline().strip() == "ready"
    finally:
        victim.kill()
        victim.wait(30)
    assert postgres_pids(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "medapp", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "local (this PC): schema" in done.stdout
    assert wait_until_gone(tmp_path) == []
    assert embedded.read_handles(pgdata) == []


def test_a_dead_pid_in_the_handle_file_does_not_keep_the_server_alive(tmp_path: Path) -> None:
    pgdata = (tmp_path / "pg").resolve()
    embedded.start_embedded(pgdata)
    gone = subprocess.run(["true"], check=True)  # noqa: S607 - a pid that surely has exited
    dead = subprocess.Popen(["true"])  # noqa: S607
    dead.wait()
    assert gone.returncode == 0
    handles = pgdata / embedded.HANDLE_FILE
    handles.write_text(json.dumps([*embedded.read_handles(pgdata), dead.pid]))
    embedded.stop_embedded(pgdata)
    assert wait_until_gone(tmp_path) == []


def test_a_living_holder_keeps_the_server_when_we_leave(tmp_path: Path, holder) -> None:  # noqa: ANN001
    pgdata = (tmp_path / "pg").resolve()
    (running,) = postgres_pids(tmp_path)
    embedded.start_embedded(pgdata)  # joins: the same server
    assert postgres_pids(tmp_path) == [running]
    assert sorted(embedded.read_handles(pgdata)) == sorted([holder.pid, os.getpid()])
    embedded.stop_embedded(pgdata)
    assert postgres_pids(tmp_path) == [running]
    holder.communicate("", timeout=60)
    assert wait_until_gone(tmp_path) == []


def test_a_postmaster_pid_now_used_by_another_program_does_not_block_the_start(
    tmp_path: Path,
) -> None:
    """After a reboot the pid in ``postmaster.pid`` can belong to anything; PostgreSQL would
    refuse to start ("lock file already exists") while that process lives."""
    pgdata = (tmp_path / "pg").resolve()
    embedded.start_embedded(pgdata)
    embedded.stop_embedded(pgdata)
    assert wait_until_gone(tmp_path) == []
    other = subprocess.Popen(["sleep", "60"])  # noqa: S607
    try:
        (pgdata / "postmaster.pid").write_text(f"{other.pid}\n{pgdata}\n0\n5432\n\n\n\nready\n")
        assert embedded.postmaster_pid(pgdata) is None
        embedded.start_embedded(pgdata)
        assert postgres_pids(tmp_path)
        assert other.poll() is None, "the other program was left alone"
    finally:
        other.kill()
        other.wait()
        embedded.stop_embedded(pgdata)
    assert wait_until_gone(tmp_path) == []


# -- only this user's connections -------------------------------------------------------------


def _socket_dir(pgdata: Path) -> Path:
    return Path((pgdata / "postmaster.pid").read_text().splitlines()[4])


def test_the_socket_is_in_a_folder_only_the_server_user_may_enter(tmp_path: Path) -> None:
    pgdata = (tmp_path / "pg").resolve()
    embedded.start_embedded(pgdata)
    try:
        socket_dir = _socket_dir(pgdata)
        assert socket_dir == pgdata
        assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    finally:
        embedded.stop_embedded(pgdata)


def test_a_data_folder_too_long_for_a_socket_gets_a_private_socket_folder(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    pgdata = (deep / "pg").resolve()
    embedded.start_embedded(pgdata)
    try:
        socket_dir = _socket_dir(pgdata)
        assert socket_dir != pgdata
        assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    finally:
        embedded.stop_embedded(pgdata)
    assert wait_until_gone(tmp_path) == []


def _cannot_connect_without_password(url: str) -> None:
    plain = url.replace("+psycopg", "")
    bare = plain.split("@", 1)[1]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://postgres@{bare}", connect_timeout=5).close()


def test_windows_mode_creates_the_cluster_with_a_password_and_no_trust(tmp_path: Path) -> None:
    """The Windows code path (TCP on 127.0.0.1) run here over the socket: the cluster never
    trusts anyone, the password is random, 0600 and beside the data folder."""
    pgdata = (tmp_path / "pg").resolve()
    url = embedded.start_embedded(pgdata, password=True)
    try:
        pwfile = embedded.password_file(pgdata)
        password = pwfile.read_text().strip()
        assert len(password) >= 40
        assert stat.S_IMODE(pwfile.stat().st_mode) == 0o600
        assert f"postgres:{password}@" in url
        hba_rules = [
            line
            for line in (pgdata / "pg_hba.conf").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        assert hba_rules and all(line.split()[-1] == "scram-sha-256" for line in hba_rules)
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        _cannot_connect_without_password(url)
    finally:
        embedded.stop_embedded(pgdata)


def test_windows_mode_switches_an_older_trust_cluster_to_the_password(tmp_path: Path) -> None:
    pgdata = (tmp_path / "pg").resolve()
    embedded.start_embedded(pgdata)  # created with trust, as pgserver does
    embedded.stop_embedded(pgdata)
    assert wait_until_gone(tmp_path) == []
    url = embedded.start_embedded(pgdata, password=True)
    try:
        assert "trust" not in [
            line.split()[-1]
            for line in (pgdata / "pg_hba.conf").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        _cannot_connect_without_password(url)
    finally:
        embedded.stop_embedded(pgdata)


def test_password_file_is_created_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "data" / "pgdata.password"
    first = embedded.write_password_file(path)
    assert embedded.write_password_file(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other = embedded.write_password_file(tmp_path / "data" / "demo-pgdata.password")
    assert other != first
    assert embedded.password_file(Path("/x/data/pgdata")) == Path("/x/data/pgdata.password")


def test_server_urls() -> None:
    sock = "postgresql://postgres:@/postgres?host=/home/n/.local/share/medapp/pgdata"
    assert embedded.server_url(sock) == (
        "postgresql+psycopg://postgres@/postgres?host=/home/n/.local/share/medapp/pgdata"
    )
    tcp = "postgresql://postgres:@127.0.0.1:50123/postgres"
    assert embedded.server_url(tcp, "a/b+c") == (
        "postgresql+psycopg://postgres:a%2Fb%2Bc@127.0.0.1:50123/postgres"
    )
    assert embedded.uses_password("nt") and not embedded.uses_password("posix")


def test_hba_without_trust_keeps_comments_and_other_methods() -> None:
    text = (
        "# trust is explained here\n"
        "local   all   all                 trust\n"
        "host    all   all   127.0.0.1/32  trust  # loopback\n"
        "host    all   all   ::1/128       md5\n"
    )
    assert embedded.hba_without_trust(text) == (
        "# trust is explained here\n"
        "local   all   all                 scram-sha-256\n"
        "host    all   all   127.0.0.1/32  scram-sha-256  # loopback\n"
        "host    all   all   ::1/128       md5\n"
    )


# -- the test suite itself --------------------------------------------------------------------


@pytest.mark.slow
def test_a_pytest_run_on_the_embedded_server_leaves_no_postgres(tmp_path: Path) -> None:
    """A real pytest session (this suite's conftest, embedded default) in a subprocess: when it
    has finished, no PostgreSQL runs for any folder of its temporary tree."""
    basetemp = tmp_path / "bt"
    env = child_env(tmp_path)
    env.pop("MEDAPP_TEST_DATABASE_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={basetemp}",
            "tests/db/test_bootstrap.py::test_embedded_default_starts_a_private_migrated_server",
            "tests/db/test_migrations.py",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert postgres_pids(basetemp) == []


# -- a start interrupted half-way (a signal's SystemExit / KeyboardInterrupt) ----------------


def test_an_interrupt_inside_pgservers_start_stops_the_server_it_had_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server is up but ``get_server`` has not returned (our pid not yet in the handle
    file): the interrupt must not leave it running."""
    import pgserver

    original = pgserver.PostgresServer.ensure_postgres_running

    def started_then_interrupted(self) -> None:  # noqa: ANN001
        original(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(
        pgserver.PostgresServer, "ensure_postgres_running", started_then_interrupted
    )
    pgdata = (tmp_path / "pg").resolve()
    with pytest.raises(KeyboardInterrupt):
        embedded.start_embedded(pgdata)
    assert wait_until_gone(tmp_path) == []
    assert os.getpid() not in embedded.read_handles(pgdata)
    assert pgdata not in embedded.running_servers()


def test_an_interrupt_after_the_start_stops_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(embedded, "_tighten_socket_dir", interrupted)
    pgdata = (tmp_path / "pg").resolve()
    with pytest.raises(KeyboardInterrupt):
        embedded.start_embedded(pgdata)
    assert wait_until_gone(tmp_path) == []
    assert embedded.read_handles(pgdata) == []
    monkeypatch.undo()
    embedded.start_embedded(pgdata)  # and the folder starts normally afterwards
    embedded.stop_embedded(pgdata)
    assert wait_until_gone(tmp_path) == []
