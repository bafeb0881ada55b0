"""Formulary use cases for the GUI: search, autocomplete, barcode lookup, add by hand.

Every function takes a SQLAlchemy ``Session`` (run it off the GUI thread) and returns frozen
dataclasses, never ORM objects, so results can go straight into Qt models:

* ``search_medications(session, query, *, limit=25, offset=0) -> SearchPage`` — brand,
  generic, prefix, misspelling, manufacturer or any printed/scanned NDC; ranked and grouped
  (ranking rules: :mod:`medapp.formulary.search`); ``SearchPage.items`` / ``total`` /
  ``query_kind`` ("ndc" | "text" | "fuzzy" | "empty") / ``corrected`` ("Showing results for
  …") / ``message`` (why an NDC-looking entry found nothing);
* ``autocomplete(session, prefix, limit=10) -> list[Suggestion]`` — 2+ characters;
* ``lookup_ndc(session, code) -> MedicationHit | None`` — the product a scan names;
* ``group_members(session, hit) -> list[MedicationHit]`` — the products collapsed into a
  grouped result (same name/strength/form from several labelers);
* ``add_medication(session, *, name, dosage_form, …, ndc=None) -> MedicationHit`` — raises
  ``MedicationEntryError(field, message)`` / ``DuplicateNdcError`` (both ``ValueError``);
* ``warm_up(session)`` — build the typo-correction vocabulary ahead of the first search.
"""

from __future__ import annotations

from medapp.formulary.manual import DuplicateNdcError, MedicationEntryError, add_medication
from medapp.formulary.search import (
    MedicationHit,
    SearchPage,
    Suggestion,
    autocomplete,
    group_members,
    invalidate_vocabulary,
    lookup_ndc,
    search_medications,
    warm_up,
)

__all__ = [
    "DuplicateNdcError",
    "MedicationEntryError",
    "MedicationHit",
    "SearchPage",
    "Suggestion",
    "add_medication",
    "autocomplete",
    "group_members",
    "invalidate_vocabulary",
    "lookup_ndc",
    "search_medications",
    "warm_up",
]
