"""A :class:`Desk` for db tests: a user of the database acting through a session factory."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.outbox import Outbox
from medapp.cache.store import Cache
from medapp.db.models import User
from medapp.services.desk import Actor, Desk, Role, utc_now


def desk_for(
    sessions: sessionmaker[Session],
    user_id: uuid.UUID,
    *,
    now: dt.datetime | None = None,
    schools: Iterable[uuid.UUID] | None = None,
    role: Role = Role.NURSE,
    outbox: Outbox | None = None,
    cache: Cache | None = None,
    via: sessionmaker[Session] | None = None,
) -> Desk:
    """The desk of ``user_id`` (name and school read from ``users``), standing at ``now``;
    ``via``: the sessions the services use (e.g. an unreachable server), default ``sessions``."""
    with sessions() as s:
        user = s.get(User, user_id)
        assert user is not None, "no such user"
        school_ids = frozenset(schools if schools is not None else [user.school_id])
        actor = Actor(
            user.id,
            user.username,
            user.first_name,
            user.last_name,
            role,
            frozenset(x for x in school_ids if x is not None),
        )
    clock = (lambda: now) if now is not None else utc_now
    return Desk(via or sessions, actor, clock, cache, outbox)
