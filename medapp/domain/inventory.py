"""Inventory alert classes for a lot on the shelf: expiry and stock, in Python and in SQL.

Why both: the inventory pane and the alert job read a precomputed view for speed, while the
record-dose path checks one lot in memory. The rules must agree exactly, so they are written
once here — ``classify_lot`` in Python and ``inventory_status_sql`` producing the equivalent
SQL ``CASE`` expressions — and a test runs both against the same boundary table.

Rules (the seed's materialized view, unchanged in meaning):

* expiry: EXPIRED when ``expiration_date <= today``; NEAR_EXPIRY when ``expiration_date <=
  today + near_days`` (30 by default); otherwise OK. A lot expiring today is already EXPIRED:
  it must not be given today.
* stock: LOW_STOCK when ``quantity <= reorder_level``; WARNING when ``quantity <= 1.5 x
  reorder_level``; otherwise OK. Compared in exact arithmetic (``2 x quantity <= 3 x
  reorder_level`` in Python; ``numeric`` in SQL) so no float rounding can split them.

"today" is the school-local date, passed in (``CURRENT_DATE`` in SQL follows the session time
zone, so pass the school's date as a parameter where the two could differ).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

__all__ = [
    "DEFAULT_NEAR_EXPIRY_DAYS",
    "ExpiryStatus",
    "LotStatus",
    "StockStatus",
    "classify_lot",
    "expiry_status",
    "inventory_status_sql",
    "stock_status",
]

DEFAULT_NEAR_EXPIRY_DAYS = 30


class ExpiryStatus(StrEnum):
    EXPIRED = "EXPIRED"
    NEAR_EXPIRY = "NEAR_EXPIRY"
    OK = "OK"


class StockStatus(StrEnum):
    LOW_STOCK = "LOW_STOCK"
    WARNING = "WARNING"
    OK = "OK"


@dataclass(frozen=True, slots=True)
class LotStatus:
    expiry: ExpiryStatus
    stock: StockStatus

    @property
    def needs_attention(self) -> bool:
        return self.expiry is not ExpiryStatus.OK or self.stock is not StockStatus.OK

    @property
    def usable(self) -> bool:
        """An expired lot must not be used for a dose, whatever its quantity."""
        return self.expiry is not ExpiryStatus.EXPIRED


def expiry_status(
    expiration_date: date, today: date, near_days: int = DEFAULT_NEAR_EXPIRY_DAYS
) -> ExpiryStatus:
    if near_days < 0:
        raise ValueError("near_days cannot be negative")
    if expiration_date <= today:
        return ExpiryStatus.EXPIRED
    if expiration_date <= today + timedelta(days=near_days):
        return ExpiryStatus.NEAR_EXPIRY
    return ExpiryStatus.OK


def stock_status(quantity: int, reorder_level: int) -> StockStatus:
    if quantity <= reorder_level:
        return StockStatus.LOW_STOCK
    if 2 * quantity <= 3 * reorder_level:
        return StockStatus.WARNING
    return StockStatus.OK


def classify_lot(
    quantity: int,
    reorder_level: int,
    expiration_date: date,
    today: date,
    near_days: int = DEFAULT_NEAR_EXPIRY_DAYS,
) -> LotStatus:
    """Both alert classes of one lot."""
    return LotStatus(
        expiry_status(expiration_date, today, near_days), stock_status(quantity, reorder_level)
    )


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_TODAY = re.compile(r"^(CURRENT_DATE|:[A-Za-z_][A-Za-z0-9_]*|%\([A-Za-z_][A-Za-z0-9_]*\)s)$")


def inventory_status_sql(
    *,
    quantity: str = "quantity",
    reorder_level: str = "reorder_level",
    expiration_date: str = "expiration_date",
    today: str = "CURRENT_DATE",
    near_days: int = DEFAULT_NEAR_EXPIRY_DAYS,
) -> tuple[str, str]:
    """(expiry CASE, stock CASE) SQL expressions equal to ``classify_lot`` (PostgreSQL).

    Column arguments are identifiers (optionally ``table.column``); ``today`` is
    ``CURRENT_DATE``, a named bind parameter (``:today``) or a pyformat one (``%(today)s``).
    Anything else is refused, so nothing user-typed can reach the SQL text.
    """
    for name, value in (
        ("quantity", quantity),
        ("reorder_level", reorder_level),
        ("expiration_date", expiration_date),
    ):
        if not _IDENTIFIER.match(value):
            raise ValueError(f"{name} must be a column name, got {value!r}")
    if not _TODAY.match(today):
        raise ValueError(f"today must be CURRENT_DATE or a bind parameter, got {today!r}")
    if not isinstance(near_days, int) or isinstance(near_days, bool) or near_days < 0:
        raise ValueError(f"near_days must be a non-negative int, got {near_days!r}")
    day = f"CAST({today} AS date)" if today != "CURRENT_DATE" else today
    expiry = (
        f"CASE WHEN {expiration_date} <= {day} THEN 'EXPIRED' "
        f"WHEN {expiration_date} <= {day} + {near_days} THEN 'NEAR_EXPIRY' "
        "ELSE 'OK' END"
    )
    stock = (
        f"CASE WHEN {quantity} <= {reorder_level} THEN 'LOW_STOCK' "
        f"WHEN {quantity} <= {reorder_level} * 1.5 THEN 'WARNING' "
        "ELSE 'OK' END"
    )
    return expiry, stock
