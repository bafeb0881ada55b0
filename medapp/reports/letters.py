"""Letter data → the HTML page of a letter to a parent (pure strings, every value escaped).

Written by :func:`letter_html`; ``medapp.reports.pdf.write_pdf`` makes the PDF. The wording is
plain: what is needed, by when, and whom to call.
"""

from __future__ import annotations

from html import escape

from medapp.services.letters import LetterData

__all__ = ["letter_filename", "letter_html", "letter_title"]

_STYLE = """
<style>
body { font-family: serif; font-size: 11pt; }
h1 { font-size: 14pt; margin-bottom: 2px; }
td { padding: 2px 6px; }
.small { font-size: 8pt; color: #333333; }
</style>
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _long(day: object) -> str:
    return day.strftime("%B %-d, %Y") if day is not None else "—"  # type: ignore[attr-defined]


def letter_title(data: LetterData) -> str:
    what = "Medication refill needed" if data.kind == "refill" else "Authorization renewal"
    return f"{what} — {data.student_name}"


def letter_filename(data: LetterData) -> str:
    """A file name without the student's name (it may sit in a shared folder)."""
    return f"letter-{data.kind}-{data.student_number}-{data.today.isoformat()}.pdf"


def letter_html(data: LetterData) -> str:
    facts = [
        ("Student", f"{data.student_name} (grade {data.grade}, no. {data.student_number})"),
        ("Medication", data.medication_label),
        ("Dose", f"{data.dosage}, {data.frequency}"),
        ("Prescriber", data.prescribed_by),
        ("Authorization ends", _long(data.authorization_expires)),
    ]
    if data.kind == "refill":
        heading = "Medication refill needed"
        left = data.quantity_left or 0
        if left:
            days = data.school_days_left
            lasts = (
                f" — enough for {days} more school day{'s' if days != 1 else ''}"
                if days is not None
                else ""
            )
            body = (
                f"<p>{_e(data.student_name)}'s supply of <b>{_e(data.medication_label)}</b> kept "
                f"in the school health office is running low: <b>{left} dose"
                f"{'s' if left != 1 else ''} left</b>{_e(lasts)}.</p>"
            )
            if data.runs_out_on is not None:
                body += (
                    f"<p>Please bring a new supply, in the pharmacy-labelled container, "
                    f"<b>before {_e(_long(data.runs_out_on))}</b>, so that no school dose is "
                    "missed.</p>"
                )
            else:
                body += "<p>Please bring a new supply in the pharmacy-labelled container.</p>"
        else:
            body = (
                f"<p>{_e(data.student_name)}'s supply of <b>{_e(data.medication_label)}</b> in "
                "the school health office is <b>used up</b>. Please bring a new supply, in the "
                "pharmacy-labelled container, as soon as possible: until then the school "
                "dose cannot be given.</p>"
            )
        body += (
            "<p>An adult must bring the medication to the health office (students may not "
            "carry it); the nurse counts it with you when you hand it in.</p>"
        )
        facts.append(("Doses left", str(left)))
    else:
        heading = "Medication authorization to renew"
        ends = data.authorization_expires
        verb = "ended" if ends is not None and ends < data.today else "ends"
        body = (
            f"<p>The authorization for {_e(data.student_name)} to receive "
            f"<b>{_e(data.medication_label)}</b> at school {verb} on "
            f"<b>{_e(_long(ends))}</b>.</p>"
            "<p>To continue this medication at school, please return a new medication "
            "authorization form, signed by the prescriber and by you, before that date. "
            "Without it the school may not give the medication after the authorization ends.</p>"
        )
    rows = "".join(f"<tr><td><b>{_e(k)}</b></td><td>{_e(v)}</td></tr>" for k, v in facts)
    return (
        f"<html><head>{_STYLE}</head><body>"
        f"<p>{_e(data.school_name)} — Health Office<br>{_e(_long(data.today))}</p>"
        f"<p>To the parent or guardian of {_e(data.student_name)}:</p>"
        f"<h1>{_e(heading)}</h1>"
        f"{body}"
        f'<table border="0" cellspacing="0">{rows}</table>'
        "<p>Thank you. Please call the health office with any question.</p>"
        f"<p>Sincerely,<br><br>{_e(data.nurse_name)}<br>School Nurse, {_e(data.school_name)}</p>"
        '<p class="small">Confidential student health information.</p>'
        "</body></html>"
    )
