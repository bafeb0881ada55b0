"""How much data each demo scale generates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    schools: int
    students: int
    prescriptions: int  # active orders (is_active) on the day the demo is generated
    scheduled_share: float  # of the active orders; the rest are PRN (as needed)
    log_days: int  # dose history ending yesterday
    lots: int  # medication_inventory rows (student supplies + office stock), approximate
    allergy_rate: float  # share of students with at least one allergy
    incidents: int  # incident reports, approximate
    full_formulary: bool  # every FDA product (district) or the school formulary (+ FDA extras)
    formulary_cap: int  # school formulary: fill up to this many items from the FDA file


SCALES: dict[str, Scale] = {
    "school": Scale(
        name="school",
        schools=1,
        students=600,
        prescriptions=80,
        scheduled_share=0.6,
        log_days=60,
        lots=60,
        allergy_rate=0.05,
        incidents=8,
        full_formulary=False,
        formulary_cap=300,
    ),
    "district": Scale(
        name="district",
        schools=40,
        students=50_000,
        prescriptions=5_000,
        scheduled_share=0.6,
        log_days=365,
        lots=5_000,
        allergy_rate=0.06,
        incidents=400,
        full_formulary=True,
        formulary_cap=0,
    ),
}
