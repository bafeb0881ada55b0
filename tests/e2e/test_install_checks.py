"""What an installation relies on, tested from source: ``medapp --self-check``, ``medapp db
stop`` after a crash, rotating logs, the resource and demo-data lookup, a quiet command line.
(The frozen bundle itself is tested by tests/packaging, marker ``packaging``.)"""

from __future__ import annotations

import gzip
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from medapp import __version__, paths

STEPS = ("database", "migrations", "search", "reminders", "cache", "qt", "one desk", "scheduler")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A fresh user: own config, data, cache and log folders; no database configured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDAPP_")}
    for name in ("CONFIG", "DATA", "CACHE", "LOG"):
        env[f"MEDAPP_{name}_DIR"] = str(tmp_path / name.lower())
    env.pop("XDG_RUNTIME_DIR", None)  # headless Linux: pgserver's platformdirs would warn
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra)
    return env


def _medapp(
    *args: str, env: dict[str, str], cwd: Path, timeout: int = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medapp", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def _server_running(pgdata: Path) -> bool:
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def test_self_check_on_the_private_database_leaves_nothing_running(tmp_path: Path) -> None:
    result = _medapp("--self-check", env=_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for step in STEPS:
        assert f"\nOK {step}: " in "\n" + result.stdout, result.stdout
    assert "OK private server: stopped" in result.stdout
    assert result.stdout.rstrip().endswith("self-check passed")
    assert result.stderr == ""  # no warning noise
    assert not _server_running(tmp_path / "data" / "pgdata")


def test_self_check_failure_is_one_sentence_and_exit_1(tmp_path: Path) -> None:
    closed = "postgresql://medapp@127.0.0.1:1/medapp"
    result = _medapp("--self-check", "--database-url", closed, env=_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("FAIL database: "), result.stdout
    assert "127.0.0.1:1" in lines[0] and "Traceback" not in result.stderr


def test_db_stop_ends_a_server_left_by_a_killed_app(tmp_path: Path) -> None:
    """A killed medapp leaves its private server running (and its pid in pgserver's handle
    file); ``medapp db stop`` — the uninstaller's and upgrade's first step — stops it."""
    env = _env(tmp_path)
    pgdata = tmp_path / "data" / "pgdata"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from medapp.db.embedded import start_embedded\n"
            f"start_embedded(__import__('pathlib').Path({str(pgdata)!r}))\n"
            "print('up', flush=True)\n"
            "time.sleep(120)\n",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "up"
        os.kill(holder.pid, signal.SIGKILL)  # no atexit: the server stays up
        holder.wait(timeout=30)
        assert _server_running(pgdata)
        stop = _medapp("db", "stop", env=env, cwd=tmp_path)
        assert stop.returncode == 0, stop.stderr
        assert f"Stopped the private database server in {pgdata}." in stop.stdout
        assert not _server_running(pgdata)
        assert not (pgdata / ".handle_pids.json").exists()
        again = _medapp("db", "stop", env=env, cwd=tmp_path)
        assert again.stdout.strip() == "No private database server of this account is running."
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_version_help_and_info_are_quiet(tmp_path: Path) -> None:
    env = _env(tmp_path)
    version = _medapp("--version", env=env, cwd=tmp_path)
    assert version.stdout.strip() == f"medapp {__version__}" and version.stderr == ""
    assert __version__ != "0+unknown"  # read from the installed package's metadata
    helped = _medapp("--help", env=env, cwd=tmp_path)
    assert helped.returncode == 0 and helped.stderr == ""
    assert "--self-check" in helped.stdout and "--demo" in helped.stdout
    info = _medapp("info", env=env, cwd=tmp_path)
    assert info.returncode == 0 and info.stderr == ""


def test_logs_rotate_and_stay_private(tmp_path: Path) -> None:
    """Past 2 MB the log moves to medapp.log.1 (five are kept), every file 0600."""
    script = (
        "import logging\n"
        "from medapp.logging_setup import setup_logging\n"
        "setup_logging()\n"
        "log = logging.getLogger('medapp.test')\n"
        "for i in range(30_000):\n"
        "    log.info('line %d %s', i, 'x' * 80)\n"
    )
    env = _env(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    log_dir = tmp_path / "log"
    names = sorted(p.name for p in log_dir.iterdir())
    assert "medapp.log" in names and "medapp.log.1" in names
    assert len(names) <= 6
    for path in log_dir.iterdir():
        assert path.stat().st_size <= 2_000_000
        if os.name == "posix":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_resources_and_demo_data_never_come_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``shared/data`` or ``resources`` folder in the working folder is ignored."""
    decoy = tmp_path / "shared" / "data"
    (decoy / "formulary").mkdir(parents=True)
    (tmp_path / "resources").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEDAPP_SHARED_DATA", raising=False)
    found = paths.shared_data_dir()
    assert found is None or not found.resolve().is_relative_to(tmp_path.resolve())
    assert not paths.resources_dir().resolve().is_relative_to(tmp_path.resolve())
    assert (paths.migrations_dir() / "env.py").is_file()
    monkeypatch.setenv("MEDAPP_SHARED_DATA", str(decoy))
    assert paths.shared_data_dir() == decoy


def test_a_frozen_bundle_finds_its_own_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a PyInstaller bundle (``sys._MEIPASS``) migrations, resources and the demo data
    are the bundle's; the GUI benchmark restarts the bundle's ``medapp-cli``."""
    bundle = tmp_path / "_internal"
    for name in ("migrations", "resources", paths.BUNDLED_SHARED_DATA):
        (bundle / name).mkdir(parents=True)
    exe = tmp_path / "medapp"
    cli = tmp_path / "medapp-cli"
    exe.write_bytes(b"")
    cli.write_bytes(b"")
    monkeypatch.delenv("MEDAPP_SHARED_DATA", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert paths.migrations_dir() == bundle / "migrations"
    assert paths.resources_dir() == bundle / "resources"
    assert paths.shared_data_dir() == bundle / paths.BUNDLED_SHARED_DATA
    assert paths.self_command() == [str(cli)]


def test_self_command_from_python() -> None:
    assert paths.self_command() == [sys.executable, "-m", "medapp"]


def test_demo_reads_the_bundled_gzip_copy(shared_data: Path, tmp_path: Path) -> None:
    """build.py bundles the FDA tables gzip-compressed; the demo reads them the same."""
    from medapp.demo.formulary import PRODUCTS_FILE, fda_products, find_products_file

    lines = (shared_data / PRODUCTS_FILE).read_text(encoding="utf-8").splitlines(True)[:200]
    plain = tmp_path / "plain" / PRODUCTS_FILE
    packed = tmp_path / "packed" / PRODUCTS_FILE.with_name(PRODUCTS_FILE.name + ".gz")
    for path in (plain, packed):
        path.parent.mkdir(parents=True)
    plain.write_text("".join(lines), encoding="utf-8")
    with gzip.open(packed, "wt", encoding="utf-8", newline="") as fh:
        fh.write("".join(lines))
    assert find_products_file(tmp_path / "packed") == packed
    assert find_products_file(tmp_path / "plain") == plain
    rows = list(fda_products(plain))
    assert len(rows) > 100 and list(fda_products(packed)) == rows
