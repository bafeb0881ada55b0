"""Rows → domain objects. One place, so every query feeds the rules the same way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from medapp.domain.doses import DoseLog, LogStatus, NotGivenReason
from medapp.domain.schedule import Prescription
from medapp.domain.school import SchoolCalendar


def calendar_from_row(school: Any, closures: Iterable[dt.date] = ()) -> SchoolCalendar:
    """``school`` is a School model or a row with the same column names."""
    return SchoolCalendar(
        timezone=school.timezone,
        day_start=school.day_start,
        day_end=school.day_end,
        lunch_time=school.lunch_time,
        closed_dates=frozenset(closures),
        dose_window=dt.timedelta(minutes=school.dose_window_minutes),
        school_year_end=school.school_year_end,
    )


def prescription_from_row(row: Any, *, effective_until: dt.datetime | None = None) -> Prescription:
    """``row`` has the ``student_medications`` columns (and optionally ``medication_name`` and
    ``generic_name``: a frequency copied from the label is read from after the name)."""
    minutes = row.prn_min_interval_minutes
    times = row.administration_times
    return Prescription(
        id=row.id,
        frequency=row.frequency,
        start_date=row.start_date,
        end_date=row.end_date,
        administration_times=tuple(sorted(set(times))) if times else None,
        authorization_expires=row.authorization_expires,
        is_active=row.is_active,
        is_prn=row.is_prn,
        prn_min_interval=dt.timedelta(minutes=minutes) if minutes else None,
        prn_max_per_day=row.prn_max_per_day,
        schedule_effective_from=row.schedule_effective_from,
        schedule_effective_until=effective_until,
        medication_name=getattr(row, "medication_name", "") or "",
        generic_name=getattr(row, "generic_name", "") or "",
    )


def dose_log_from_row(row: Any, nurse_name: str = "") -> DoseLog:
    return DoseLog(
        id=row.id,
        prescription_id=row.student_medication_id,
        status=LogStatus(row.status),
        time_given=row.time_given,
        scheduled_for=row.scheduled_for,
        nurse_name=nurse_name,
        reason=NotGivenReason(row.not_given_reason) if row.not_given_reason else None,
        notes=row.notes,
        supersedes_id=row.supersedes_id,
        superseded=row.superseded_at is not None,
        override_reason=row.override_reason,
    )
