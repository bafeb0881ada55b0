"""Who may use the desk: sign-in, first-run account, re-authentication, and the idle lock.

The window never decides who someone is: it asks a :class:`Gatekeeper`, whose callables are the
accounts service (on the district server the sign-in *is* a connection as the nurse's own
PostgreSQL role; on the private database her argon2 hash is checked and the connection takes
her role). Keeping those as plain callables lets the window run on either, and lets tests give
the real service on a real database.

:class:`IdleWatcher` watches the application's input events and says ``idle`` after a quiet
period (10 minutes by default, ``desk/lock_minutes`` in the settings or ``MEDAPP_LOCK_MINUTES``);
the window then hides every record behind the lock page until the same nurse types her password
again or someone else signs in.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QApplication

from medapp.db.engine import Database
from medapp.services.desk import Actor

DEFAULT_LOCK_MINUTES = 10.0
#: input events that mean "someone is at the desk"
_ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class SignedInLike(Protocol):
    """What a successful sign-in returns: her own database connection and who she is."""

    db: Database
    actor: Actor


@dataclass
class Gatekeeper:
    """The accounts service as the window needs it.

    * ``sign_in(username, password)`` → her Database and Actor, or raises with one sentence;
    * ``verify(username, password)`` → the Actor (unlock, witness), or raises;
    * ``needs_first_admin()`` → True on a private database that has no account yet;
    * ``create_first_admin(username, first_name, last_name, password, school_name)``;
    * ``demo_hint``: shown on the sign-in screen of the demo (its accounts and password).
    """

    sign_in: Callable[[str, str], Any]
    verify: Callable[[str, str], Actor]
    needs_first_admin: Callable[[], bool] = lambda: False
    create_first_admin: Callable[[str, str, str, str, str], Any] | None = None
    demo_hint: str | None = None


def lock_minutes() -> float:
    """Minutes of inactivity before the desk locks (0 or less: never)."""
    env = os.environ.get("MEDAPP_LOCK_MINUTES", "").strip()
    raw: object = env or QSettings().value("desk/lock_minutes", DEFAULT_LOCK_MINUTES)
    try:
        return float(str(raw))
    except ValueError:
        return DEFAULT_LOCK_MINUTES


class IdleWatcher(QObject):
    """Emits ``idle`` once after ``minutes`` without keyboard, mouse or touch input.

    The timer is restarted at most once a second (mouse moves arrive by the hundred), so the
    filter costs nothing measurable; ``pause()``/``resume()`` stop it while the desk is locked.
    """

    idle = Signal()

    def __init__(self, minutes: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("idleWatcher")
        self._timer = QTimer(self)
        self._timer.setObjectName("idleTimer")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self._last_restart = 0.0
        self.set_minutes(minutes)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def set_minutes(self, minutes: float) -> None:
        self.minutes = minutes
        self._timer.setInterval(max(1, min(int(minutes * 60_000), 2**31 - 1)))

    def resume(self) -> None:
        if self.minutes > 0:
            self._timer.start()
            self._last_restart = time.monotonic()

    def pause(self) -> None:
        self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in _ACTIVITY and self._timer.isActive():
            now = time.monotonic()
            if now - self._last_restart >= 1.0:
                self._last_restart = now
                self._timer.start()
        return False

    def stop(self) -> None:
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
