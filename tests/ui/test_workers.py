"""The background-work dispatcher: results reach live receivers on the GUI thread, never a
deleted one (the crash the per-widget relays had), and errors always reach a handler."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QThreadPool, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget
from sqlalchemy import create_engine, text

from medapp.ui.widgets.banner import Banner
from medapp.ui.workers import Latest, dispatcher, log_only, pending_count, run_in_background

ROUNDS = 20
TASKS = 50


@pytest.fixture
def pool() -> Iterator[QThreadPool]:
    """A pool of its own, so these tests never starve the panes' pool (and are waited for)."""
    own = QThreadPool()
    own.setMaxThreadCount(8)
    yield own
    own.waitForDone(10_000)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_deferred_deletes() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


class Pane(QWidget):
    """A pane as the app builds them: a banner above its content."""

    def __init__(self) -> None:
        super().__init__()
        self.banner = Banner("testBanner")
        QVBoxLayout(self).addWidget(self.banner)


def test_results_arrive_on_the_gui_thread(qtbot, pool: QThreadPool) -> None:  # noqa: ANN001
    widget = QWidget()
    qtbot.addWidget(widget)
    seen: list[tuple[int, str]] = []
    for n in range(10):
        run_in_background(
            widget,
            lambda n=n: n * n,
            lambda value: seen.append((value, threading.current_thread().name)),
            pool=pool,
        )
    qtbot.waitUntil(lambda: len(seen) == 10, timeout=10_000)
    assert sorted(v for v, _t in seen) == [n * n for n in range(10)]
    assert {t for _v, t in seen} == {"MainThread"}
    assert dispatcher().parent() is QCoreApplication.instance()


def test_a_deleted_widget_gets_no_callback_and_the_process_survives(
    qtbot,  # noqa: ANN001
    pool: QThreadPool,
) -> None:
    """The old crash: pool threads finishing while the GUI thread deletes the widget they
    answer. Many rounds; in each, tasks end before, during and after the deletion."""
    baseline = pending_count()
    violations: list[int] = []
    delivered = 0
    for round_ in range(ROUNDS):
        widget = QWidget()
        gone = {"yes": False}
        widget.destroyed.connect(lambda *_a, g=gone: g.update(yes=True))
        release = threading.Event()

        def on_result(_value: object, g: dict[str, bool] = gone, r: int = round_) -> None:
            nonlocal delivered
            delivered += 1
            if g["yes"]:
                violations.append(r)

        for n in range(TASKS):
            slow = n % 2 == 0  # half end at once, half only after the widget is gone
            run_in_background(
                widget,
                lambda slow=slow, ev=release: ev.wait(5) if slow else None,
                on_result,
                on_result,
                pool=pool,
            )
        QCoreApplication.processEvents()  # some quick answers may land while it still lives
        widget.deleteLater()
        process_deferred_deletes()
        assert gone["yes"]
        release.set()
        pool.waitForDone(10_000)
        QCoreApplication.processEvents()
    qtbot.waitUntil(lambda: pending_count() == baseline, timeout=10_000)
    assert violations == []
    assert delivered < ROUNDS * TASKS  # the answers after deletion really were dropped


def test_deleting_the_widget_inside_a_nested_event_loop(qtbot, pool: QThreadPool) -> None:  # noqa: ANN001
    """A callback quits a nested loop (a dialog's exec, pytest-qt's waitSignal) and deletes its
    own widget there; the answers still on their way are dropped, nothing crashes."""
    baseline = pending_count()
    for _round in range(ROUNDS):
        widget = QWidget()
        calls: list[int] = []
        loop = QEventLoop()

        def first(
            value: int, w: QWidget = widget, c: list[int] = calls, lp: QEventLoop = loop
        ) -> None:
            c.append(value)
            if len(c) == 1:
                w.deleteLater()
                lp.quit()

        for n in range(TASKS):
            run_in_background(widget, lambda n=n: n, first, pool=pool)
        QTimer.singleShot(5_000, loop.quit)  # bound: never hang the suite
        loop.exec()
        process_deferred_deletes()
        assert not shiboken6.isValid(widget)
        pool.waitForDone(10_000)
        QCoreApplication.processEvents()
        assert len(calls) >= 1
        after = len(calls)
        QCoreApplication.processEvents()
        assert len(calls) == after  # nothing more once it is gone
    qtbot.waitUntil(lambda: pending_count() == baseline, timeout=10_000)


def test_an_error_without_a_handler_reaches_the_banner(
    qtbot,  # noqa: ANN001
    pool: QThreadPool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``on_error=None`` is the default handler, never "drop": the log names the exception
    type only, and the receiver's pane shows the nurse's sentence in its banner."""
    pane = Pane()
    qtbot.addWidget(pane)
    pane.show()
    inner = QWidget(pane)  # a widget inside the pane: its pane's banner is used
    url = f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/none?connect_timeout=3"

    def query() -> object:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return conn.execute(text("select 1")).scalar()
        finally:
            engine.dispose()

    done: list[object] = []
    with caplog.at_level("WARNING", logger="medapp.ui.workers"):
        run_in_background(inner, query, done.append, pool=pool)
        qtbot.waitUntil(lambda: pane.banner.isVisible(), timeout=10_000)
    assert done == []
    assert pane.banner.kind == "error"
    assert "database did not answer" in pane.banner.text
    assert [r.getMessage() for r in caplog.records] == ["background task failed: OperationalError"]
    assert "127.0.0.1" not in caplog.text  # the exception text stays out of the log


def test_latest_ignores_older_answers() -> None:
    latest = Latest()
    first = latest.next()
    second = latest.next()
    assert latest.is_current(second) and not latest.is_current(first)


def test_log_only_logs_the_type_and_shows_nothing(
    qtbot,  # noqa: ANN001
    pool: QThreadPool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pane = Pane()
    qtbot.addWidget(pane)

    def fail() -> None:
        raise LookupError("Ada Lovelace is not on the list")

    with caplog.at_level("WARNING", logger="medapp.ui.workers"):
        run_in_background(pane, fail, lambda _v: None, log_only("warm-up"), pool=pool)
        qtbot.waitUntil(lambda: bool(caplog.records), timeout=10_000)
    assert caplog.records[0].getMessage() == "background warm-up failed: LookupError"
    assert "Lovelace" not in caplog.text and pane.banner.isHidden()


class _Witness:
    """Records on which thread it was freed."""

    def __init__(self, freed_on: list[str]) -> None:
        self.freed_on = freed_on
        self.me = self  # a cycle: only the cycle collector frees it

    def __del__(self) -> None:
        self.freed_on.append(threading.current_thread().name)


def test_cycles_are_collected_on_the_gui_thread_only(qtbot) -> None:  # noqa: ANN001
    """A Qt wrapper freed by the cycle collector on a pool thread deadlocked a desk (the pool
    thread held Qt's connection mutex and waited for the GIL that the GUI thread held while
    waiting for the mutex). So collections happen on the GUI thread, whatever allocates."""
    widget = QWidget()
    qtbot.addWidget(widget)
    freed_on: list[str] = []
    done: list[int] = []

    def allocate() -> int:
        for _ in range(20_000):  # far past the youngest generation's threshold
            _Witness(freed_on)
        return len(freed_on)

    run_in_background(widget, allocate, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    qtbot.waitUntil(lambda: len(freed_on) >= 20_000, timeout=10_000)
    # all of them, whenever it happened (the GUI thread's timer may even run between the pool
    # thread's allocations): never on the pool thread
    assert set(freed_on) == {threading.main_thread().name}


def test_a_tasks_closure_is_released_on_the_gui_thread(qtbot) -> None:  # noqa: ANN001
    widget = QWidget()
    qtbot.addWidget(widget)
    for _round in range(20):
        freed_on: list[str] = []
        held = _Witness(freed_on)
        held.me = None  # no cycle: freed as soon as the last reference goes
        results: list[object] = []
        run_in_background(widget, lambda h=held: h is not None, results.append)
        del held
        qtbot.waitUntil(lambda r=results, f=freed_on: bool(r) and bool(f), timeout=5_000)
        assert freed_on == [threading.main_thread().name]
