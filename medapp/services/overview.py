"""What the desk shows before anything is searched: the size of what this database holds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medapp.db.models import (
    Medication,
    MedicationInventory,
    School,
    Student,
    StudentMedication,
    User,
)


@dataclass(frozen=True)
class DeskSummary:
    schools: int
    students: int
    active_prescriptions: int
    formulary_items: int
    inventory_lots: int
    nurses: tuple[tuple[str, str], ...]  # (user id, display name) of active nurses and admins


def desk_summary(sessions: sessionmaker[Session]) -> DeskSummary:
    with sessions() as s:
        counts = s.execute(
            select(
                select(func.count()).select_from(School).scalar_subquery(),
                select(func.count())
                .select_from(Student)
                .where(Student.is_active)
                .scalar_subquery(),
                select(func.count())
                .select_from(StudentMedication)
                .where(StudentMedication.is_active)
                .scalar_subquery(),
                select(func.count()).select_from(Medication).scalar_subquery(),
                select(func.count()).select_from(MedicationInventory).scalar_subquery(),
            )
        ).one()
        nurses = s.execute(
            select(User.id, User.first_name, User.last_name)
            .where(User.is_active, User.role.in_(("NURSE", "LEAD_NURSE")))
            .order_by(User.last_name, User.first_name)
        ).all()
    return DeskSummary(
        schools=counts[0],
        students=counts[1],
        active_prescriptions=counts[2],
        formulary_items=counts[3],
        inventory_lots=counts[4],
        nurses=tuple((str(n.id), f"{n.first_name} {n.last_name}") for n in nurses),
    )
