"""Adding an item the FDA file does not list (office OTC stock) to the formulary, as a use case:
who may do it is checked here (nurses, lead nurses and district administrators; an auditor
changes nothing), the validation and the insert are ``medapp.formulary.manual``'s."""

from __future__ import annotations

from typing import Any

from medapp.formulary.search import MedicationHit
from medapp.services.desk import Desk, Role
from medapp.services.search import add_medication

FORMULARY_EDITORS = frozenset({Role.NURSE, Role.LEAD_NURSE, Role.DISTRICT_ADMIN})


def add_formulary_item(desk: Desk, **fields: Any) -> MedicationHit:
    """One unit of work: validate and insert (raises ManualEntryError with the field at fault)."""
    desk.actor.require_role(FORMULARY_EDITORS, "add a medication to the formulary")
    with desk.sessions.begin() as session:
        return add_medication(session, **fields)
