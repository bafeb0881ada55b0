"""Inventory alert classes: an exhaustive boundary table, and the SQL built from the same rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from medapp.domain.inventory import (
    ExpiryStatus,
    LotStatus,
    StockStatus,
    classify_lot,
    expiry_status,
    inventory_status_sql,
    stock_status,
)
from tests.domain.inventory_cases import cases

TODAY = date(2024, 10, 15)


def test_boundary_table() -> None:
    rows = cases()
    assert len(rows) > 9_000
    for quantity, reorder, offset, near, expiry, stock in rows:
        status = classify_lot(quantity, reorder, TODAY + timedelta(days=offset), TODAY, near)
        assert (status.expiry.value, status.stock.value) == (expiry, stock), (
            quantity,
            reorder,
            offset,
            near,
        )


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-1, ExpiryStatus.EXPIRED),
        (0, ExpiryStatus.EXPIRED),  # expiring today: already unusable
        (1, ExpiryStatus.NEAR_EXPIRY),
        (30, ExpiryStatus.NEAR_EXPIRY),
        (31, ExpiryStatus.OK),
    ],
)
def test_expiry_rules(offset: int, expected: ExpiryStatus) -> None:
    assert expiry_status(TODAY + timedelta(days=offset), TODAY) is expected


@pytest.mark.parametrize(
    ("quantity", "reorder", "expected"),
    [
        (10, 10, StockStatus.LOW_STOCK),
        (0, 0, StockStatus.LOW_STOCK),
        (11, 10, StockStatus.WARNING),
        (15, 10, StockStatus.WARNING),  # exactly 1.5 x
        (16, 10, StockStatus.OK),
        (4, 3, StockStatus.WARNING),  # 4 <= 4.5
        (5, 3, StockStatus.OK),
        (1, 0, StockStatus.OK),
    ],
)
def test_stock_rules(quantity: int, reorder: int, expected: StockStatus) -> None:
    assert stock_status(quantity, reorder) is expected


def test_lot_status_helpers() -> None:
    expired = classify_lot(50, 10, TODAY, TODAY)
    assert expired == LotStatus(ExpiryStatus.EXPIRED, StockStatus.OK)
    assert expired.needs_attention and not expired.usable
    fine = classify_lot(50, 10, TODAY + timedelta(days=90), TODAY)
    assert not fine.needs_attention and fine.usable
    with pytest.raises(ValueError):
        expiry_status(TODAY, TODAY, near_days=-1)


def test_sql_expresses_the_same_rules() -> None:
    expiry, stock = inventory_status_sql(
        quantity="mi.quantity",
        reorder_level="mi.reorder_level",
        expiration_date="mi.expiration_date",
        today=":today",
        near_days=30,
    )
    assert expiry == (
        "CASE WHEN mi.expiration_date <= CAST(:today AS date) THEN 'EXPIRED' "
        "WHEN mi.expiration_date <= CAST(:today AS date) + 30 THEN 'NEAR_EXPIRY' ELSE 'OK' END"
    )
    assert stock == (
        "CASE WHEN mi.quantity <= mi.reorder_level THEN 'LOW_STOCK' "
        "WHEN mi.quantity <= mi.reorder_level * 1.5 THEN 'WARNING' ELSE 'OK' END"
    )
    default_expiry, _ = inventory_status_sql()
    assert "CURRENT_DATE + 30" in default_expiry
    assert {s.value for s in ExpiryStatus} | {s.value for s in StockStatus} == {
        "EXPIRED",
        "NEAR_EXPIRY",
        "OK",
        "LOW_STOCK",
        "WARNING",
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quantity": "quantity; DROP TABLE x"},
        {"expiration_date": "1=1"},
        {"today": "now()"},
        {"today": "'2024-10-15'"},
        {"near_days": -1},
        {"near_days": "30"},
        {"near_days": True},
    ],
)
def test_sql_refuses_anything_but_identifiers_and_parameters(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        inventory_status_sql(**kwargs)  # type: ignore[arg-type]


def test_sql_accepts_pyformat_parameters() -> None:
    expiry, _ = inventory_status_sql(today="%(today)s", near_days=7)
    assert "CAST(%(today)s AS date) + 7" in expiry
