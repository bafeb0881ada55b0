"""Opening the desk: the Qt library check (pure), one desk per user and data folder (a real
lock file, a real local socket, a real second ``medapp`` process)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QDir

from medapp.ui import preflight
from medapp.ui.startup import DeskInstance, instance_key

REPO_ROOT = Path(__file__).resolve().parents[2]


# -- Qt's system libraries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb;wayland"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb:nomitshm"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_which_starts_need_the_xcb_libraries(environ, platform, expected) -> None:  # noqa: ANN001
    assert preflight.uses_xcb(environ, platform) is expected


def test_the_missing_cursor_library_is_named_in_one_sentence() -> None:
    def lookup(soname: str) -> bool:
        return soname != "libxcb-cursor.so.0"

    problem = preflight.qt_problem({}, "linux", lookup)
    assert problem == (
        "Qt needs the system package libxcb-cursor0: sudo apt install libxcb-cursor0"
    )


def test_several_missing_packages_each_once_in_table_order() -> None:
    missing = {"libxcb-keysyms.so.1", "libxcb-cursor.so.0", "libxcb-icccm.so.4"}
    problem = preflight.qt_problem({"QT_QPA_PLATFORM": "xcb"}, "linux", lambda s: s not in missing)
    assert problem == (
        "Qt needs the system packages libxcb-cursor0, libxcb-icccm4 and libxcb-keysyms1: "
        "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"
    )
    assert preflight.qt_problem({}, "linux", lambda _s: True) is None
    assert preflight.qt_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", lambda _s: False) is None


def test_the_real_lookup_finds_the_c_library_and_not_a_made_up_one() -> None:
    assert preflight.can_load("libc.so.6")
    assert not preflight.can_load("libmedapp-no-such-library.so.7")


# -- one desk per user and data folder ------------------------------------------------------


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDAPP_")}
    for name in ("CONFIG", "DATA", "CACHE", "LOG"):
        env[f"MEDAPP_{name}_DIR"] = str(tmp_path / name.lower())
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def test_instance_keys_differ_by_user_folder_and_demo(tmp_path: Path) -> None:
    key = instance_key(tmp_path, user="nurse")
    assert key == instance_key(tmp_path / ".", user="nurse")
    assert key != instance_key(tmp_path, user="other")
    assert key != instance_key(tmp_path / "x", user="nurse")
    assert key != instance_key(tmp_path, user="nurse", demo=True)
    assert len(key) < 40 and str(tmp_path) not in key


def test_a_second_medapp_start_raises_the_first_and_exits(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    first = DeskInstance(tmp_path / "data")
    try:
        assert first.acquire()
        with qtbot.waitSignal(first.raise_requested, timeout=120_000):
            second = subprocess.Popen(
                [sys.executable, "-m", "medapp"],
                env=_env(tmp_path),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        out, err = second.communicate(timeout=120)
    finally:
        first.release()
    assert second.returncode == 0, err
    assert out.strip() == (
        "medapp is already open on this PC for this user; its window was brought to the front."
    )
    assert not (tmp_path / "data" / "pgdata").exists(), "the second start touched no database"


def test_the_demo_is_a_desk_of_its_own(tmp_path: Path) -> None:
    desk, demo = DeskInstance(tmp_path), DeskInstance(tmp_path, demo=True)
    try:
        assert desk.acquire() and demo.acquire()
        assert not DeskInstance(tmp_path).acquire()
    finally:
        desk.release()
        demo.release()
    again = DeskInstance(tmp_path)
    assert again.acquire()
    again.release()


def test_a_crashed_desk_leaves_neither_lock_nor_socket_in_the_way(tmp_path: Path) -> None:
    """A desk killed with SIGKILL: its lock names a dead process, its socket file is left."""
    crashed = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from PySide6.QtCore import QCoreApplication
        from medapp.ui.startup import DeskInstance
        app = QCoreApplication([])
        desk = DeskInstance(Path(sys.argv[1]))
        assert desk.acquire()
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run(
        [sys.executable, "-c", crashed, str(tmp_path)], env=_env(tmp_path), timeout=120
    )
    assert killed.returncode == -9
    assert (tmp_path / "desk.lock").exists()
    leftover = Path(QDir.tempPath()) / instance_key(tmp_path)
    if not leftover.exists():  # make sure a socket file is in the way, whatever Qt did
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(leftover))
        sock.close()
    desk = DeskInstance(tmp_path)
    try:
        assert desk.acquire()
        assert desk._server is not None and desk._server.isListening()
    finally:
        desk.release()


def test_an_answered_raise_request_reaches_the_window_handler(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QWidget

    from medapp.ui.startup import bring_to_front

    window = QWidget()
    qtbot.addWidget(window)
    window.showMinimized()
    desk = DeskInstance(tmp_path)
    try:
        assert desk.acquire()
        desk.raise_requested.connect(lambda: bring_to_front(window))
        with qtbot.waitSignal(desk.raise_requested, timeout=10_000):
            other = DeskInstance(tmp_path)
            assert not other.acquire()
            # the answer needs this loop: ask from a socket without blocking it
            from PySide6.QtNetwork import QLocalSocket

            sock = QLocalSocket()
            sock.connectToServer(desk.key)
            assert sock.waitForConnected(5000)
            sock.write(b"raise\n")
            sock.flush()
        assert not window.isMinimized()
        assert window.isVisible()
    finally:
        desk.release()
