"""Change notifications between PCs: PostgreSQL ``LISTEN medapp_changes``.

Triggers (migration 0003) send one notification per statement and school with the payload
``<table>:<school id or *>``. A listener thread keeps its own autocommit connection, hands each
change to a callback (which drops cache entries and asks the GUI to refresh through a signal),
and reconnects with back-off when the server goes away — missed notifications while offline are
covered by the caller treating a reconnect as "everything may have changed".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine

log = logging.getLogger(__name__)

CHANNEL = "medapp_changes"
ANY_SCHOOL = "*"


@dataclass(frozen=True)
class Change:
    table: str
    school_id: str  # a UUID string, or "*" when the change is not tied to one school

    @classmethod
    def parse(cls, payload: str) -> Change | None:
        table, sep, school = payload.partition(":")
        if not sep or not table:
            return None
        return cls(table=table, school_id=school or ANY_SCHOOL)


RECONNECTED = Change(table="*", school_id=ANY_SCHOOL)


def libpq_dsn(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeListener:
    """Background thread delivering :class:`Change` objects to ``on_change``."""

    def __init__(
        self, engine: Engine, on_change: Callable[[Change], None], *, poll_s: float = 1.0
    ) -> None:
        self._dsn = libpq_dsn(engine)
        self._on_change = on_change
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="medapp-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        backoff = 1.0
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    if not first:
                        self._deliver(RECONNECTED)
                    first = False
                    backoff = 1.0
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=self._poll_s):
                            change = Change.parse(note.payload)
                            if change is not None:
                                self._deliver(change)
            except psycopg.Error as exc:
                log.info(
                    "change listener disconnected (%s); retrying in %.0f s",
                    type(exc).__name__,
                    backoff,
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)

    def _deliver(self, change: Change) -> None:
        try:
            self._on_change(change)
        except Exception:  # noqa: BLE001 - a faulty subscriber must not kill the listener
            log.exception("change callback failed")


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Small polling helper for tests and the CLI."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
