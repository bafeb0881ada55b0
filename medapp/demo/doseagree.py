"""Does an order's dose agree with its product? (issue 9: "1 tab" of Ritalin 10 mg shown as
"15 mg"). Used by the demo's tests to keep the generated orders honest.

A demo-side check, deliberately simple and strict about what it understands: the amount in the
dose text ("10 mg", "250 mg (5 mL)", "650 mg (2 tabs)") must equal the product strength times
the quantity the order gives per dose (from the dose text's brackets, else the order's own
"1 tab"/"2 caps"/"5 mL"), and a "tab" order must not be a capsule product (nor the reverse).
Doses it cannot read (insulin "per sliding scale", "2 puffs", "thin layer", combination
strengths) are not judged.
"""

from __future__ import annotations

import re

__all__ = ["dose_disagreement"]

_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|mcg|g|units?|meq|iu)\b", re.IGNORECASE)
_STRENGTH = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(mg|mcg|g|units?|meq|iu)\s*(?:/\s*(\d+(?:\.\d+)?)?\s*(ml)\b)?\s*$",
    re.IGNORECASE,
)
_COUNT = re.compile(r"(\d+(?:/\d+)?(?:\.\d+)?)\s*(tabs?|tablets?|caps?|capsules?|ml)\b", re.I)


def _number(text: str) -> float:
    if "/" in text:
        top, bottom = text.split("/")
        return float(top) / float(bottom)
    return float(text)


def _unit(word: str) -> str:
    word = word.lower()
    if word.startswith("tab"):
        return "tab"
    if word.startswith("cap"):
        return "cap"
    if word.startswith("unit"):
        return "unit"
    return word


def dose_disagreement(dosage: str, order_text: str, strength: str, dosage_form: str) -> str | None:
    """Why ``dosage`` (with the order's wording) disagrees with the product, or None."""
    form = dosage_form.upper()
    bracket = re.search(r"\(([^)]*)\)", dosage)
    quantity = _COUNT.search(bracket.group(1)) if bracket else None
    if quantity is None:
        quantity = _COUNT.search(order_text)
    if quantity is not None:
        kind = _unit(quantity.group(2))
        if kind == "tab" and "CAPSULE" in form:
            return f"the order says tablets, the product is a capsule ({dosage_form})"
        if kind == "cap" and "CAPSULE" not in form and "TABLET" in form:
            return f"the order says capsules, the product is a tablet ({dosage_form})"
    amount = _AMOUNT.search(dosage.split("(")[0])
    per = _STRENGTH.match(strength)
    if amount is None or per is None:
        return None
    if _unit(amount.group(2)) != _unit(per.group(2)):
        return f"the dose is in {amount.group(2)}, the strength in {per.group(2)}"
    dose = float(amount.group(1))
    unit_strength = float(per.group(1))
    liquid = per.group(4) is not None
    if liquid:
        volume = float(per.group(3) or 1)
        if quantity is None or _unit(quantity.group(2)) != "ml":
            return None
        expected = unit_strength / volume * _number(quantity.group(1))
    elif quantity is not None and _unit(quantity.group(2)) in ("tab", "cap"):
        expected = unit_strength * _number(quantity.group(1))
    else:
        ratio = dose / unit_strength
        if ratio * 2 != int(ratio * 2):
            return f"{dosage} is not a whole or half number of {strength} units"
        return None
    if abs(expected - dose) > 1e-6 * max(1.0, dose):
        return f"{dosage} does not match {strength} x the ordered quantity ({expected:g})"
    return None
