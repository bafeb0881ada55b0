"""The one way medapp runs work off the GUI thread (after Anki's QueryOp / Picard's thread.run).

    run_in_background(parent, op=lambda: service(...), on_success=show, on_error=report)

``op`` runs on a QThreadPool thread and must not touch widgets; ``on_success`` / ``on_error``
run on the GUI thread. If ``parent`` is destroyed first, the result is dropped. Pass plain
dataclasses across, never live ORM objects (they would lazy-load on the GUI thread).

Each parent gets one long-lived relay object (a hidden child) that carries every result back
with a token naming its callbacks. Relays are never deleted per task: under PySide 6.12,
deleting a per-task relay after its slot had quit a nested event loop (a dialog's ``exec()``,
pytest-qt's ``waitSignal``) crashed the process.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

log = logging.getLogger(__name__)

_RELAY_NAME = "medappWorkerRelay"
_tokens = itertools.count(1)

Callbacks = tuple[Callable[[Any], None], Callable[[BaseException], None] | None]


class _Relay(QObject):
    """Lives on the GUI thread as a child of the caller; queued signals bring results to it."""

    finished = Signal(int, bool, object)  # token, succeeded, result or exception

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName(_RELAY_NAME)
        self.pending: dict[int, Callbacks] = {}
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def _deliver(self, token: int, ok: bool, value: object) -> None:
        callbacks = self.pending.pop(token, None)
        if callbacks is None:
            return
        on_success, on_error = callbacks
        if ok:
            on_success(value)
        elif on_error is not None:
            on_error(value)  # type: ignore[arg-type]


def _relay_for(parent: QObject) -> _Relay:
    relay = parent.findChild(_Relay, _RELAY_NAME, Qt.FindChildOption.FindDirectChildrenOnly)
    return relay if isinstance(relay, _Relay) else _Relay(parent)


class _Task(QRunnable):
    def __init__(self, op: Callable[[], Any], relay: _Relay, token: int) -> None:
        super().__init__()
        self._op = op
        self._relay = relay
        self._token = token

    def run(self) -> None:
        try:
            result = self._op()
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the GUI as a value
            log.debug("background task ended with %s", type(exc).__name__)
            self._emit(False, exc)
        else:
            self._emit(True, result)

    def _emit(self, ok: bool, value: object) -> None:
        try:
            self._relay.finished.emit(self._token, ok, value)
        except RuntimeError:  # the receiving window was closed meanwhile: drop the result
            log.debug("background result dropped: receiver gone")


def run_in_background(
    parent: QObject,
    op: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None = None,
    pool: QThreadPool | None = None,
) -> None:
    relay = _relay_for(parent)
    token = next(_tokens)
    relay.pending[token] = (on_success, on_error)
    (pool or QThreadPool.globalInstance()).start(_Task(op, relay, token))
