"""The rules of medication administration, in pure Python (no GUI, no database).

Why a separate layer: every pane, job and query must apply the same rules — what a frequency
means, which doses are due at school, whether a dose was given, late or missed, whether a PRN
dose is allowed, which stock needs attention — so each rule has exactly one implementation
here, fast and exhaustively tested. Modules:

* ``frequency`` — parse prescription wording into a :class:`~frequency.Frequency` (its
  vocabulary and phrase grammar live in ``_frequency_lexicon`` and ``_frequency_grammar``).
* ``school`` — a school's calendar: timezone, hours, lunch, closed days, dose window.
* ``schedule`` — the doses due at school on a day (:func:`~schedule.doses_due_at_school`).
* ``doses`` — dose logs, corrections, and each dose's status (:func:`~doses.dose_statuses`).
* ``prn`` — as-needed limits: minimum interval and daily maximum (:func:`~prn.check_prn`).
* ``checks`` — may this dose be given now? (:func:`~checks.check_can_give`), overrides.
* ``inventory`` — stock and expiry alert classes, with the equivalent SQL.

Only the standard library is imported (``zoneinfo`` for school timezones).
"""
