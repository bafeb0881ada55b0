"""The inventory boundary table, shared by the Python test and the SQL agreement test.

Each case is (quantity, reorder_level, days_until_expiry, near_days, expiry, stock): the
database test inserts lots at ``today + days_until_expiry`` and compares its CASE results.
"""

from __future__ import annotations

from fractions import Fraction

EXPIRY_OFFSETS = (-365, -1, 0, 1, 6, 7, 8, 29, 30, 31, 365)
NEAR_DAYS = (0, 7, 30)


def reference_expiry(days_until_expiry: int, near_days: int) -> str:
    if days_until_expiry <= 0:
        return "EXPIRED"
    if days_until_expiry <= near_days:
        return "NEAR_EXPIRY"
    return "OK"


def reference_stock(quantity: int, reorder_level: int) -> str:
    if quantity <= reorder_level:
        return "LOW_STOCK"
    if quantity <= Fraction(3, 2) * reorder_level:
        return "WARNING"
    return "OK"


def cases() -> list[tuple[int, int, int, int, str, str]]:
    rows = []
    for reorder_level in range(0, 13):
        for quantity in range(0, 21):
            for offset in EXPIRY_OFFSETS:
                for near in NEAR_DAYS:
                    rows.append(
                        (
                            quantity,
                            reorder_level,
                            offset,
                            near,
                            reference_expiry(offset, near),
                            reference_stock(quantity, reorder_level),
                        )
                    )
    # Large values: exactness of 1.5 x reorder level far from small numbers.
    for reorder_level in (999_999, 1_000_000, 1_000_001):
        for quantity in (
            reorder_level,
            reorder_level + 1,
            reorder_level * 3 // 2,
            reorder_level * 3 // 2 + 1,
        ):
            rows.append(
                (quantity, reorder_level, 31, 30, "OK", reference_stock(quantity, reorder_level))
            )
    return rows
