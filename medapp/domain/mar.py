"""The codes of the monthly Medication Administration Record (MAR) grid.

Why here: the printed MAR is a legal record; what a cell says about a dose must follow the same
dose status as the screen (``domain.doses``), and one function decides it.

A cell holds the initials of the nurse who gave the dose (``*`` after them when it was given
late), or one code:
"""

from __future__ import annotations

from medapp.domain.doses import DoseStatus, NotGivenReason

__all__ = ["LEGEND", "NO_SCHOOL", "cell_code"]

NO_SCHOOL = "X"
MISSED = "M"

_REASON_CODES = {
    NotGivenReason.ABSENT: "A",
    NotGivenReason.REFUSED: "R",
    NotGivenReason.HELD: "H",
    NotGivenReason.PARENT_CALLED: "PC",
    NotGivenReason.NO_SUPPLY: "NS",
    NotGivenReason.OTHER: "O",
}

#: (code, meaning), in the order the printed legend lists them.
LEGEND: tuple[tuple[str, str], ...] = (
    ("AB", "initials of the nurse who gave the dose"),
    ("AB*", "given late (after the dose window)"),
    ("A", "absent"),
    ("R", "refused"),
    ("H", "held"),
    ("PC", "parent called"),
    ("NS", "no supply"),
    ("O", "other (see the list below)"),
    (MISSED, "missed (nothing documented)"),
    (NO_SCHOOL, "no school"),
)


def cell_code(status: DoseStatus, reason: str | None, initials: str) -> str:
    """What the MAR cell of one scheduled dose shows (blank: not yet due or due now)."""
    if status is DoseStatus.COMPLETED:
        return initials
    if status is DoseStatus.LATE:
        return f"{initials}*"
    if status is DoseStatus.NOT_GIVEN:
        try:
            return _REASON_CODES[NotGivenReason(reason or "OTHER")]
        except ValueError:
            return "O"
    if status is DoseStatus.MISSED:
        return MISSED
    return ""
