"""What every pane and dialog gets: the database, the cache, the outbox, who is at the desk,
and one signal hub through which changes (from this PC or, via NOTIFY, from others) arrive
on the GUI thread."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from medapp.cache.outbox import Outbox
from medapp.cache.store import FORMULARY_TAG, INVENTORY_TAG, Cache, school_tag
from medapp.db.engine import Database
from medapp.db.notify import ANY_SCHOOL, Change, ChangeListener
from medapp.services.desk import AccessDenied, Actor, Desk, Role

log = logging.getLogger(__name__)


class Hub(QObject):
    """Signals are emitted from any thread; Qt queues them to receivers on the GUI thread."""

    #: table name, school id ("*" when not tied to one school)
    data_changed = Signal(str, str)
    #: the same change's row ids (a tuple of id strings), emitted just before its
    #: ``data_changed`` when the notification named them: a list may patch those rows
    rows_changed = Signal(str, str, object)
    #: True when the database answers, False when it does not
    connection_changed = Signal(bool)
    #: the user at the desk changed: (user id, display name)
    user_changed = Signal(str, str)


@dataclass
class AppContext:
    db: Database
    cache: Cache
    outbox: Outbox
    school_id: uuid.UUID | None = None
    school_name: str = ""
    school_timezone: str = "America/New_York"
    user_id: uuid.UUID | None = None
    user_name: str = ""
    hub: Hub = field(default_factory=Hub)
    #: "now" for rules and lists; None is the wall clock. Tests stand on a school day with it.
    clock: Callable[[], dt.datetime] | None = None
    #: the signed-in user as the server knows her (set by sign-in)
    actor: Actor | None = None
    #: checks someone's own password now (the witness); set by sign-in to ``SignedIn.verify``
    check_password: Callable[[str, str], Actor] | None = None
    _listener: ChangeListener | None = None

    @property
    def desk(self) -> Desk:
        """The service layer's calling convention for whoever is signed in at this desk.

        The app's sign-in always sets ``actor`` (read from the server on her own connection). A
        context built directly with only ``user_id`` (tests, tools on a private database) acts
        as a nurse of its school — the database still decides what that connection may do."""
        actor = self.actor
        if actor is None and self.user_id is not None:
            first, _, last = self.user_name.partition(" ")
            schools = frozenset({self.school_id}) if self.school_id is not None else frozenset()
            actor = Actor(self.user_id, "", first, last, Role.NURSE, schools)
        if actor is None:
            raise AccessDenied("Nobody is signed in at this desk.")
        return Desk(self.db.sessions, actor, self.now, self.cache, self.outbox, self.check_password)

    def now(self) -> dt.datetime:
        return self.clock() if self.clock is not None else dt.datetime.now(dt.UTC)

    def set_user(self, user_id: uuid.UUID, name: str, actor: Actor | None = None) -> None:
        self.user_id, self.user_name, self.actor = user_id, name, actor
        self.hub.user_changed.emit(str(user_id), name)

    def announce_change(self, table: str, school_id: str = ANY_SCHOOL) -> None:
        """Called after this PC writes: drop dependent cache entries, tell the panes."""
        self._evict(Change(table, school_id))
        self.hub.data_changed.emit(table, school_id)

    def start_listening(self) -> None:
        """Changes from other PCs: NOTIFY → cache eviction → ``hub.data_changed``."""
        if self._listener is not None:
            return

        def on_change(change: Change) -> None:  # runs on the listener thread
            self._evict(change)
            if change.row_ids:
                self.hub.rows_changed.emit(change.table, change.school_id, change.row_ids)
            self.hub.data_changed.emit(change.table, change.school_id)

        self._listener = ChangeListener(self.db.engine, on_change)
        self._listener.start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    def _evict(self, change: Change) -> None:
        if change.table == "*":  # reconnected: anything may have changed
            self.cache.clear()
        elif change.table in ("medications", "medication_packages"):
            self.cache.evict_tag(FORMULARY_TAG)
        elif change.table in ("medication_inventory", "inventory_adjustments"):
            self.cache.evict_tag(INVENTORY_TAG)
        elif change.school_id != ANY_SCHOOL:
            self.cache.evict_tag(school_tag(change.school_id))
        else:
            self.cache.clear()
