"""Opening the desk safely: Qt first, one desk per user and data folder, quit on signals.

Order matters (``medapp`` with no command):

1. :func:`medapp.ui.preflight.qt_problem` — missing system libraries are one sentence, before
   Qt can abort the process;
2. the ``QApplication`` is created *before* the private database server is started, so if Qt
   still aborts (no display, a broken plugin) no PostgreSQL is left behind;
3. :class:`DeskInstance` — a second start hands a "raise" request to the running desk and exits
   (two desks on one outbox and one private server would fight over both);
4. then the database, then the window; :func:`quit_on_signals` turns SIGTERM/SIGINT/SIGHUP into
   a normal quit, so the usual shutdown path closes the window and stops the private server.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QSocketNotifier, Qt, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)

RAISE_REQUEST = b"raise\n"
ACK = b"ok\n"
REQUEST_WAIT_MS = 1000
QUIT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no name for this uid (containers): the uid will do
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def instance_key(data_dir: Path, *, demo: bool = False, user: str | None = None) -> str:
    """The local-socket name of the desk of ``user`` on ``data_dir`` (the demo is a desk of its
    own: it has its own database, cache and outbox). Hashed: names must be short and the folder
    is nobody else's business."""
    ident = "\0".join((user or _user(), str(data_dir.resolve()), "demo" if demo else "desk"))
    return "medapp-desk-" + hashlib.sha256(ident.encode()).hexdigest()[:20]


class DeskInstance(QObject):
    """The one desk of a user and data folder.

    A ``QLockFile`` in the data folder decides who is first (Qt removes a lock whose process is
    gone, so a crash never blocks the next start); the first desk then listens on a local socket
    (owner-only) for "raise" requests from later starts. The socket file of a crashed desk is
    removed by the next lock holder, who alone may listen."""

    raise_requested = Signal()

    def __init__(self, data_dir: Path, *, demo: bool = False, parent: QObject | None = None):
        super().__init__(parent)
        self.key = instance_key(data_dir, demo=demo)
        # the lock file is 0600 (umask); the folder's mode is left alone: a root-run private
        # server reaches its data folder through it as pgserver's own system user
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = QLockFile(str(data_dir / ("desk-demo.lock" if demo else "desk.lock")))
        self._lock.setStaleLockTime(0)  # held for the desk's whole life, however long
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True: this is the first desk (now listening). False: another desk holds the lock."""
        if not self._lock.tryLock(0):
            if self._lock.error() == QLockFile.LockError.LockFailedError:
                return False
            # cannot write the lock (read-only folder…): never keep a nurse from her desk
            log.warning("single-desk lock unavailable (%s)", self._lock.error().name)
            return True
        QLocalServer.removeServer(self.key)  # a crashed desk's socket file; we hold the lock
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.newConnection.connect(self._on_connection)
        if not server.listen(self.key):
            log.warning("single-desk channel unavailable: %s", server.errorString())
            return True
        self._server = server
        return True

    def _on_connection(self) -> None:
        """A later start connects and writes its request at once: read it here (a short wait
        at most), answer, hang up. No per-connection slots to outlive their socket."""
        assert self._server is not None
        while (conn := self._server.nextPendingConnection()) is not None:
            if conn.bytesAvailable() or conn.waitForReadyRead(REQUEST_WAIT_MS):
                data = bytes(conn.readAll().data())
                if RAISE_REQUEST.strip() in data:
                    log.info("another start of the desk asked this window to come to the front")
                    conn.write(ACK)
                    conn.waitForBytesWritten(REQUEST_WAIT_MS)
                    self.raise_requested.emit()
            conn.disconnectFromServer()
            conn.deleteLater()

    def notify_running(self, timeout_ms: int = 3000) -> bool:
        """Ask the running desk to come to the front; True when it answered."""
        sock = QLocalSocket()
        sock.connectToServer(self.key)
        if not sock.waitForConnected(timeout_ms):
            return False
        sock.write(RAISE_REQUEST)
        sock.waitForBytesWritten(timeout_ms)
        answered = sock.waitForReadyRead(timeout_ms) and ACK.strip() in bytes(sock.readAll().data())
        sock.disconnectFromServer()
        return answered

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()


def bring_to_front(window: QWidget) -> None:
    """Show a minimised or hidden window again and ask the window manager to focus it."""
    if window.isMinimized() or not window.isVisible():
        window.showNormal()
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.raise_()
    window.activateWindow()


@dataclass
class DeskStart:
    """What :func:`open_desk_app` found: the app and instance, or the other desk's answer."""

    app: QApplication
    instance: DeskInstance
    other_desk: str | None = None


def open_desk_app(data_dir: Path, *, demo: bool = False) -> DeskStart:
    """Steps 2 and 3 of the module docstring (the caller did step 1)."""
    from medapp.ui.app import make_app

    app = make_app()
    instance = DeskInstance(data_dir, demo=demo, parent=app)
    if instance.acquire():
        return DeskStart(app, instance)
    which = "the demo" if demo else "medapp"
    if instance.notify_running():
        said = f"{which} is already open on this PC for this user; its window was brought to the front."
    else:
        said = f"{which} is already starting on this PC for this user; its window will appear."
    return DeskStart(app, instance, other_desk=said)


def quit_on_signals(app: QApplication) -> Callable[[], None]:
    """SIGTERM, SIGINT and SIGHUP close the windows and end the event loop with 128 + signal.

    Python runs signal handlers only between bytecodes, and Qt's loop runs none while idle; the
    signal's wake-up byte on a socket pair (``signal.set_wakeup_fd``) wakes the loop through a
    socket notifier, and that Python slot lets the handler run. Returns a function restoring the
    previous handlers (the desk calls it after the loop)."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    try:
        previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main thread: nothing to install
        reader.close()
        writer.close()
        return lambda: None
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        try:
            while reader.recv(64):
                pass
        except OSError:
            pass

    notifier.activated.connect(drain)

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: closing the desk", signum)
        QTimer.singleShot(0, lambda: _quit(app, 128 + signum))

    previous = {sig: signal.signal(sig, on_signal) for sig in QUIT_SIGNALS}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        notifier.deleteLater()
        reader.close()
        writer.close()

    return restore


def _quit(app: QApplication, code: int) -> None:
    """The same path as closing the window (its close handler saves and stops), then the loop
    ends with ``code``; modal dialogs' loops end too."""
    app.closeAllWindows()
    app.exit(code)
