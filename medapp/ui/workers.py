"""The one way medapp runs work off the GUI thread (after Anki's QueryOp / Picard's thread.run).

    run_in_background(parent, op=lambda: service(...), on_success=show, on_error=report)

``op`` runs on a QThreadPool thread and must not touch widgets; ``on_success`` / ``on_error``
run on the GUI thread. If ``parent`` is destroyed first, the result is dropped. Pass plain
dataclasses across, never live ORM objects (they would lazy-load on the GUI thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the GUI thread; queued signals carry the result back to it."""

    succeeded = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, op: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._op = op
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._op()
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the GUI as a message
            log.warning("background task failed: %s", type(exc).__name__)
            self._emit(self._relay.failed, exc)
        else:
            self._emit(self._relay.succeeded, result)

    @staticmethod
    def _emit(signal: Any, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the receiving window was closed meanwhile: drop the result
            log.debug("background result dropped: receiver gone")


_live_relays: set[_Relay] = set()


def run_in_background(
    parent: QObject,
    op: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None = None,
    pool: QThreadPool | None = None,
) -> None:
    relay = _Relay(parent)
    _live_relays.add(relay)

    @Slot(object)
    def _done(result: Any) -> None:
        _live_relays.discard(relay)
        relay.deleteLater()
        on_success(result)

    @Slot(object)
    def _failed(exc: BaseException) -> None:
        _live_relays.discard(relay)
        relay.deleteLater()
        if on_error is not None:
            on_error(exc)

    relay.succeeded.connect(_done)
    relay.failed.connect(_failed)
    (pool or QThreadPool.globalInstance()).start(_Task(op, relay))
