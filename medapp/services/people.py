"""Who works where: the schools a signed-in user may choose, the colleagues who can witness a
controlled-substance count, and whether the person at the desk may still be there.

Every function takes the :class:`~medapp.services.desk.Desk` (run it off the GUI thread) and
returns frozen dataclasses, never ORM objects:

* ``list_schools(desk)`` — the schools, by name (the window keeps those of the actor);
* ``desk_users(desk, school_id=None)`` — active nurses and lead nurses (those who record), that
  school's staff (home school or membership), nurses first: the witness list;
* ``still_allowed(desk, school_id)`` — the signed-in user is still active and may still work
  at that school (the window's probe signs her out otherwise).

Who someone *is* is never chosen from these lists: the sign-in (``services.signin``) decides it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import case, or_, select

from medapp.db.models import School, User, UserSchool
from medapp.services.desk import Desk, Role

#: Roles that record at the desk (medapp.services.desk.CLINICAL_WRITERS).
DESK_ROLES = (Role.NURSE.value, Role.LEAD_NURSE.value)
_ROLE_ORDER = case({"NURSE": 0, "LEAD_NURSE": 1}, value=User.role, else_=2)


@dataclass(frozen=True)
class SchoolInfo:
    id: uuid.UUID
    code: str
    name: str
    timezone: str


@dataclass(frozen=True)
class DeskUser:
    id: uuid.UUID
    username: str
    first_name: str
    last_name: str
    role: str
    school_id: uuid.UUID | None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def role_label(self) -> str:
        try:
            return Role(self.role).label
        except ValueError:
            return self.role.title()


def _school(row: School) -> SchoolInfo:
    return SchoolInfo(row.id, row.code, row.name, row.timezone)


def _user(row: User) -> DeskUser:
    return DeskUser(row.id, row.username, row.first_name, row.last_name, row.role, row.school_id)


def list_schools(desk: Desk) -> tuple[SchoolInfo, ...]:
    desk.actor.require_active()
    with desk.sessions() as s:
        rows = s.scalars(select(School).order_by(School.name, School.code)).all()
        return tuple(_school(r) for r in rows)


def desk_users(desk: Desk, school_id: uuid.UUID | None = None) -> tuple[DeskUser, ...]:
    """Active desk users; with ``school_id``: that school's staff (home school or member)."""
    desk.actor.require_active()
    query = select(User).where(User.is_active, User.role.in_(DESK_ROLES))
    if school_id is not None:
        members = select(UserSchool.user_id).where(UserSchool.school_id == school_id)
        query = query.where(or_(User.school_id == school_id, User.id.in_(members)))
    query = query.order_by(_ROLE_ORDER, User.last_name, User.first_name, User.username)
    with desk.sessions() as s:
        return tuple(_user(r) for r in s.scalars(query).all())


def still_allowed(desk: Desk, school_id: uuid.UUID) -> bool:
    """The signed-in user is still an active account that may work at ``school_id`` (read on
    the server now, not from what the desk remembers): an auditor anywhere, a nurse or lead
    nurse at her schools; a district administrator never at a school desk."""
    actor = desk.actor
    with desk.sessions() as s:
        user = s.get(User, actor.user_id)
        if user is None or not user.is_active:
            return False
        if user.role == "AUDITOR":
            return True
        if user.role not in DESK_ROLES:
            return False
        member = s.get(UserSchool, (user.id, school_id)) is not None
        return member or user.school_id == school_id
