"""Report data → the HTML subset ``QTextDocument`` lays out (tables, bold, small fonts).

Pure string building (no Qt, no database), so a test can read what a page will say. Every
value from the database is escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape
from zoneinfo import ZoneInfo

from medapp.domain.mar import LEGEND
from medapp.services.end_of_day import EndOfDaySummary
from medapp.services.reports import CountSheet, MarData

__all__ = ["count_sheet_html", "day_report_html", "mar_html"]

_STYLE = """
<style>
body { font-family: sans-serif; font-size: 8pt; }
h1 { font-size: 13pt; margin: 0; }
h2 { font-size: 10pt; margin-top: 8px; margin-bottom: 2px; }
td, th { padding: 1px 3px; }
th { background-color: #e8e8e8; }
.small { font-size: 7pt; color: #333333; }
.grid td, .grid th { text-align: center; font-size: 6.5pt; }
.grid td.label { text-align: left; }
.weekend { background-color: #f0f0f0; }
.alert { color: #a00000; font-weight: bold; }
.old { color: #777777; text-decoration: line-through; }
</style>
"""


_WEEKEND = ' class="weekend"'
_WEEKDAYS = ("M", "T", "W", "T", "F", "S", "S")


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else "—"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<table{klass} border="1" cellspacing="0" cellpadding="2" width="100%">'
        f"<tr>{head}</tr>{body}</table>"
    )


def _footer(printed_at: dt.datetime, printed_by: str, tz: str | None = None) -> str:
    moment = printed_at.astimezone(ZoneInfo(tz)) if tz else printed_at
    return (
        f'<p class="small">Printed {_e(moment.strftime("%Y-%m-%d %H:%M"))} by '
        f"{_e(printed_by)} — medapp. Confidential student health record.</p>"
    )


def mar_html(mar: MarData) -> str:
    """The monthly MAR: header with allergies and authorizations, the grid, the legend, and
    every record of the month."""
    allergies = "; ".join(_e(a) for a in mar.allergies) if mar.allergies else "No known allergies"
    parts = [
        "<html><head>",
        _STYLE,
        "</head><body>",
        f"<h1>Medication Administration Record — {_e(mar.title)}</h1>",
        f"<p><b>{_e(mar.student_name)}</b> &nbsp; Student no. {_e(mar.student_number)} &nbsp; "
        f"Grade {_e(mar.grade)} &nbsp; Born {_e(mar.date_of_birth.isoformat())} &nbsp; "
        f"School: {_e(mar.school_name)}</p>",
        f'<p><span class="alert">Allergies:</span> {allergies}</p>',
        "<h2>Orders and authorization</h2>",
        _table(
            (
                "Medication",
                "Dose, route",
                "Directions",
                "Prescriber",
                "In force",
                "Authorization expires",
                "Parent consent",
            ),
            (
                (
                    _e(o.medication),
                    f"{_e(o.dosage)} {_e(o.route)}",
                    _e(o.frequency),
                    _e(o.prescribed_by),
                    f"{_date(o.start_date)} – {_date(o.end_date) if o.end_date else 'open'}",
                    _date(o.authorization_expires),
                    _date(o.parent_consent_on),
                )
                for o in mar.orders
            ),
        ),
        "<h2>Administrations</h2>",
    ]
    first = dt.date(mar.year, mar.month, 1)
    days = range(1, mar.days + 1)
    weekend = {d for d in days if (first + dt.timedelta(days=d - 1)).weekday() >= 5}
    day_width = f"{82 / mar.days:.2f}%"
    head = '<tr><th class="label" width="18%">Medication, dose — time</th>' + "".join(
        f'<th width="{day_width}">{d}<br/>{_WEEKDAYS[(first + dt.timedelta(days=d - 1)).weekday()]}'
        "</th>"
        for d in days
    )
    body = []
    for row in mar.rows:
        cells = "".join(
            f"<td{_WEEKEND if d in weekend else ''}>{_e(row.cells[d - 1])}</td>" for d in days
        )
        label = f"{_e(row.order.medication)} {_e(row.order.dosage)} — {row.time.strftime('%H:%M')}"
        body.append(f'<tr><td class="label">{label}</td>{cells}</tr>')
    if not body:
        body.append(
            f'<tr><td class="label" colspan="{mar.days + 1}">No scheduled school doses this '
            "month.</td></tr>"
        )
    parts.append(
        '<table class="grid" border="1" cellspacing="0" cellpadding="1" width="100%">'
        + head
        + "</tr>"
        + "".join(body)
        + "</table>"
    )
    parts.append(
        '<p class="small"><b>Legend:</b> '
        + " &nbsp; ".join(f"<b>{_e(code)}</b> {_e(meaning)}" for code, meaning in LEGEND)
        + "</p>"
    )
    parts.append("<h2>Every record of the month</h2>")
    if mar.administrations:
        parts.append(
            _table(
                ("Date", "Time", "Medication", "Dose", "Record", "Nurse"),
                (
                    tuple(
                        f'<span class="old">{c}</span>' if not a.current else c
                        for c in (
                            _e(a.at.date().isoformat()),
                            _e(a.at.strftime("%H:%M")),
                            _e(a.medication),
                            _e(a.dosage),
                            _e(a.outcome + ("" if a.current else " (corrected)")),
                            _e(a.nurse_name),
                        )
                    )
                    for a in mar.administrations
                ),
            )
        )
    else:
        parts.append("<p>No records this month.</p>")
    parts.append(_footer(mar.printed_at, mar.printed_by))
    parts.append("</body></html>")
    return "".join(parts)


_STATUS_LABELS = {
    "COMPLETED": "Given",
    "LATE": "Given late",
    "MISSED": "Missed",
    "NOT_GIVEN": "Not given",
    "UPCOMING": "Upcoming",
    "DUE": "Due",
    "PRN": "Given (as needed)",
}


def day_report_html(day: EndOfDaySummary) -> str:
    """The end-of-day report of one school."""
    tz = ZoneInfo(day.timezone)
    c = day.counts
    reasons = ", ".join(
        f"{_e(k.replace('_', ' ').lower())} {v}" for k, v in c.not_given_reasons.items()
    )
    if day.closed:
        state = "closed: undocumented doses are recorded as missed"
    elif day.now >= day.closes_at:
        state = "over but not closed yet: the missed doses have no MISSED record yet"
    else:
        state = f"open until {day.closes_at.astimezone(tz).strftime('%H:%M')}"
    parts = [
        "<html><head>",
        _STYLE,
        "</head><body>",
        f"<h1>End-of-day report — {_e(day.school_name)}, {_e(day.day.isoformat())}</h1>",
        f"<p>The day is {_e(state)}.</p>",
        _table(
            ("Given", "Late", "Missed", "Not given", "Still open", "As needed (PRN) given"),
            (
                (
                    str(c.given),
                    str(c.late),
                    str(c.missed),
                    f"{c.not_given}" + (f" ({reasons})" if reasons else ""),
                    str(c.open),
                    str(len(day.prn_given)),
                ),
            ),
        ),
        "<h2>Scheduled doses</h2>",
    ]
    lines = [
        (
            _e(line.time.astimezone(tz).strftime("%H:%M")),
            _e(line.student_name),
            _e(line.student_number),
            _e(line.medication),
            _e(line.dosage),
            _e(_STATUS_LABELS.get(line.status, line.status)),
            _e(line.detail),
            _e(line.nurse_name),
        )
        for line in (*day.doses, *day.prn_given)
    ]
    parts.append(
        _table(
            ("Time", "Student", "No.", "Medication", "Dose", "Outcome", "Detail", "Nurse"), lines
        )
        if lines
        else "<p>No school doses this day.</p>"
    )
    parts.append("<h2>Reactions</h2>")
    parts.append(
        _table(
            ("Time", "Student", "Medication", "Severity", "Reaction", "Reported by"),
            (
                (
                    _e(r.occurred_at.astimezone(tz).strftime("%H:%M")),
                    _e(r.student_name),
                    _e(r.medication),
                    _e(r.severity.lower()),
                    _e(r.reaction),
                    _e(r.reported_by),
                )
                for r in day.reactions
            ),
        )
        if day.reactions
        else "<p>No reactions reported.</p>"
    )
    parts.append("<h2>Stock needing attention</h2>")
    parts.append(
        _table(
            ("Medication", "Lot", "Left", "Expires", "Alert"),
            (
                (
                    _e(lot.medication),
                    _e(lot.batch_number),
                    str(lot.quantity),
                    _e(lot.expiration_date.isoformat()),
                    _e(", ".join(a.replace("_", " ").lower() for a in lot.alerts)),
                )
                for lot in day.stock
            ),
        )
        if day.stock
        else "<p>No low or expired stock.</p>"
    )
    parts.append(_footer(day.now, "medapp", day.timezone))
    parts.append("</body></html>")
    return "".join(parts)


def count_sheet_html(sheet: CountSheet) -> str:
    """The controlled-substance count sheet of one lot: every count and change, both names."""
    schedule = f" (schedule {_e(sheet.dea_schedule)})" if sheet.dea_schedule else ""
    parts = [
        "<html><head>",
        _STYLE,
        "</head><body>",
        f"<h1>Controlled-substance count sheet — {_e(sheet.medication)}{schedule}</h1>",
        f"<p>Lot <b>{_e(sheet.batch_number)}</b> &nbsp; expires "
        f"{_e(sheet.expiration_date.isoformat())} &nbsp; {_e(sheet.owner)} &nbsp; "
        f"{_e(sheet.school_name)} &nbsp; on hand now: <b>{sheet.quantity}</b></p>",
        _table(
            ("Date", "Time", "Change", "Count after", "Reason", "By", "Witness"),
            (
                (
                    _e(line.at.date().isoformat()),
                    _e(line.at.strftime("%H:%M")),
                    f"{line.delta:+d}",
                    str(line.quantity_after),
                    _e(line.reason),
                    _e(line.by),
                    _e(line.witness or "—"),
                )
                for line in sheet.lines
            ),
        )
        if sheet.lines
        else "<p>No counts or changes recorded.</p>",
        _footer(sheet.printed_at, sheet.printed_by),
        "</body></html>",
    ]
    return "".join(parts)
