"""The alert view, the live query and the domain rules agree on every boundary."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from medapp.db.models import MedicationInventory
from medapp.domain.inventory import classify_lot
from medapp.services.inventory import inventory_alerts, refresh_alert_view
from tests.db import factories as f
from tests.db.desks import reader_desk
from tests.domain.inventory_cases import EXPIRY_OFFSETS


@pytest.fixture
def stocked(committed_db):  # noqa: ANN001, ANN201
    today = dt.date.today()
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"I{uuid.uuid4().hex[:6]}")
        med = f.medication(s, ndc=None)
        rows = [
            dict(
                id=uuid.uuid4(),
                medication_id=med.id,
                school_id=sch.id,
                batch_number=f"B{q}-{r}-{o}",
                quantity=q,
                reorder_level=r,
                expiration_date=today + dt.timedelta(days=o),
            )
            for r in range(0, 13)
            for q in range(0, 21)
            for o in EXPIRY_OFFSETS
        ]
        s.execute(insert(MedicationInventory), rows)
        school_id = sch.id
        s.commit()
    refresh_alert_view(committed_db.engine)
    return committed_db, school_id, {row["id"]: row for row in rows}, today


def test_view_live_and_domain_agree(stocked) -> None:  # noqa: ANN001
    db, school_id, rows, today = stocked
    with Session(db.engine) as s:
        view = {
            r.id: (r.expiry_status, r.stock_status)
            for r in s.execute(
                text(
                    "SELECT id, expiry_status, stock_status FROM medication_inventory_alerts WHERE school_id = :s"
                ),
                {"s": school_id},
            )
        }
    expected = {}
    for lot_id, row in rows.items():
        if row["quantity"] == 0:
            continue  # empty lots are not on the shelf: not in the view (as in the seed)
        status = classify_lot(row["quantity"], row["reorder_level"], row["expiration_date"], today)
        expected[lot_id] = (status.expiry.value, status.stock.value)
    assert view == expected

    live = inventory_alerts(
        reader_desk(db.sessions, [school_id]), school_id=school_id, today=today, force_live=True
    )
    from_view = inventory_alerts(
        reader_desk(db.sessions, [school_id]), school_id=school_id, today=today
    )
    assert (live.source, from_view.source) == ("live", "view")
    assert {lot.id: (lot.expiry_status, lot.stock_status) for lot in live.lots} == {
        k: v for k, v in expected.items() if v != ("OK", "OK")
    }
    assert live.counts == from_view.counts
    assert [lot.id for lot in live.lots] == [lot.id for lot in from_view.lots]
    assert live.lots[0].expiry_status == "EXPIRED"  # most urgent first


def test_stale_view_falls_back_to_live(stocked) -> None:  # noqa: ANN001
    db, school_id, _, today = stocked
    stale = inventory_alerts(
        reader_desk(db.sessions, [school_id]),
        school_id=school_id,
        today=today,
        max_age=dt.timedelta(0),
    )
    assert stale.source == "live"
    tomorrow = inventory_alerts(
        reader_desk(db.sessions, [school_id]),
        school_id=school_id,
        today=today + dt.timedelta(days=1),
    )
    assert tomorrow.source == "live"  # the view's statuses are for the day it was refreshed
