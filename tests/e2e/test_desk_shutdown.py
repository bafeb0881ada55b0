"""``medapp`` as a process: signals end the desk and the commands normally (private server
stopped), and a desk that cannot start Qt leaves nothing running. Real subprocesses, the real
private server in the test's own folders, Qt offscreen."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from medapp.ui import preflight
from tests.db.test_private_server import child_env, postgres_pids, wait_until_gone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path("/proc/self/cmdline").exists(), reason="finds processes through /proc (Linux)"
    ),
]


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "medapp", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], marker: str, seconds: float = 180) -> None:
    """Read the child's stderr (``-v`` logs there) until ``marker``. A child that goes silent
    (a dialog nobody answers) is killed at the deadline, so the test fails instead of hanging."""
    assert proc.stderr is not None
    watchdog = threading.Timer(seconds, proc.kill)
    watchdog.start()
    seen: list[str] = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if marker in line:
                return
    finally:
        watchdog.cancel()
    proc.kill()
    pytest.fail(f"no {marker!r} from medapp (exit {proc.poll()}): {''.join(seen)[-2000:]}")


def _wait_for_server(folder: Path, seconds: float = 120) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pids := postgres_pids(folder):
            return pids[0]
        time.sleep(0.2)
    pytest.fail("the private server did not start")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_closes_the_desk_and_stops_its_private_server(
    tmp_path: Path, signum: signal.Signals
) -> None:
    proc = _start(["-v"], child_env(tmp_path))
    try:
        _wait_for_line(proc, "desk window shown")
        assert postgres_pids(tmp_path)
        proc.send_signal(signum)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum
    assert wait_until_gone(tmp_path) == []
    log = (tmp_path / "log" / "medapp.log").read_text()
    assert f"signal {int(signum)}: closing the desk" in log


def test_sigterm_ends_a_cli_command_and_stops_its_private_server(tmp_path: Path) -> None:
    """A long command (the district demo load) stopped half-way: nothing left running."""
    proc = _start(["demo", "--scale", "district"], child_env(tmp_path))
    try:
        _wait_for_server(tmp_path)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, proc.communicate()[1][-3000:]
    assert wait_until_gone(tmp_path) == []


def test_missing_qt_libraries_are_one_sentence_and_nothing_starts(tmp_path: Path) -> None:
    """On this machine, if the xcb plugin's libraries are missing (CI images often lack them):
    the real check, the real command, the xcb platform forced."""
    problem = preflight.qt_problem({"QT_QPA_PLATFORM": "xcb"}, sys.platform)
    if problem is None:
        pytest.skip("every library Qt's xcb plugin needs is installed here")
    env = {**child_env(tmp_path), "QT_QPA_PLATFORM": "xcb"}
    done = subprocess.run(
        [sys.executable, "-m", "medapp", "--demo"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr == f"medapp: {problem}\n"
    assert problem.startswith("Qt needs the system package") and "sudo apt install" in problem
    assert not (tmp_path / "data" / "demo-pgdata").exists()
    assert postgres_pids(tmp_path) == []


def test_a_qt_abort_at_start_leaves_no_private_server(tmp_path: Path) -> None:
    """Qt aborts the process when its platform plugin cannot start (no Python exception, no
    exit hooks): the application object is made before the private server is started."""
    env = {**child_env(tmp_path), "QT_QPA_PLATFORM": "no-such-platform"}
    done = subprocess.run(
        [sys.executable, "-m", "medapp", "--demo"], env=env, capture_output=True, text=True
    )
    assert done.returncode == -signal.SIGABRT, done.stderr[-1000:]
    assert not (tmp_path / "data" / "demo-pgdata").exists()
    assert postgres_pids(tmp_path) == []


def test_ordinary_commands_print_no_runtime_dir_warning(tmp_path: Path) -> None:
    env = child_env(tmp_path)
    env.pop("XDG_RUNTIME_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "medapp", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert os.path.isdir(tmp_path / "data" / "pgdata")
    assert wait_until_gone(tmp_path) == []


def test_sigterm_at_any_moment_of_a_server_start_leaves_nothing_running(tmp_path: Path) -> None:
    """Signals landing inside pgserver's start (initdb, pg_ctl, the readiness wait) or just
    after it: whatever the moment, the command ends and no server is left for the folder."""
    codes = []
    for offset in (0.0, 0.3, 0.8):
        home = tmp_path / f"run{offset}"
        proc = _start(["db", "current"], child_env(home))
        try:
            deadline = time.monotonic() + 120
            while not (home / "data" / "pgdata").exists() and proc.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            time.sleep(offset)
            proc.send_signal(signal.SIGTERM)
            proc.wait(120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        codes.append(proc.returncode)
        # -SIGTERM: the signal landed after the command had finished and stopped its server
        # (handlers are back to the default then); what matters is that nothing is left
        assert proc.returncode in (0, 128 + signal.SIGTERM, -signal.SIGTERM), proc.communicate()[1][
            -2000:
        ]
        assert wait_until_gone(home) == [], f"server left after a signal at +{offset}s"
    assert 128 + signal.SIGTERM in codes
