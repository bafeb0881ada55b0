"""Change notifications between PCs: PostgreSQL ``LISTEN medapp_changes``.

Triggers (migrations 0003, 0006) send one notification per statement and school with the payload
``<table>:<school id or *>[:<row id>,<row id>…]``: the row ids (of ``medication_logs``,
``student_medications``, ``allergies``, ``adverse_reactions``) let a desk patch what it shows
instead of reloading everything; a statement that touches more rows than fit in a notification
(:data:`MAX_IDS`) sends no ids, which means "reload this school's list". A listener thread keeps its own autocommit connection, hands each
change to a callback (which drops cache entries and asks the GUI to refresh through a signal),
and reconnects with back-off when the server goes away — missed notifications while offline are
covered by the caller treating a reconnect as "everything may have changed".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine

log = logging.getLogger(__name__)

CHANNEL = "medapp_changes"
ANY_SCHOOL = "*"
#: how the listener's connection shows in pg_stat_activity (IT counts a desk's connections)
APPLICATION_NAME = "medapp-listen"
#: at most this many row ids in one notification (37 bytes each: well under PostgreSQL's 8000
#: byte payload limit); migration 0006 sends none past it
MAX_IDS = 100


@dataclass(frozen=True)
class Change:
    table: str
    school_id: str  # a UUID string, or "*" when the change is not tied to one school
    #: the changed rows' ids; empty: not known (an old server, a bulk statement) — reload all.
    #: Not part of equality: a change of a table and school is the same change, ids or not.
    row_ids: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, payload: str) -> Change | None:
        table, sep, rest = payload.partition(":")
        if not sep or not table:
            return None
        school, _, ids = rest.partition(":")
        row_ids = tuple(i for i in ids.split(",") if i) if ids else ()
        return cls(table=table, school_id=school or ANY_SCHOOL, row_ids=row_ids)

    @property
    def patchable(self) -> bool:
        """True when the ids say exactly which rows changed (a desk may patch, not reload)."""
        return bool(self.row_ids)


def coalesce(changes: Iterable[Change]) -> list[Change]:
    """A burst of changes as one per (table, school), in first-seen order: the row ids are
    merged, and one change without ids (reload all) makes the merged change one without ids.
    A reconnect (``table == "*"``) swallows everything: the caller reloads all anyway."""
    merged: dict[tuple[str, str], tuple[Change, set[str] | None, list[str]]] = {}
    for change in changes:
        if change.table == "*":
            return [RECONNECTED]
        key = (change.table, change.school_id)
        entry = merged.get(key)
        if entry is None:
            ids: set[str] | None = set(change.row_ids) if change.row_ids else None
            merged[key] = (change, ids, list(dict.fromkeys(change.row_ids)))
            continue
        first, seen, order = entry
        if seen is None or not change.row_ids:
            merged[key] = (first, None, [])
            continue
        for row_id in change.row_ids:
            if row_id not in seen:
                seen.add(row_id)
                order.append(row_id)
    return [
        Change(first.table, first.school_id, tuple(order) if seen is not None else ())
        for first, seen, order in merged.values()
    ]


class Coalescer:
    """Collects changes from the listener thread; :meth:`drain` hands the burst over, merged
    (the GUI drains it on a short timer, a simulated desk before each refresh)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Change] = []

    def add(self, change: Change) -> None:
        with self._lock:
            self._pending.append(change)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def drain(self) -> list[Change]:
        with self._lock:
            pending, self._pending = self._pending, []
        return coalesce(pending)


RECONNECTED = Change(table="*", school_id=ANY_SCHOOL)


def libpq_dsn(engine: Engine) -> str:
    """The engine's address as libpq keywords (not a URL: a password with a space, '@' or '/'
    would make the URL unreadable to libpq and the listener would never connect)."""
    url = engine.url
    params: dict[str, str | int | None] = {
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
        "user": url.username,
        "password": url.password,
    }
    for key, value in url.query.items():  # e.g. host=/socket/folder of the private server
        params[key] = str(value[-1] if isinstance(value, tuple) else value)
    return make_conninfo("", **{k: v for k, v in params.items() if v not in (None, "")})


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
                with psycopg.connect(
                    self._dsn, autocommit=True, connect_timeout=5, application_name=APPLICATION_NAME
                ) as conn:
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
