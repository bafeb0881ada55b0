"""``medication_groups`` (migration 0012) is derived data search reads: whatever writes
``medications`` — an import statement, a product added at the desk, a product retired — the
groups stay exactly what grouping the products would give."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from medapp.db.models import Medication
from medapp.formulary.search import group_members, invalidate_vocabulary, search_medications
from tests.db.secure_world import SecureWorld, sqlstate, world  # noqa: F401

# groups the products would make that the table lacks or has otherwise, both ways
MISMATCH = """
WITH fresh AS (SELECT name_key, strength, dosage_form, count(*) AS members
                 FROM medications WHERE name_key IS NOT NULL GROUP BY 1, 2, 3),
     kept AS (SELECT name_key, strength, dosage_form, members FROM medication_groups)
(SELECT * FROM fresh EXCEPT SELECT * FROM kept)
UNION ALL
(SELECT * FROM kept EXCEPT SELECT * FROM fresh)
"""


def _product(name: str, maker: str, ndc: str, *, strength: str = "250 mg", active: bool = True):  # noqa: ANN202
    return Medication(
        name=name,
        generic_name="testocillin",
        dosage_form="CAPSULE",
        strength=strength,
        route="ORAL",
        manufacturer=maker,
        ndc=ndc,
        is_active=active,
    )


def _group(session: Session, strength: str = "250 mg"):  # noqa: ANN202
    return session.execute(
        text(
            "SELECT g.*, m.manufacturer AS head_maker FROM medication_groups g "
            "JOIN medications m ON m.id = g.head_id "
            "WHERE g.name_key = 'testocillin' AND g.strength = :s"
        ),
        {"s": strength},
    ).one()


def test_groups_follow_every_write_to_the_products(session: Session) -> None:
    session.add_all(
        [
            _product("TESTOCILLIN", "Alpha Labs", "99901-001"),  # all capitals: not shown first
            _product("Testocillin", "Bravo Pharma", "99901-003"),
            _product("Testocillin", "Charlie Repack", "99901-002", active=False),
            _product("Testocillin", "Delta", "99901-004", strength="500 mg"),
        ]
    )
    session.flush()
    g = _group(session)
    assert (g.members, g.popularity, g.head_maker) == (3, 4, "Bravo Pharma")
    assert _group(session, "500 mg").members == 1
    assert session.execute(text(MISMATCH)).all() == []

    # the shown product is retired: the next active one with a mixed-case name takes its place
    session.execute(text("UPDATE medications SET is_active = false WHERE ndc = '99901-003'"))
    assert _group(session).head_maker == "Alpha Labs"
    # a product renamed away leaves its group (and the name's count) at once
    session.execute(text("UPDATE medications SET name = 'Testomycin' WHERE ndc = '99901-004'"))
    assert _group(session).popularity == 3
    assert session.execute(text(MISMATCH)).all() == []


def test_search_reads_the_groups(session: Session) -> None:
    session.add_all(
        [
            _product("Testocillin", "Bravo Pharma", "99902-001"),
            _product("Testocillin", "Charlie Repack", "99902-002"),
        ]
    )
    session.flush()
    page = search_medications(session, "testocillin")
    assert page.total == 1 and page.items[0].group_size == 2
    assert page.items[0].manufacturer == "Bravo Pharma"
    assert {h.manufacturer for h in group_members(session, page.items[0])} == {
        "Bravo Pharma",
        "Charlie Repack",
    }
    # a word only one member has (its maker) still finds the group
    assert search_medications(session, "testocillin charlie").total == 1
    invalidate_vocabulary()  # built earlier in this process without the new name
    assert search_medications(session, "testocilin").corrected == "testocillin"


def test_a_nurse_adds_a_product_and_cannot_touch_the_groups(world: SecureWorld) -> None:  # noqa: F811
    with world.as_person("nurse_a") as conn:
        conn.execute(
            text(
                "INSERT INTO medications (name, dosage_form, strength, is_otc) "
                "VALUES ('Nurse Added Balm', 'OINTMENT', '1 %', true)"
            )
        )
        members = conn.execute(
            text("SELECT members FROM medication_groups WHERE name_key = 'nurse added balm'")
        ).scalar_one()
        assert members == 1
        with pytest.raises(DBAPIError) as exc:
            conn.execute(text("DELETE FROM medication_groups"))
    assert sqlstate(exc) == "42501"
