"""How much data each demo scale generates.

About the size of the dose history: a scheduled school order is due about once per school day
(most are one midday dose; some are Mon/Wed/Fri or every other day; short courses end), and a
school year has about 180 school days, so a year of the district's 5,000 active orders (60%
scheduled) realistically gives about 0.53 million log rows. ``benchmark`` is the district with
9,500 active orders, which gives about 1 million rows of the same shape for load and query
benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


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
SCALES["benchmark"] = replace(SCALES["district"], name="benchmark", prescriptions=9_500)
