"""Is this dose plausible for this order and this product? Small text rules, one place.

Why: an order typed "15 mg" for a 10 mg tablet, 25 tablets taken from a lot for a "1 tab" order,
or "50 tablets" typed as the dose given are all things a tired nurse can click through. The
rules here do not decide whether a dose is *right* (that is the prescriber's job); they say when
what was written disagrees with itself, so the desk can ask for a written reason or flag the
order for the nurse to check with the prescriber.

* ``order_quantity("1 tab") == 1``, ``order_quantity("2 puffs") == 2``; a mass or volume dose
  ("5 mg", "2.5 mL") has no unit count (None).
* ``dose_strength_conflict(order_dose, product_strength)`` — a sentence when the order's dose
  cannot be made from the product (15 mg of a 10 mg tablet), else None.
* ``quantity_over_order`` / ``dose_text_differs`` — sentences for the dose dialog's findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "Amount",
    "dose_strength_conflict",
    "dose_text_differs",
    "order_quantity",
    "parse_amount",
    "quantity_over_order",
]

# Units counted in whole pieces (the things taken from stock).
_COUNT_UNITS = {
    "tab": "tab",
    "tabs": "tab",
    "tablet": "tab",
    "tablets": "tab",
    "cap": "cap",
    "caps": "cap",
    "capsule": "cap",
    "capsules": "cap",
    "puff": "puff",
    "puffs": "puff",
    "inhalation": "puff",
    "inhalations": "puff",
    "actuation": "puff",
    "actuations": "puff",
    "spray": "spray",
    "sprays": "spray",
    "drop": "drop",
    "drops": "drop",
    "gtt": "drop",
    "gtts": "drop",
    "vial": "vial",
    "vials": "vial",
    "ampule": "vial",
    "pen": "pen",
    "pens": "pen",
    "injector": "pen",
    "syringe": "syringe",
    "packet": "packet",
    "packets": "packet",
    "patch": "patch",
    "patches": "patch",
    "chewable": "tab",
    "lozenge": "tab",
    "lozenges": "tab",
    "suppository": "supp",
    "suppositories": "supp",
    "piece": "piece",
    "pieces": "piece",
    "unit-dose": "vial",
}
# Mass units in milligrams; volume in millilitres; insulin-style units as they are.
_MASS = {"mcg": 0.001, "µg": 0.001, "ug": 0.001, "mg": 1.0, "g": 1000.0, "gm": 1000.0}
_VOLUME = {"ml": 1.0, "cc": 1.0, "l": 1000.0, "tsp": 5.0, "teaspoon": 5.0, "tbsp": 15.0}
_UNITS = {"unit": 1.0, "units": 1.0, "u": 1.0, "iu": 1.0}

_WORD_NUMBERS = {
    "one": 1.0,
    "two": 2.0,
    "three": 3.0,
    "four": 4.0,
    "half": 0.5,
    "one-half": 0.5,
    "1/2": 0.5,
    "½": 0.5,
}
_AMOUNT = re.compile(
    r"(?P<num>\d+(?:\.\d+)?|\.\d+|one-half|1/2|½|one|two|three|four|half)\s*-?\s*"
    r"(?P<unit>[a-zµ][a-zµ\-]*)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Amount:
    """A number with its kind: ``count`` (pieces, unit = "tab"/"puff"/…), ``mass`` (mg),
    ``volume`` (mL) or ``units`` (insulin units)."""

    value: float
    kind: str
    unit: str


def parse_amount(text: str | None) -> Amount | None:
    """The first amount in ``text`` ("1 tab", "10 mg", "2.5 mL", "4 units"), or None."""
    if not text:
        return None
    for match in _AMOUNT.finditer(text):
        raw, unit = match.group("num").lower(), match.group("unit").lower().rstrip(".")
        value = _WORD_NUMBERS.get(raw)
        if value is None:
            try:
                value = float(raw)
            except ValueError:
                continue
        if unit in _COUNT_UNITS:
            return Amount(value, "count", _COUNT_UNITS[unit])
        if unit in _MASS:
            return Amount(value * _MASS[unit], "mass", "mg")
        if unit in _VOLUME:
            return Amount(value * _VOLUME[unit], "volume", "mL")
        if unit in _UNITS:
            return Amount(value, "units", "units")
    return None


def order_quantity(order_dose: str) -> int | None:
    """How many pieces one dose takes from stock: "1 tab" → 1, "2 puffs" → 2, "5 mg" → None.

    A half tablet counts as one piece taken from the bottle."""
    amount = parse_amount(order_dose)
    if amount is None or amount.kind != "count" or amount.value <= 0:
        return None
    whole = int(amount.value)
    return whole if whole == amount.value else whole + 1


def _strength_per_piece(strength: str) -> Amount | None:
    """A solid product's strength per piece ("10 mg" → 10 mg); None for a concentration
    ("5 mg/5 mL", "100 units/mL") or several ingredients ("5 mg; 2.5 mg")."""
    text = (strength or "").strip()
    if not text or ";" in text:
        return None
    if "/" in text:
        left, _, right = text.partition("/")
        # "90 mcg/actuation" and "10 mg/1" are per piece; "5 mg/5 mL", "100 units/mL" are
        # concentrations (any amount can be drawn up).
        right = right.strip().lower()
        if right != "1" and (right[:1].isdigit() or right.rstrip(".") in _VOLUME):
            return None
        text = left
    amount = parse_amount(text)
    if amount is None or amount.kind not in ("mass", "units"):
        return None
    return amount


def _fmt(value: float) -> str:
    return f"{value:g}"


@lru_cache(maxsize=8192)
def dose_strength_conflict(
    order_dose: str, product_strength: str, *, frequency: str | None = None
) -> str | None:
    """A sentence when the order's dose cannot be given with the product, else None.

    * a mass dose (mg/mcg/g) of a solid product must be a whole number of pieces, or half of
      one: 15 mg of a 10 mg tablet is flagged, 20 mg (2 tablets) and 5 mg (half) are not;
    * a mass dose against a product measured in units (or the other way round) is flagged;
    * with ``frequency`` (the order text), a piece count written there ("1 tab PO at noon")
      must give the order's dose: "1 tab" of a 10 mg tablet is not "15 mg".
    Liquids (a concentration) and counted doses ("2 puffs") are not checked: any amount can
    be drawn up.
    """
    dose = parse_amount(order_dose)
    per_piece = _strength_per_piece(product_strength)
    if dose is None or per_piece is None:
        return None
    strength = (product_strength or "").strip()
    if dose.kind in ("mass", "units") and dose.kind != per_piece.kind:
        return (
            f"The order's dose ({order_dose.strip()}) and the product's strength ({strength}) "
            "are in different units; check the order with the prescriber."
        )
    if dose.kind == "count" or per_piece.value <= 0:
        return None
    pieces = dose.value / per_piece.value
    written = parse_amount(frequency) if frequency else None
    if written is not None and written.kind == "count" and abs(written.value - pieces) > 1e-6:
        return (
            f"The order says {_fmt(written.value)} {written.unit} ({strength} each) but its dose "
            f"is {order_dose.strip()}; check the order with the prescriber."
        )
    if abs(pieces - round(pieces)) < 1e-6 and round(pieces) >= 1:
        return None
    if abs(pieces - 0.5) < 1e-6:
        return None
    return (
        f"The order's dose ({order_dose.strip()}) is {_fmt(round(pieces, 2))} × the product's "
        f"strength ({strength}); check the order with the prescriber."
    )


def quantity_over_order(
    order_dose: str, quantity_used: int | None, *, product_strength: str | None = None
) -> str | None:
    """A sentence when more pieces are taken from stock than the order's dose, else None.

    A counted dose ("1 tab") allows that many pieces; a mass dose ("20 mg") of a solid product
    ("10 mg" per tablet) allows the pieces it takes (2); a liquid or an unknown strength is not
    checked here."""
    if quantity_used is None:
        return None
    per_dose = order_quantity(order_dose)
    if per_dose is None:
        amount = parse_amount(order_dose)
        piece = _strength_per_piece(product_strength or "")
        if amount is None or piece is None or amount.kind != piece.kind or piece.value <= 0:
            return None
        pieces = amount.value / piece.value
        per_dose = max(1, int(pieces) + (0 if abs(pieces - int(pieces)) < 1e-6 else 1))
    if quantity_used <= per_dose:
        return None
    return (
        f"{quantity_used} taken from stock for a dose of {order_dose.strip()} (expected "
        f"{per_dose})."
    )


def _normal(text: str) -> str:
    words = re.findall(r"[a-zµ]+|\d+(?:\.\d+)?", text.casefold())
    return " ".join(_COUNT_UNITS.get(w, w) for w in words)


def dose_text_differs(order_dose: str, dosage_given: str | None) -> str | None:
    """A sentence when the dose given differs from the order's dose, else None.

    "1 tablet" for "1 tab" and "10 MG" for "10 mg" are the same dose; "50 tablets" for "1 tab"
    or "20 mg" for "10 mg" are not."""
    if dosage_given is None or not dosage_given.strip():
        return None
    if _normal(order_dose) == _normal(dosage_given):
        return None
    given, ordered = parse_amount(dosage_given), parse_amount(order_dose)
    if (
        given is not None
        and ordered is not None
        and given.kind == ordered.kind
        and given.unit == ordered.unit
        and abs(given.value - ordered.value) < 1e-9
    ):
        return None
    return f"The dose given ({dosage_given.strip()}) differs from the order ({order_dose.strip()})."
