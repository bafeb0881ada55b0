"""The one calling convention of the service layer: a :class:`Desk` (who acts, through which
database sessions, at what time, with which cache and outbox).

Why one object: every use case must know *who* is acting, so that it can refuse what her role
or her schools do not allow with one clear sentence before the server's row-level security
refuses it with an error code. Passing sessions, clock, cache and user separately let call
sites forget the user (``student_card`` and ``school_schedule`` took no caller at all). The UI
builds one Desk after sign-in and hands it to every service; jobs use the same Desk. The
services open their own sessions from ``desk.sessions``: the UI never opens a session itself.

The role rules here mirror the database's (``migrations/versions/0005_roles_rls_audit.py``):
the server is the authority, these checks are the courtesy that explains a refusal.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:  # pragma: no cover - typing only
    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache

__all__ = [
    "AccessDenied",
    "Actor",
    "Desk",
    "Role",
    "auditor_desk",
    "utc_now",
]


class Role(StrEnum):
    """What a signed-in user may do (``users.role``; the database role group ``medapp_<role>``).

    * NURSE: sees and changes the students, orders, dose logs, allergies, incidents, reactions
      and stock of her own school(s);
    * LEAD_NURSE: the same for her list of schools, and reads the history (audit) of them;
    * DISTRICT_ADMIN: users, schools and the formulary; no student data at all;
    * AUDITOR: reads everything, including the audit trail; changes nothing.
    """

    NURSE = "NURSE"
    LEAD_NURSE = "LEAD_NURSE"
    DISTRICT_ADMIN = "DISTRICT_ADMIN"
    AUDITOR = "AUDITOR"

    @property
    def label(self) -> str:
        return {
            Role.NURSE: "Nurse",
            Role.LEAD_NURSE: "Lead nurse",
            Role.DISTRICT_ADMIN: "District administrator",
            Role.AUDITOR: "Auditor",
        }[self]

    @classmethod
    def parse(cls, text: str) -> Role:
        """``nurse``/``lead_nurse``/``district-admin``/``AUDITOR`` → Role; ValueError otherwise."""
        key = (text or "").strip().upper().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            allowed = ", ".join(r.value.lower() for r in cls)
            raise ValueError(f"Unknown role '{text}'; use one of {allowed}.") from None


#: Roles that may record and change clinical data (doses, reactions, allergies, stock).
CLINICAL_WRITERS = frozenset({Role.NURSE, Role.LEAD_NURSE})
#: Roles that may read student data (the auditor reads every school).
STUDENT_READERS = frozenset({Role.NURSE, Role.LEAD_NURSE, Role.AUDITOR})
#: Roles that may read the audit trail ("History…").
HISTORY_READERS = frozenset({Role.LEAD_NURSE, Role.AUDITOR})
#: Roles that manage users, schools and the formulary.
ADMINISTRATORS = frozenset({Role.DISTRICT_ADMIN})


class AccessDenied(PermissionError):
    """The acting user may not do this; the message is one sentence for her."""


@dataclass(frozen=True)
class Actor:
    """The signed-in user, as the server knows her (loaded from ``users`` and ``user_schools``
    on her own connection, never taken from what the client remembers)."""

    user_id: uuid.UUID
    username: str
    first_name: str
    last_name: str
    role: Role
    school_ids: frozenset[uuid.UUID] = frozenset()
    is_active: bool = True

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.username

    @property
    def initials(self) -> str:
        return (self.first_name[:1] + self.last_name[:1]).upper() or self.username[:2].upper()

    def sees_school(self, school_id: uuid.UUID | None) -> bool:
        """May read this school's student data."""
        if not self.is_active or self.role not in STUDENT_READERS:
            return False
        return self.role is Role.AUDITOR or (school_id is not None and school_id in self.school_ids)

    def writes_school(self, school_id: uuid.UUID | None) -> bool:
        """May change this school's clinical data."""
        return (
            self.is_active
            and self.role in CLINICAL_WRITERS
            and school_id is not None
            and school_id in self.school_ids
        )

    # -- checks that raise one sentence -------------------------------------------------------

    def require_active(self) -> None:
        if not self.is_active:
            raise AccessDenied(
                f"The account '{self.username}' is disabled; ask district IT to enable it."
            )

    def require_read(self, school_id: uuid.UUID | None, what: str = "this student") -> None:
        self.require_active()
        if not self.sees_school(school_id):
            raise AccessDenied(self._not_allowed(f"see {what}"))

    def require_write(self, school_id: uuid.UUID | None, what: str = "record this") -> None:
        self.require_active()
        if not self.writes_school(school_id):
            raise AccessDenied(self._not_allowed(what))

    def require_role(self, roles: Iterable[Role], what: str) -> None:
        self.require_active()
        if self.role not in frozenset(roles):
            raise AccessDenied(f"A {self.role.label.lower()} may not {what}.")

    def _not_allowed(self, what: str) -> str:
        if self.role is Role.AUDITOR:
            return f"An auditor reads records but may not {what.replace('see ', 'change ')}."
        if self.role is Role.DISTRICT_ADMIN:
            return f"A district administrator has no access to student records (tried to {what})."
        return f"{self.display_name} may not {what}: it belongs to a school outside their schools."


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Desk:
    """Everything a use case needs about the desk it serves.

    ``sessions`` are opened on the signed-in user's own database connection (on the district
    server she connects as her own login role; on the private database the connection takes
    her role), so the database's row-level security and audit trail see the same person the
    services check. ``clock`` is "now" (tests stand on a school day with it).
    """

    sessions: sessionmaker[Session]
    actor: Actor
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    cache: Cache | None = None
    outbox: Outbox | None = None
    #: checks another person's own password now and returns who she is (the witness of a
    #: controlled-substance count); raises ``medapp.services.signin.SignInFailed``. Set by
    #: sign-in (``SignedIn.desk()``); None: nobody's password can be checked at this desk.
    check_password: Callable[[str, str], Actor] | None = None

    def now(self) -> dt.datetime:
        return self.clock()


def auditor_desk(sessions: sessionmaker[Session]) -> Desk:
    """A reading desk for IT tools that already hold the database owner's connection (the
    screenshot tool, the benchmark): it may read every school and write nothing, so a tool
    cannot use it to record on anyone's behalf."""
    actor = Actor(uuid.UUID(int=0), "medapp-tool", "medapp", "tool", Role.AUDITOR)
    return Desk(sessions, actor)
