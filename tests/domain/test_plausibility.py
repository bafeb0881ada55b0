"""Plausibility of an order and a dose against the product (issue 9, rule 6)."""

from __future__ import annotations

import pytest

from medapp.domain.plausibility import (
    dose_strength_conflict,
    dose_text_differs,
    order_quantity,
    quantity_over_order,
)


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        ("1 tab", 1),
        ("2 puffs", 2),
        ("1 tablet", 1),
        ("2 caps", 2),
        ("one tablet", 1),
        ("1/2 tab", 1),
        ("5 mg", None),
        ("2.5 mL", None),
        ("per sliding scale", None),
    ],
)
def test_order_quantity(dose: str, expected: int | None) -> None:
    assert order_quantity(dose) == expected


@pytest.mark.parametrize(
    ("dose", "strength", "frequency", "flagged"),
    [
        ("15 mg", "10 mg", None, True),  # 1.5 tablets
        ("10 mg", "10 mg", None, False),
        ("20 mg", "10 mg", None, False),  # two tablets
        ("5 mg", "10 mg", None, False),  # half a scored tablet
        ("15 mg", "10 mg", "1 tab PO daily at 11:30", True),  # the demo's Ritalin case
        ("10 mg", "10 mg", "1 tab PO daily at 11:30", False),
        ("20 mg", "10 mg", "1 tab PO daily at noon", True),  # the sig says one tablet
        ("5 mg", "5 mg/5 mL", None, False),  # a liquid: any amount can be measured
        ("2 puffs", "90 mcg/actuation", None, False),
        ("0.3 mg", "0.3 mg", None, False),
        ("300 mcg", "0.3 mg", None, False),  # units converted
        ("4 units", "100 units/mL", None, False),
        ("10 mg", "100 units/mL", None, False),  # a concentration is not checked
        ("10 units", "10 mg", None, True),  # different units
    ],
)
def test_dose_strength_conflict(
    dose: str, strength: str, frequency: str | None, flagged: bool
) -> None:
    found = dose_strength_conflict(dose, strength, frequency=frequency)
    assert (found is not None) is flagged
    if found:
        assert found.endswith("check the order with the prescriber.")


@pytest.mark.parametrize(
    ("dose", "used", "strength", "flagged"),
    [
        ("1 tab", 25, None, True),
        ("1 tab", 1, None, False),
        ("2 puffs", 2, None, False),
        ("2 puffs", 3, None, True),
        ("20 mg", 2, "10 mg", False),
        ("10 mg", 2, "10 mg", True),
        ("5 mg", 5, "5 mg/5 mL", False),  # liquids counted in mL
        ("10 mg", 3, None, False),  # unknown strength: not judged
        ("1 tab", None, None, False),
    ],
)
def test_quantity_over_order(
    dose: str, used: int | None, strength: str | None, flagged: bool
) -> None:
    assert (quantity_over_order(dose, used, product_strength=strength) is not None) is flagged


@pytest.mark.parametrize(
    ("order", "given", "differs"),
    [
        ("1 tab", "1 tablet", False),
        ("10 mg", "10 MG", False),
        ("1 tab", "50 tablets", True),
        ("10 mg", "20 mg", True),
        ("2 puffs", "2 puffs", False),
        ("1 tab", None, False),
        ("1 tab", "  ", False),
    ],
)
def test_dose_text_differs(order: str, given: str | None, differs: bool) -> None:
    assert (dose_text_differs(order, given) is not None) is differs
