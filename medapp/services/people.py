"""Who can be at the desk: the schools, and the active users the sign-in picker offers.

Every function takes the session factory (run it off the GUI thread) and returns frozen
dataclasses, never ORM objects:

* ``list_schools(sessions)`` — every school, by name;
* ``desk_users(sessions, school_id=None)`` — active users who may sign in at the desk (nurses
  and lead nurses: district administrators and auditors record nothing), that school's staff
  (home school or a member of it through ``user_schools``), nurses first;
* ``find_user(sessions, username)`` — one active user by user name (``MEDAPP_DESK_USER``);
* ``desk_identity(sessions, user_id, school_id)`` — check a remembered sign-in is still valid:
  the user is active and allowed at that school.

Passwords come later; for now choosing a name is the sign-in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session, sessionmaker

from medapp.db.models import School, User, UserSchool
from medapp.services.desk import Role

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


@dataclass(frozen=True)
class DeskIdentity:
    user: DeskUser
    school: SchoolInfo


def _school(row: School) -> SchoolInfo:
    return SchoolInfo(row.id, row.code, row.name, row.timezone)


def _user(row: User) -> DeskUser:
    return DeskUser(row.id, row.username, row.first_name, row.last_name, row.role, row.school_id)


def list_schools(sessions: sessionmaker[Session]) -> tuple[SchoolInfo, ...]:
    with sessions() as s:
        rows = s.scalars(select(School).order_by(School.name, School.code)).all()
        return tuple(_school(r) for r in rows)


def desk_users(
    sessions: sessionmaker[Session], school_id: uuid.UUID | None = None
) -> tuple[DeskUser, ...]:
    """Active desk users; with ``school_id``: that school's staff and district-wide staff."""
    query = select(User).where(User.is_active, User.role.in_(DESK_ROLES))
    if school_id is not None:
        members = select(UserSchool.user_id).where(UserSchool.school_id == school_id)
        query = query.where(or_(User.school_id == school_id, User.id.in_(members)))
    query = query.order_by(_ROLE_ORDER, User.last_name, User.first_name, User.username)
    with sessions() as s:
        return tuple(_user(r) for r in s.scalars(query).all())


def find_user(sessions: sessionmaker[Session], username: str) -> DeskUser | None:
    """The active desk user with this user name (case-insensitive), or None."""
    name = (username or "").strip().lower()
    if not name:
        return None
    with sessions() as s:
        row = s.scalars(
            select(User).where(
                User.username.ilike(name.replace("%", r"\%").replace("_", r"\_")),
                User.is_active,
                User.role.in_(DESK_ROLES),
            )
        ).first()
        return _user(row) if row is not None else None


def school_for(sessions: sessionmaker[Session], user: DeskUser) -> SchoolInfo | None:
    """The school a user works at; for district-wide staff the first school by name."""
    with sessions() as s:
        if user.school_id is not None:
            row = s.get(School, user.school_id)
        else:
            row = s.scalars(select(School).order_by(School.name, School.code)).first()
        return _school(row) if row is not None else None


def desk_identity(
    sessions: sessionmaker[Session], user_id: uuid.UUID, school_id: uuid.UUID
) -> DeskIdentity | None:
    """The remembered user and school, if the user is still active and may work there."""
    with sessions() as s:
        user = s.get(User, user_id)
        school = s.get(School, school_id)
        if user is None or school is None or not user.is_active or user.role not in DESK_ROLES:
            return None
        member = s.get(UserSchool, (user.id, school.id)) is not None
        if not member and user.school_id != school.id:
            return None
        return DeskIdentity(_user(user), _school(school))
