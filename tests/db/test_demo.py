"""The demo/benchmark generator against a real migrated PostgreSQL database.

School scale runs in the rolled-back ``connection``; determinism loads twice into two scratch
databases; the district scale (about a minute) only runs with MEDAPP_SLOW_TESTS=1.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from medapp.db import migrate
from medapp.db.engine import make_engine
from medapp.db.testing import scratch_database
from medapp.demo import SCALES, DemoError, load_demo
from medapp.demo.catalog import ALL_TEMPLATES, STOCK
from medapp.demo.doseagree import dose_disagreement
from medapp.demo.formulary import dea_schedule_for, read_school_formulary
from medapp.demo.sigs import SIG_BY_TEXT, SIGS

TODAY = dt.date(2026, 11, 30)  # a Monday: the window ends on a Sunday, covers Thanksgiving
NO_SHARED = {"MEDAPP_SHARED_DATA": "/nonexistent/shared/data"}


@pytest.fixture
def school(connection: Connection) -> dict[str, int]:
    return load_demo(connection, "school", 7, today=TODAY)


def _one(conn: Connection, sql: str, **params: object) -> object:
    return conn.execute(text(sql), params).scalar_one()


# --- the school demo --------------------------------------------------------------------------


def test_school_scale_has_the_expected_size(connection: Connection, school: dict[str, int]) -> None:
    assert school["schools"] == 1
    assert school["users"] == 3
    assert school["students"] == 600
    assert 190 <= school["medications"] <= 300
    assert 80 < school["student_medications"] <= 110
    assert _one(connection, "SELECT count(*) FROM student_medications WHERE is_active") == 80
    assert 1_000 <= school["medication_logs"] <= 4_000
    assert 50 <= school["medication_inventory"] <= 75
    assert 15 <= school["allergies"] <= 60  # ~5% of students, a few with two allergens
    assert 5 <= school["incident_reports"] <= 15
    assert school["school_closures"] > 0
    counted = {
        t: _one(connection, f"SELECT count(*) FROM {t}")  # noqa: S608 - fixed table names
        for t in school
    }
    assert counted == school


def test_school_staff_and_students_look_real(
    connection: Connection, school: dict[str, int]
) -> None:
    users = connection.execute(text("SELECT username, role FROM users ORDER BY username")).all()
    assert [tuple(u) for u in users] == [
        ("lead.okafor", "LEAD_NURSE"),
        ("nurse.chen", "NURSE"),
        ("nurse.rivera", "NURSE"),
    ]
    bad_numbers = _one(
        connection, "SELECT count(*) FROM students WHERE student_number !~ '^S[0-9]{6}$'"
    )
    assert bad_numbers == 0
    # Age on September 1 matches the grade (K = 5), give or take a retained year.
    ages = connection.execute(
        text(
            "SELECT grade, date_part('year', age(date '2026-09-01', date_of_birth))::int "
            "FROM students"
        )
    ).all()
    for grade, age in ages:
        expected = 5 if grade == "K" else 5 + int(grade)
        assert age in (expected, expected + 1), (grade, age)
    assert _one(connection, "SELECT count(DISTINCT last_name) FROM students") > 150


def test_orders_are_consistent(connection: Connection, school: dict[str, int]) -> None:
    rows = connection.execute(
        text(
            "SELECT frequency, is_prn, prn_min_interval_minutes, prn_max_per_day, "
            "administration_times, start_date, end_date, authorization_expires, is_active, "
            "supersedes_id "
            "FROM student_medications"
        )
    ).all()
    scheduled = [r for r in rows if r.is_active and not r.is_prn]
    assert 0.5 <= len(scheduled) / 80 <= 0.7
    for r in rows:
        sig = SIG_BY_TEXT[r.frequency]
        assert r.is_prn == sig.prn
        if r.is_prn:
            assert r.administration_times is None
            assert r.prn_min_interval_minutes == sig.min_interval_minutes
            assert r.prn_max_per_day == sig.max_per_day
        else:
            assert r.administration_times, r.frequency
            assert r.prn_min_interval_minutes is None and r.prn_max_per_day is None
    chronic = [r for r in rows if r.end_date is None and r.is_active]
    assert all(r.start_date < TODAY - dt.timedelta(days=60) for r in chronic if not r.supersedes_id)
    expiring = [r for r in chronic if TODAY <= r.authorization_expires <= TODAY + dt.timedelta(14)]
    lapsed = [r for r in rows if r.authorization_expires < TODAY]
    assert len(expiring) >= 2 and len(lapsed) >= 2
    assert any(not r.is_active for r in lapsed) and any(r.is_active for r in lapsed)
    versions = _one(
        connection, "SELECT count(*) FROM student_medications WHERE supersedes_id IS NOT NULL"
    )
    assert versions >= 2
    # Every student with an epinephrine order has a severe food or venom allergy on file.
    missing = _one(
        connection,
        """
        SELECT count(DISTINCT sm.student_id) FROM student_medications sm
          JOIN medications m ON m.id = sm.medication_id
         WHERE m.generic_name = 'epinephrine'
           AND NOT EXISTS (SELECT 1 FROM allergies a WHERE a.student_id = sm.student_id
                            AND a.severity IN ('SEVERE', 'LIFE_THREATENING'))
        """,
    )
    assert missing == 0


def test_dose_history_is_realistic(connection: Connection, school: dict[str, int]) -> None:
    by = dict(
        connection.execute(
            text(
                "SELECT coalesce(not_given_reason, status), count(*) FROM medication_logs "
                "GROUP BY 1"
            )
        ).all()
    )
    total = sum(by.values())
    assert by["GIVEN"] / total > 0.85
    assert by["ABSENT"] == max(v for k, v in by.items() if k != "GIVEN")  # most common reason
    assert {"REFUSED", "HELD"} <= by.keys()
    assert "ENTERED_IN_ERROR" not in by or by["ENTERED_IN_ERROR"] < total * 0.01
    # History ends yesterday, spans the window, and school doses fall in school hours.
    first, last = connection.execute(
        text(
            "SELECT min((time_given AT TIME ZONE 'America/New_York')::date), "
            "max((time_given AT TIME ZONE 'America/New_York')::date) FROM medication_logs"
        )
    ).one()
    assert last < TODAY and first >= TODAY - dt.timedelta(days=60)
    assert (last - first).days > 50
    outside = _one(
        connection,
        """
        SELECT count(*) FROM medication_logs
         WHERE scheduled_for IS NOT NULL
           AND (scheduled_for AT TIME ZONE 'America/New_York')::time NOT BETWEEN '08:00' AND '15:00'
        """,
    )
    assert outside == 0
    on_closed_days = _one(
        connection,
        """
        SELECT count(*) FROM medication_logs l JOIN school_closures c
          ON c.closed_on = (l.time_given AT TIME ZONE 'America/New_York')::date
        """,
    )
    weekend = _one(
        connection,
        "SELECT count(*) FROM medication_logs WHERE extract(isodow FROM time_given "
        "AT TIME ZONE 'America/New_York') > 5",
    )
    assert on_closed_days == 0 and weekend == 0
    # Late doses beyond the window carry an override reason; most GIVEN are within 15 minutes.
    on_time = _one(
        connection,
        """
        SELECT avg((abs(extract(epoch FROM time_given - scheduled_for)) <= 16 * 60)::int)
          FROM medication_logs WHERE status = 'GIVEN' AND scheduled_for IS NOT NULL
        """,
    )
    assert 0.85 < float(on_time) < 0.97  # type: ignore[arg-type]
    unexplained = _one(
        connection,
        """
        SELECT count(*) FROM medication_logs l
          JOIN student_medications sm ON sm.id = l.student_medication_id
          JOIN students st ON st.id = sm.student_id JOIN schools s ON s.id = st.school_id
         WHERE l.status = 'GIVEN' AND l.override_reason IS NULL AND l.supersedes_id IS NULL
           AND l.time_given - l.scheduled_for > make_interval(mins => s.dose_window_minutes + 1)
        """,
    )
    assert unexplained == 0
    prn = connection.execute(
        text(
            "SELECT count(*), count(l.scheduled_for) FROM medication_logs l "
            "JOIN student_medications sm ON sm.id = l.student_medication_id WHERE sm.is_prn"
        )
    ).one()
    assert prn[0] > 0 and prn[1] == 0


def test_constraints_hold(connection: Connection, school: dict[str, int]) -> None:
    doubles = _one(
        connection,
        """
        SELECT count(*) FROM (
          SELECT 1 FROM medication_logs
           WHERE status = 'GIVEN' AND scheduled_for IS NOT NULL AND superseded_at IS NULL
           GROUP BY student_medication_id, scheduled_for HAVING count(*) > 1) d
        """,
    )
    assert doubles == 0
    corrections = connection.execute(
        text(
            "SELECT e.supersedes_id, o.superseded_by_id = e.id FROM medication_logs e "
            "JOIN medication_logs o ON o.id = e.supersedes_id WHERE e.status = 'ENTERED_IN_ERROR'"
        )
    ).all()
    assert all(linked for _, linked in corrections)
    # The stock ledger ends at each lot's quantity and never goes negative.
    mismatched = _one(
        connection,
        """
        SELECT count(*) FROM medication_inventory i
         WHERE i.quantity IS DISTINCT FROM (
               SELECT a.quantity_after FROM inventory_adjustments a WHERE a.inventory_id = i.id
                ORDER BY a.created_at DESC, a.quantity_after ASC LIMIT 1)
            OR i.quantity <> (SELECT sum(delta) FROM inventory_adjustments a
                               WHERE a.inventory_id = i.id)
        """,
    )
    assert mismatched == 0
    used = _one(
        connection,
        """
        SELECT count(*) FROM medication_logs l WHERE l.quantity_used IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM inventory_adjustments a WHERE a.medication_log_id = l.id)
        """,
    )
    assert used == 0


def test_stock_has_every_kind_of_lot(connection: Connection, school: dict[str, int]) -> None:
    row = connection.execute(
        text(
            """
            SELECT count(*) FILTER (WHERE expiration_date < :today AND quantity > 0),
                   count(*) FILTER (WHERE expiration_date BETWEEN :today AND :today + 30),
                   count(*) FILTER (WHERE quantity <= reorder_level),
                   count(*) FILTER (WHERE quantity > reorder_level AND quantity <= 2 * reorder_level),
                   count(*) FILTER (WHERE quantity > 2 * reorder_level
                                      AND expiration_date > :today + 30),
                   count(*) FILTER (WHERE student_id IS NULL)
              FROM medication_inventory
            """
        ),
        {"today": TODAY},
    ).one()
    expired, near, low, warning, ok, office = row
    assert expired >= 1 and near >= 2 and low >= 2 and warning >= 2 and ok >= 20
    assert office >= 10


def test_refuses_a_database_that_has_data(connection: Connection, school: dict[str, int]) -> None:
    with pytest.raises(DemoError, match="students is not empty"):
        load_demo(connection, "school", 1, today=TODAY)


def test_refuses_unknown_scale_and_unmigrated_database(
    connection: Connection, scratch_url: str
) -> None:
    with pytest.raises(DemoError, match="Unknown demo scale"):
        load_demo(connection, "county", 1, today=TODAY)
    engine = make_engine(scratch_url)
    try:
        with engine.begin() as conn, pytest.raises(DemoError, match="medapp db upgrade"):
            load_demo(conn, "school", 1, today=TODAY)
    finally:
        engine.dispose()


def test_school_demo_works_without_shared_data(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in NO_SHARED.items():
        monkeypatch.setenv(key, value)
    counts = load_demo(connection, "school", 1, today=TODAY)
    assert counts["medications"] == len(read_school_formulary())
    assert counts.get("medication_packages", 0) == 0
    assert counts["medication_logs"] > 1_000
    # the student's page: one or two contacts each; conditions follow the orders
    assert counts["students"] <= counts["emergency_contacts"] <= 2 * counts["students"]
    asthma_without_inhaler = connection.execute(
        text(
            "SELECT count(*) FROM students s WHERE EXISTS (SELECT 1 FROM student_medications sm "
            "JOIN medications m ON m.id = sm.medication_id WHERE sm.student_id = s.id "
            "AND m.name LIKE '%HFA%') AND NOT EXISTS (SELECT 1 FROM student_conditions c "
            "WHERE c.student_id = s.id AND c.name = 'Asthma')"
        )
    ).scalar()
    assert counts["student_conditions"] > 0 and asthma_without_inhaler == 0


def test_scheduled_doses_follow_the_domain_schedule(
    connection: Connection, school: dict[str, int]
) -> None:
    """Every scheduled log is a dose the app's own rules say was due, and nearly every due
    dose has a log (the rest were never documented)."""
    sched = pytest.importorskip("medapp.domain.schedule")
    cal_mod = pytest.importorskip("medapp.domain.school")
    s = connection.execute(text("SELECT * FROM schools")).one()
    closed = frozenset(connection.execute(text("SELECT closed_on FROM school_closures")).scalars())
    calendar = cal_mod.SchoolCalendar(
        timezone=s.timezone,
        day_start=s.day_start,
        day_end=s.day_end,
        lunch_time=s.lunch_time,
        closed_dates=closed,
        school_year_end=s.school_year_end,
    )
    logged: dict[object, set[dt.datetime]] = {}
    for rx_id, at in connection.execute(
        text(
            "SELECT student_medication_id, scheduled_for FROM medication_logs WHERE scheduled_for IS NOT NULL"
        )
    ):
        logged.setdefault(rx_id, set()).add(at)
    due_total = logged_total = 0
    for r in connection.execute(text("SELECT * FROM student_medications WHERE NOT is_prn")):
        rx = sched.Prescription(
            id=r.id,
            frequency=r.frequency,
            start_date=r.start_date,
            end_date=r.end_date,
            administration_times=tuple(r.administration_times),
            authorization_expires=r.authorization_expires,
            schedule_effective_from=r.schedule_effective_from,
        )
        due: set[dt.datetime] = set()
        day = max(r.start_date, TODAY - dt.timedelta(days=60))
        while day < TODAY:
            due |= {d.scheduled_for for d in sched.doses_due_at_school(rx, calendar, day).doses}
            day += dt.timedelta(days=1)
        got = logged.get(r.id, set())
        assert got <= due, (r.frequency, sorted(got - due)[:3])
        due_total += len(due)
        logged_total += len(got)
    assert 0.93 < logged_total / due_total <= 1.0


# --- determinism ------------------------------------------------------------------------------

CHECKSUMS = {
    "students": "SELECT md5(string_agg(student_number || first_name || last_name || grade "
    "|| date_of_birth, ',' ORDER BY student_number)) FROM students",
    "logs": "SELECT md5(string_agg(id::text || status || time_given::text, ',' ORDER BY id)) "
    "FROM medication_logs",
    "orders": "SELECT md5(string_agg(id::text || frequency || dosage, ',' ORDER BY id)) "
    "FROM student_medications",
    "lots": "SELECT md5(string_agg(id::text || quantity || expiration_date, ',' ORDER BY id)) "
    "FROM medication_inventory",
}


@pytest.fixture
def two_databases(pg_server_url: str, scratch_url: str) -> Iterator[tuple[str, str]]:
    with scratch_database(pg_server_url) as other:
        yield scratch_url, other


def _load_and_sum(url: str, seed: int) -> tuple[dict[str, int], dict[str, str]]:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            counts = load_demo(conn, "school", seed, today=TODAY)
        with engine.connect() as conn:
            sums = {k: str(conn.execute(text(q)).scalar_one()) for k, q in CHECKSUMS.items()}
        return counts, sums
    finally:
        engine.dispose()


def test_same_seed_same_data(two_databases: tuple[str, str]) -> None:
    first, second = two_databases
    assert _load_and_sum(first, 42) == _load_and_sum(second, 42)


def test_other_seed_other_data(connection: Connection) -> None:
    with connection.begin_nested() as first:
        load_demo(connection, "school", 7, today=TODAY)
        seven = {k: connection.execute(text(q)).scalar_one() for k, q in CHECKSUMS.items()}
        first.rollback()
    load_demo(connection, "school", 8, today=TODAY)
    eight = {k: connection.execute(text(q)).scalar_one() for k, q in CHECKSUMS.items()}
    assert all(seven[k] != eight[k] for k in CHECKSUMS)


# --- the sigs, the formulary, the catalog -----------------------------------------------------


def test_every_demo_sig_parses() -> None:
    frequency = pytest.importorskip("medapp.domain.frequency")
    for sig in SIGS:
        parsed = frequency.parse_frequency(sig.text)
        assert parsed.prn == sig.prn, sig.text
        if sig.prn:
            minutes = parsed.min_interval.total_seconds() / 60 if parsed.min_interval else None
            assert minutes == sig.min_interval_minutes, sig.text
            assert parsed.max_per_day == sig.max_per_day, sig.text
        else:
            assert parsed.weekdays == sig.weekdays, sig.text
            assert parsed.every_n_days == sig.every_n_days, sig.text


DEMO_CALENDARS = {
    # (day start, day end, lunch): the school demo and the district's school types
    "K8": (dt.time(8, 0), dt.time(15, 0), dt.time(12, 0)),
    "ES": (dt.time(8, 30), dt.time(15, 0), dt.time(11, 45)),
    "MS": (dt.time(7, 50), dt.time(14, 40), dt.time(11, 30)),
    "HS": (dt.time(7, 20), dt.time(14, 20), dt.time(11, 15)),
}


@pytest.mark.parametrize("kind", sorted(DEMO_CALENDARS))
def test_demo_sigs_name_their_school_doses(kind: str) -> None:
    """Issue 9, rule 1: a school order's own words put its dose on the school list (the
    administration times only make it exact); a home wording never does."""
    schedule = pytest.importorskip("medapp.domain.schedule")
    school = pytest.importorskip("medapp.domain.school")
    start, end, lunch = DEMO_CALENDARS[kind]
    calendar = school.SchoolCalendar(day_start=start, day_end=end, lunch_time=lunch)
    monday = dt.date(2026, 11, 30)
    for sig in SIGS:
        if sig.prn:
            continue
        rx = schedule.Prescription(id=sig.text, frequency=sig.text, start_date=monday)
        plan = schedule.doses_due_at_school(rx, calendar, monday)
        assert not plan.has(schedule.PlanFlagCode.FREQUENCY_INVALID), sig.text
        if sig.school_times:
            assert plan.doses, (kind, sig.text, plan.flags)
        else:
            assert not plan.doses and plan.has(schedule.PlanFlagCode.HOME_DOSES_ONLY), sig.text


def test_templates_agree_with_their_products() -> None:
    items = {i.name: i for i in read_school_formulary()}
    for template in ALL_TEMPLATES:
        item = items[template.item]
        dosage = template.dose or item.dose
        why = dose_disagreement(dosage, template.sig, item.strength, item.dosage_form)
        assert why is None, (template.item, dosage, template.sig, why)
    for item in items.values():
        why = dose_disagreement(item.dose, item.frequency, item.strength, item.dosage_form)
        assert why is None, (item.name, why)


def test_dose_disagreement_catches_the_issue_example() -> None:
    assert dose_disagreement("15 mg", "1 tab PO daily at 11:30", "10 mg", "TABLET")
    assert dose_disagreement("500 mg", "1 tab PO tid", "500 mg", "CAPSULE")
    assert dose_disagreement("250 mg (10 mL)", "tid", "250 mg/5 mL", "SUSPENSION")
    assert dose_disagreement("10 mg", "1 tab PO daily at 11:30", "10 mg", "TABLET") is None
    assert dose_disagreement("0.25 mg (1/2 tab)", "1/2 tab daily", "0.5 mg", "TABLET") is None
    assert dose_disagreement("240 mg (7.5 mL)", "q4h prn", "160 mg/5 mL", "SUSPENSION") is None
    assert dose_disagreement("per sliding scale", "with lunch", "100 units/mL", "SOLUTION") is None


def test_orders_agree_with_their_products(connection: Connection, school: dict[str, int]) -> None:
    """Every order's dose matches its product's strength, including orders whose dose a
    prescriber changed (a new strength of the same drug, never "1 tab" of 10 mg as "15 mg")."""
    rows = connection.execute(
        text(
            "SELECT sm.dosage, sm.frequency, m.name, m.strength, m.dosage_form, sm.supersedes_id "
            "FROM student_medications sm JOIN medications m ON m.id = sm.medication_id"
        )
    ).all()
    assert rows
    for r in rows:
        why = dose_disagreement(r.dosage, r.frequency, r.strength, r.dosage_form)
        assert why is None, (r.name, r.dosage, r.frequency, why)


def test_a_dose_change_is_a_new_strength_of_the_same_drug() -> None:
    import random

    from medapp.demo.formulary import Formulary
    from medapp.demo.prescriptions import _other_strength

    formulary = Formulary(meds=[], items={i.name: i for i in read_school_formulary()}, by_item={})
    ritalin = next(t for t in ALL_TEMPLATES if t.item == "Ritalin 10 mg")
    new = _other_strength(formulary, ritalin, 8, random.Random(1))
    assert new is not None
    item, old = formulary.items[new.item], formulary.items["Ritalin 10 mg"]
    assert (item.generic_name, item.dosage_form) == (old.generic_name, old.dosage_form)
    assert item.strength != old.strength
    assert (
        dose_disagreement(new.dose or item.dose, ritalin.sig, item.strength, item.dosage_form)
        is None
    )
    epipen = next(t for t in ALL_TEMPLATES if t.item == "EpiPen")
    assert _other_strength(formulary, epipen, 8, random.Random(1)) is None  # PRN: no schedule


def test_school_demo_has_doses_due_today(connection: Connection, school: dict[str, int]) -> None:
    """The desk opens on a school day with doses to give (the UI tests rely on it)."""
    schedule = pytest.importorskip("medapp.domain.schedule")
    school_mod = pytest.importorskip("medapp.domain.school")
    s = connection.execute(text("SELECT * FROM schools")).one()
    calendar = school_mod.SchoolCalendar(
        timezone=s.timezone, day_start=s.day_start, day_end=s.day_end, lunch_time=s.lunch_time
    )
    due = 0
    for r in connection.execute(
        text(
            "SELECT sm.*, m.name AS medication_name FROM student_medications sm "
            "JOIN medications m ON m.id = sm.medication_id WHERE sm.is_active AND NOT sm.is_prn"
        )
    ):
        text_only = schedule.Prescription(
            id=r.id,
            frequency=r.frequency,
            start_date=r.start_date,
            end_date=r.end_date,
            medication_name=r.medication_name,
        )
        plan = schedule.doses_due_at_school(text_only, calendar, TODAY)
        due += len(plan.doses)
        assert not plan.has(schedule.PlanFlagCode.HOME_DOSES_ONLY), r.frequency
    assert due >= 30


def test_formulary_csv_and_catalog_agree() -> None:
    items = read_school_formulary()
    names = {i.name for i in items}
    assert 150 <= len(items) <= 200 and len(names) == len(items)
    assert all(i.frequency in SIG_BY_TEXT for i in items)
    ndcs = [i.ndc for i in items if i.ndc]
    assert len(ndcs) == len(set(ndcs))
    for item in items:
        assert item.dea_schedule is None or item.is_controlled, item.name
    controlled = {i.name for i in items if i.dea_schedule == "CII"}
    assert {"Concerta 18 mg", "Adderall XR 10 mg", "Vyvanse 30 mg", "Ritalin 10 mg"} <= controlled
    assert {i.dea_schedule for i in items if i.generic_name in ("diazepam", "midazolam")} == {"CIV"}
    for template in ALL_TEMPLATES:
        assert template.item in names and template.sig in SIG_BY_TEXT, template
        sig = SIG_BY_TEXT[template.sig]
        assert sig.prn or sig.school_times, f"{template.sig!r} has no school time"
    assert {item for item, *_ in STOCK} <= names


def test_formulary_ndcs_are_real_fda_products(shared_data: Path) -> None:
    """Every NDC in the school CSV is a product of the FDA file, for the same drug."""
    path = shared_data / "formulary" / "fda-ndc-products-2015.tsv"
    with open(path, encoding="utf-8", newline="") as fh:
        fda = {
            r["PRODUCTNDC"]: r for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        }
    for item in read_school_formulary():
        if not item.ndc:
            continue
        product = fda.get(item.ndc)
        assert product is not None, f"{item.name}: NDC {item.ndc} not in the FDA file"
        words = set(item.generic_name.lower().replace(",", " ").split())
        fda_words = set(product["NONPROPRIETARYNAME"].lower().replace(",", " ").split())
        assert words & fda_words, (item.name, product["NONPROPRIETARYNAME"])
        assert item.dosage_form == product["DOSAGEFORMNAME"]


def test_dea_schedule_from_ingredients() -> None:
    assert dea_schedule_for("METHYLPHENIDATE HYDROCHLORIDE") == "CII"
    assert dea_schedule_for("DIAZEPAM") == "CIV"
    assert dea_schedule_for("ACETAMINOPHEN; CODEINE PHOSPHATE") == "CIII"
    assert dea_schedule_for("CODEINE PHOSPHATE; GUAIFENESIN") == "CV"
    assert dea_schedule_for("ALBUTEROL SULFATE") is None


# --- the district benchmark -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("MEDAPP_SLOW_TESTS") != "1", reason="district load: set MEDAPP_SLOW_TESTS=1"
)
def test_district_scale_loads_within_three_minutes(scratch_url: str) -> None:
    engine = make_engine(scratch_url)
    try:
        migrate.upgrade(engine)
        started = time.perf_counter()
        with engine.begin() as conn:
            counts = load_demo(conn, "district", 1, today=TODAY)
        elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
    cfg = SCALES["district"]
    assert elapsed < 180, f"district load took {elapsed:.0f} s"
    assert counts["schools"] == 40 and counts["students"] == 50_000
    assert 100 <= counts["users"] <= 140
    assert counts["student_medications"] >= cfg.prescriptions
    assert counts["medication_logs"] > 400_000
    assert 4_500 <= counts["medication_inventory"] <= 5_500
    assert counts["medications"] >= 40_000
