"""The one way medapp runs work off the GUI thread (after Anki's QueryOp / Vorta's workers).

    run_in_background(receiver, op=lambda: service(...), on_success=show, on_error=report)

``op`` runs on a QThreadPool thread and must not touch widgets; ``on_success`` / ``on_error``
run on the GUI thread. Pass plain dataclasses across, never live ORM objects (they would
lazy-load on the GUI thread).

Why one dispatcher: a pool thread must never emit on an object a widget owns — the GUI thread
may be deleting that widget at the same moment (that crashed the process: a segmentation fault
in the old per-widget relay's ``emit``). Every result instead goes through one QObject that
lives as long as the QApplication, on the GUI thread, via a queued signal. It hands the result
to the callbacks only if the receiver still exists (``shiboken6.isValid``); a token names the
callbacks. Nothing is ever deleted per task, so quitting a nested event loop (a dialog's
``exec()``, pytest-qt's ``waitSignal``) inside a callback is safe.

Errors always reach a handler: ``on_error=None`` means :func:`report_error` — the log (exception
type only: the text may carry PHI) and the receiver's banner — never "drop".

Widgets' own bookkeeping around background work lives here too, once: :class:`Latest` (only
the newest request's answer counts) and :func:`coalescing_timer` (many triggers, one reload).

Garbage collection runs on the GUI thread only (:class:`_GuiThreadCollector`, after calibre's
GarbageCollector): Python's cycle collector runs on whichever thread allocates past its
threshold, and a Qt wrapper freed there disconnects its signals from that thread. That
deadlocked a desk (a pool thread held Qt's connection mutex and waited for the GIL while the
GUI thread, holding the GIL, waited for the mutex in ``connect``). For the same reason a
task's closure — which may hold a pane — is released on the GUI thread, not the pool's.
"""

from __future__ import annotations

import gc
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

log = logging.getLogger(__name__)

T = TypeVar("T")
_DISPATCHER_NAME = "medappWorkerDispatcher"
_tokens = itertools.count(1)


@dataclass(frozen=True)
class _Pending:
    receiver: QObject
    on_success: Callable[[Any], None]
    on_error: Callable[[BaseException], None] | None


class _GuiThreadCollector(QObject):
    """Automatic collection off; the same generational thresholds checked on the GUI thread
    every :data:`GC_CHECK_MS` (a collection is a few milliseconds, between two events)."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName("medappGuiThreadCollector")
        self.thresholds = gc.get_threshold()
        self.last_full = time.monotonic()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(GC_CHECK_MS)
        self.destroyed.connect(_enable_gc)

    def check(self) -> None:
        counts = gc.get_count()
        now = time.monotonic()
        # A full collection walks every object the desk keeps (caches, Qt wrappers); CPython
        # itself runs one only when enough young objects have survived, which after the
        # start-up gc.freeze() would be nearly every time — so at most every FULL_GC_EVERY_S.
        if counts[2] > self.thresholds[2] and now - self.last_full >= FULL_GC_EVERY_S:
            gc.collect(2)
            self.last_full = now
            return
        for generation in (1, 0):  # the older generation due, which collects the younger
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return


#: how often the GUI thread checks whether a collection is due
GC_CHECK_MS = 250
#: the least time between two full collections
FULL_GC_EVERY_S = 30.0


def _enable_gc(*_args: object) -> None:
    gc.enable()


class _Dispatcher(QObject):
    """Lives on the GUI thread as a child of the QApplication; never deleted before it."""

    finished = Signal(int)  # the token of a task whose outcome waits in ``outcomes``

    def __init__(self, app: QObject) -> None:
        super().__init__(app)
        self.setObjectName(_DISPATCHER_NAME)
        self.collector = _GuiThreadCollector(self)
        self.pending: dict[int, _Pending] = {}
        #: token -> (succeeded, result or exception, the task's closure); filled on a pool thread
        #: that keeps no reference afterwards, emptied on the GUI thread — so whatever the
        #: outcome and the closure hold is released here, never on the pool thread
        self.outcomes: dict[int, tuple[bool, object, object]] = {}
        # Pool threads emit under this lock, and only while ``open``: once the application
        # goes away no thread emits on a deleted dispatcher.
        self.lock = threading.Lock()
        self.open = True
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.destroyed.connect(_close)
        app.destroyed.connect(_close)

    def _deliver(self, token: int) -> None:
        with self.lock:
            outcome = self.outcomes.pop(token, None)
        if outcome is None:
            return
        ok, value, _closure = outcome
        pending = self.pending.pop(token, None)
        if pending is None:
            return
        if not shiboken6.isValid(pending.receiver):
            log.debug("background result dropped: receiver gone")
            return
        if ok:
            pending.on_success(value)
        elif not isinstance(value, BaseException):  # cannot happen: _Task sends exceptions
            log.error("background task sent a non-exception error")
        elif pending.on_error is not None:
            pending.on_error(value)
        else:
            report_error(pending.receiver, value)

    def store(self, token: int, outcome: tuple[bool, object, object]) -> bool:
        """Called on a pool thread: keep the outcome for the GUI thread (False: the application
        is gone, nothing will take it)."""
        with self.lock:
            if not self.open:
                return False
            self.outcomes[token] = outcome
            return True

    def announce(self, token: int) -> None:
        """Called on a pool thread after :meth:`store`, holding no reference to the outcome."""
        with self.lock:
            if self.open:
                self.finished.emit(token)
            else:
                log.debug("background result dropped: application gone")


_dispatcher: _Dispatcher | None = None
_state_lock = threading.Lock()


def _close(*_args: object) -> None:
    dispatcher = _dispatcher
    if dispatcher is not None:
        with dispatcher.lock:
            dispatcher.open = False


def dispatcher() -> _Dispatcher:
    """The application's dispatcher, made on first use (on the GUI thread)."""
    global _dispatcher
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("run_in_background needs a QApplication")
    if QThread.currentThread() is not app.thread():
        raise RuntimeError("run_in_background is called on the GUI thread only")
    with _state_lock:
        current = _dispatcher
        if current is None or not shiboken6.isValid(current) or current.parent() is not app:
            current = _Dispatcher(app)
            _dispatcher = current
        return current


class _Task(QRunnable):
    def __init__(self, op: Callable[[], Any], target: _Dispatcher, token: int) -> None:
        super().__init__()
        self._op = op
        self._target = target
        self._token = token

    def run(self) -> None:
        op, self._op = self._op, _done  # the closure leaves with the result (see the module doc)
        outcome: tuple[bool, object, object]
        try:
            outcome = (True, op(), op)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the GUI as a value
            log.debug("background task ended with %s", type(exc).__name__)
            outcome = (False, exc, op)
        del op
        stored = self._target.store(self._token, outcome)
        del outcome  # from here the dispatcher holds the only reference
        if stored:
            self._target.announce(self._token)


def _done() -> None:
    return None


def run_in_background(
    receiver: QObject,
    op: Callable[[], T],
    on_success: Callable[[T], None],
    on_error: Callable[[BaseException], None] | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Run ``op`` on a worker; give its result to ``on_success`` (or its exception to
    ``on_error``, default :func:`report_error`) on the GUI thread — unless ``receiver`` (the
    widget the answer is for) was deleted meanwhile, in which case nothing runs."""
    target = dispatcher()
    token = next(_tokens)
    target.pending[token] = _Pending(receiver, on_success, on_error)
    (pool or QThreadPool.globalInstance()).start(_Task(op, target, token))


def pending_count() -> int:
    """Results not yet handed over (tests check nothing is left behind)."""
    return len(_dispatcher.pending) if _dispatcher is not None else 0


# --------------------------------------------------------------------------------------------
# The default error handler
# --------------------------------------------------------------------------------------------


def report_error(receiver: QObject, exc: BaseException) -> None:
    """Where an error goes when the caller named no handler: the log (type only — the message
    may name a student) and the nearest banner: the receiver's own, or that of the pane or
    dialog it sits in; failing that, the main window's status bar."""
    from medapp.services.students import friendly_error
    from medapp.ui.widgets.banner import Banner

    log.warning("background task failed: %s", type(exc).__name__)
    text = friendly_error(exc)
    node: QObject | None = receiver
    while node is not None:
        banner = getattr(node, "banner", None)
        if isinstance(banner, Banner) and shiboken6.isValid(banner):
            banner.error(text)
            return
        node = node.parent()
    window = receiver.window() if isinstance(receiver, QWidget) else None
    if isinstance(window, QMainWindow):
        window.statusBar().showMessage(text)


def log_only(what: str) -> Callable[[BaseException], None]:
    """An error handler for work the nurse is not waiting for (warming a cache, a snapshot):
    the failure is logged — type only — and nothing is shown. Never a silent ``lambda: None``."""

    def handler(exc: BaseException) -> None:
        log.warning("background %s failed: %s", what, type(exc).__name__)

    return handler


# --------------------------------------------------------------------------------------------
# Widgets' own bookkeeping
# --------------------------------------------------------------------------------------------


class Latest:
    """Only the newest request's answer counts: a pane that asks again (new search text, a
    refresh) ignores answers to its earlier questions, whichever order they arrive in."""

    def __init__(self) -> None:
        self.generation = 0

    def next(self) -> int:
        """A new request: earlier answers are now stale. Returns its generation."""
        self.generation += 1
        return self.generation

    def is_current(self, generation: int) -> bool:
        return generation == self.generation


def coalescing_timer(parent: QObject, ms: int, fn: Callable[[], None]) -> QTimer:
    """A single-shot timer owned by ``parent``: every ``start()`` restarts it, so a burst of
    triggers (keystrokes, change notices) runs ``fn`` once, ``ms`` after the last."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(fn)
    return timer
