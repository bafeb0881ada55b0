"""Stock alerts: expired, near expiry, low stock, warning — from the materialized view.

The view ``medication_inventory_alerts`` (migration 0003, same rules as
``medapp.domain.inventory``) is refreshed CONCURRENTLY by a job, so readers never wait on it.
When it is older than its TTL (the job did not run: a PC asleep, the server restarted), the
same CASE expressions run live on ``medication_inventory`` instead — slower, never stale.

A materialized view cannot have row-level security, so desks read it through
``medication_inventory_alerts_visible`` (migration 0005: only the lots of the user's schools;
every lot for auditors and the owner), and refresh it through the SECURITY DEFINER function
``medapp_refresh_inventory_alerts()`` because only the owner may refresh it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, text

from medapp.cache.store import TTL
from medapp.domain.inventory import DEFAULT_NEAR_EXPIRY_DAYS, inventory_status_sql
from medapp.services.desk import STUDENT_READERS, Desk

ALERT_ORDER = (
    "CASE expiry_status WHEN 'EXPIRED' THEN 0 WHEN 'NEAR_EXPIRY' THEN 1 ELSE 2 END, "
    "CASE stock_status WHEN 'LOW_STOCK' THEN 0 WHEN 'WARNING' THEN 1 ELSE 2 END, expiration_date, medication_name"
)
COLUMNS = (
    "id, medication_id, school_id, student_id, medication_name, strength, dosage_form, batch_number, "
    "quantity, reorder_level, expiration_date, expiry_status, stock_status"
)


@dataclass(frozen=True)
class AlertLot:
    id: uuid.UUID
    medication_id: uuid.UUID
    school_id: uuid.UUID | None
    student_id: uuid.UUID | None
    medication_name: str
    strength: str
    dosage_form: str
    batch_number: str
    quantity: int
    reorder_level: int
    expiration_date: dt.date
    expiry_status: str
    stock_status: str


@dataclass(frozen=True)
class InventoryAlerts:
    lots: tuple[AlertLot, ...]  # lots with at least one alert, most urgent first
    counts: dict[str, int]  # EXPIRED, NEAR_EXPIRY, LOW_STOCK, WARNING
    source: str  # "view" or "live"
    computed_at: dt.datetime


def _live_sql(near_days: int) -> str:
    expiry, stock = inventory_status_sql(
        quantity="mi.quantity",
        reorder_level="mi.reorder_level",
        expiration_date="mi.expiration_date",
        today=":today",
        near_days=near_days,
    )
    return f"""
        SELECT mi.id, mi.medication_id, mi.school_id, mi.student_id, m.name AS medication_name,
               m.strength, m.dosage_form, mi.batch_number, mi.quantity, mi.reorder_level,
               mi.expiration_date, {expiry} AS expiry_status, {stock} AS stock_status
        FROM medication_inventory mi JOIN medications m ON m.id = mi.medication_id
        WHERE mi.quantity > 0
    """


def inventory_alerts(
    desk: Desk,
    *,
    school_id: uuid.UUID | None = None,
    today: dt.date | None = None,
    near_days: int = DEFAULT_NEAR_EXPIRY_DAYS,
    max_age: dt.timedelta = dt.timedelta(seconds=TTL.INVENTORY_ALERTS),
    force_live: bool = False,
) -> InventoryAlerts:
    if school_id is not None:
        desk.actor.require_read(school_id, "this school's stock")
    else:
        desk.actor.require_role(STUDENT_READERS, "see the district's stock alerts")
    sessions = desk.sessions
    today = today or dt.date.today()
    where = "(school_id = :school OR :school IS NULL) AND (expiry_status <> 'OK' OR stock_status <> 'OK')"
    params: dict[str, object] = {"school": school_id, "today": today}
    with sessions() as s:
        use_view = not force_live and near_days == DEFAULT_NEAR_EXPIRY_DAYS
        computed_at = None
        if use_view:
            # The view's statuses are relative to the day it was refreshed; stale after max_age
            # or after midnight.
            computed_at = s.execute(
                text("SELECT max(computed_at) FROM medication_inventory_alerts_visible")
            ).scalar()
            now = dt.datetime.now(dt.UTC)
            use_view = (
                computed_at is not None
                and now - computed_at <= max_age
                and computed_at.astimezone().date() == today
            )
        if use_view:
            source = f"SELECT {COLUMNS} FROM medication_inventory_alerts_visible"
        else:
            source = _live_sql(near_days)
            computed_at = dt.datetime.now(dt.UTC)
        rows = s.execute(
            text(f"SELECT * FROM ({source}) a WHERE {where} ORDER BY {ALERT_ORDER}"), params
        ).all()
    lots = tuple(AlertLot(**row._mapping) for row in rows)
    counts = {"EXPIRED": 0, "NEAR_EXPIRY": 0, "LOW_STOCK": 0, "WARNING": 0}
    for lot in lots:
        if lot.expiry_status != "OK":
            counts[lot.expiry_status] += 1
        if lot.stock_status != "OK":
            counts[lot.stock_status] += 1
    assert computed_at is not None
    return InventoryAlerts(lots, counts, "view" if use_view else "live", computed_at)


def refresh_alert_view(engine: Engine) -> None:
    """CONCURRENTLY (readers keep the old snapshot while the new one is built), through the
    owner's SECURITY DEFINER function so any signed-in role may run it; when another desk is
    already refreshing, this returns at once."""
    with engine.begin() as conn:
        conn.execute(text("SELECT medapp_refresh_inventory_alerts()"))
