"""``load_demo``: fill an empty, migrated medapp database with generated demo data."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Connection, text

from medapp import paths
from medapp.demo.base import DemoError, Progress, Stopwatch, UuidSource, make_rng
from medapp.demo.contacts import (
    CONDITION_COLUMNS,
    CONTACT_COLUMNS,
    build_conditions,
    build_contacts,
)
from medapp.demo.copyio import copy_into, copy_rows
from medapp.demo.formulary import (
    PACKAGE_COLUMNS,
    PRODUCTS_FILE,
    Med,
    build_formulary,
    find_products_file,
    package_rows,
    read_school_formulary,
)
from medapp.demo.incidents import INCIDENT_COLUMNS, build_incidents
from medapp.demo.inventory import ADJUSTMENT_COLUMNS, LOT_COLUMNS, adjustments, plan_lots
from medapp.demo.logs import LOG_COLUMNS, write_logs
from medapp.demo.people import (
    ALLERGY_COLUMNS,
    CLOSURE_COLUMNS,
    USER_SCHOOL_COLUMNS,
    School,
    Student,
    User,
    build_allergies,
    build_schools,
    build_students,
    build_users,
    closure_rows,
    user_school_rows,
)
from medapp.demo.prescriptions import RX_COLUMNS, build_orders
from medapp.demo.scales import SCALES, Scale

# Every table the demo fills, in the order the counts are reported.
TABLES = (
    "schools",
    "school_closures",
    "users",
    "user_schools",
    "students",
    "allergies",
    "medications",
    "medication_packages",
    "student_medications",
    "medication_logs",
    "medication_inventory",
    "inventory_adjustments",
    "incident_reports",
    "student_conditions",  # 0008_student_page
    "emergency_contacts",
)


def _existing_tables(conn: Connection) -> set[str]:
    rows = conn.execute(
        text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = ANY(:names)"
        ),
        {"names": list(TABLES)},
    )
    return {r[0] for r in rows}


def _has_column(conn: Connection, table: str, column: str) -> bool:
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE "
                "table_schema = current_schema() AND table_name = :t AND column_name = :c)"
            ),
            {"t": table, "c": column},
        ).scalar()
    )


def _row_audit_triggers(conn: Connection) -> list[tuple[str, str]]:
    """(table, trigger) of the audit triggers on inserts (migration 0005), if any."""
    rows = conn.execute(
        text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(:names) "
            "AND t.tgname = c.relname || '_audit_insert'"
        ),
        {"names": list(TABLES)},
    )
    return [(r[0], r[1]) for r in rows]


def _switch_triggers(conn: Connection, triggers: list[tuple[str, str]], *, enable: bool) -> None:
    """Generated history is not audited row by row (half a million dose logs would add half a
    gigabyte of audit rows describing nothing that happened): the owner, inside the load's own
    transaction, switches the insert-audit triggers off and on again; if the load fails the
    switch is rolled back with it. Application roles cannot do this (they own no table)."""
    verb = "ENABLE" if enable else "DISABLE"
    if triggers:
        # Deferred checks (one dose, one truth; the stock ledger) queued by the load run now:
        # ALTER TABLE refuses a table with pending trigger events, and the data must pass them.
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
    for table, trigger in triggers:
        conn.execute(text(f'ALTER TABLE "{table}" {verb} TRIGGER "{trigger}"'))


def _audit_summary(
    conn: Connection,
    triggers: list[tuple[str, str]],
    counts: dict[str, int],
    scale: str,
    seed: int,
) -> None:
    """One audit row per table instead: who loaded how many generated rows."""
    for table, _trigger in triggers:
        conn.execute(
            text(
                "INSERT INTO audit_log (actor, table_name, action, new_row) "
                "VALUES (medapp_actor(), :t, 'INSERT', "
                "jsonb_build_object('demo_load', CAST(:scale AS text), 'seed', CAST(:seed AS int), "
                "'rows', CAST(:n AS bigint)))"
            ),
            {"t": table, "scale": scale, "seed": seed, "n": counts.get(table, 0)},
        )


def _check_empty(conn: Connection, existing: set[str]) -> None:
    if "students" not in existing:
        raise DemoError(
            "This database has no medapp tables yet; run `medapp db upgrade` before loading "
            "demo data."
        )
    for table in ("students", *sorted(existing - {"students"})):
        if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar():
            raise DemoError(
                f"This database already has data ({table} is not empty). Demo data is only "
                "loaded into an empty database: use `medapp demo --reset` for the demo "
                "database, or a new database."
            )


def _products_file(shared_data: Path | None) -> Path | None:
    if shared_data is not None:
        found = find_products_file(Path(shared_data))
        if found is None:
            raise DemoError(f"No FDA product file at {Path(shared_data) / PRODUCTS_FILE}.")
        return found
    return find_products_file(paths.shared_data_dir())


def load_demo(
    conn: Connection,
    scale: str | Scale = "school",
    seed: int = 1,
    *,
    today: date | None = None,
    shared_data: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Fill the empty database behind ``conn`` with generated demo data; return rows per table.

    ``scale`` is "school" (one K-8 school: ~600 students, ~80 active orders, 60 days of dose
    history, ~300 formulary items), "district" (40 schools, 50,000 students, 5,000 active
    orders, 365 days of dose history — about 0.53 million log rows — and the whole FDA
    formulary) or "benchmark" (the district with 9,500 active orders: about 1 million log
    rows); see :mod:`medapp.demo.scales`. The same ``seed`` and
    ``today`` give the same data, row for row and id for id; ``today`` defaults to the
    current date and the history ends the day before it.

    Runs inside the caller's transaction (nothing is committed here) and loads with COPY.
    ``shared_data`` is the folder holding ``formulary/fda-ndc-products-2015.tsv``; by default
    the district's shared data beside the checkout is used when present (see
    :func:`medapp.paths.shared_data_dir`), else the school formulary CSV alone (district:
    plus generated look-alike products). Raises :class:`DemoError` when the database is not
    migrated or not empty, or the scale is unknown. A :class:`~medapp.demo.Scale` may be passed
    instead of a name for other sizes (``dataclasses.replace(SCALES["district"], ...)``).
    """
    if isinstance(scale, Scale):
        cfg = scale
    elif scale in SCALES:
        cfg = SCALES[scale]
    else:
        raise DemoError(f"Unknown demo scale {scale!r}; use one of: {', '.join(SCALES)}.")
    today = today or date.today()
    window_start = today - timedelta(days=cfg.log_days)
    existing = _existing_tables(conn)
    _check_empty(conn, existing)
    audit_triggers = _row_audit_triggers(conn)
    _switch_triggers(conn, audit_triggers, enable=False)
    products = _products_file(shared_data)
    sw = Stopwatch(progress)

    def ids(part: str) -> UuidSource:
        return UuidSource(make_rng(seed, f"ids/{part}"))

    # Formulary (and package barcodes when the schema and the FDA file have them).
    items = read_school_formulary()
    formulary = build_formulary(
        items,
        full=cfg.full_formulary,
        cap=cfg.formulary_cap,
        products=products,
        rng=make_rng(seed, "formulary"),
        new_id=ids("medications"),
    )
    with_source = _has_column(conn, "medications", "source")
    columns = Med.COLUMNS + (("source",) if with_source else ())
    copy_rows(
        conn,
        "medications",
        columns,
        (m.row() + ((m.source,) if with_source else ()) for m in formulary.meds),
    )
    packages = 0
    if "medication_packages" in existing and products is not None:
        packages = copy_rows(
            conn,
            "medication_packages",
            PACKAGE_COLUMNS,
            package_rows(products.parent.parent, formulary.by_ndc, ids("packages")),
        )
    source = (
        "FDA file + school list"
        if products
        else "school list + generated look-alikes"
        if cfg.full_formulary
        else "school list only"
    )
    sw.say(f"formulary: {len(formulary.meds):,} medications, {packages:,} packages ({source})")

    # Schools, calendars, staff, students.
    schools: list[School] = build_schools(
        cfg, today, (window_start, today - timedelta(1)), make_rng(seed, "schools"), ids("schools")
    )
    users: list[User] = build_users(cfg, schools, make_rng(seed, "users"), ids("users"))
    students: list[Student] = build_students(
        cfg, schools, today, make_rng(seed, "students"), ids("students")
    )
    copy_rows(conn, "schools", School.COLUMNS, (s.row() for s in schools))
    copy_rows(conn, "school_closures", CLOSURE_COLUMNS, closure_rows(schools, ids("closures")))
    copy_rows(conn, "users", User.COLUMNS, (u.row() for u in users))
    if "user_schools" in existing:
        copy_rows(conn, "user_schools", USER_SCHOOL_COLUMNS, user_school_rows(users))
    copy_rows(conn, "students", Student.COLUMNS, (s.row() for s in students))
    sw.say(f"{len(schools)} schools, {len(users)} staff, {len(students):,} students")

    # Orders, allergies, the shelf.
    orders = build_orders(
        cfg, students, formulary, today, window_start, make_rng(seed, "orders"), ids("orders")
    )
    copy_rows(conn, "student_medications", RX_COLUMNS, (rx.row() for rx in orders.rxs))
    allergy_rows = build_allergies(
        students,
        orders.epinephrine_students,
        orders.takes,
        formulary,
        cfg.allergy_rate,
        today,
        make_rng(seed, "allergies"),
        ids("allergies"),
    )
    copy_rows(conn, "allergies", ALLERGY_COLUMNS, allergy_rows)
    if {"student_conditions", "emergency_contacts"} <= existing:
        copy_rows(
            conn,
            "student_conditions",
            CONDITION_COLUMNS,
            build_conditions(orders.rxs, students, make_rng(seed, "conditions"), ids("conditions")),
        )
        copy_rows(
            conn,
            "emergency_contacts",
            CONTACT_COLUMNS,
            build_contacts(students, make_rng(seed, "contacts"), ids("contacts")),
        )
    shelf = plan_lots(
        orders.rxs, schools, formulary, cfg.lots, today, make_rng(seed, "lots"), ids("lots")
    )
    copy_rows(conn, "medication_inventory", LOT_COLUMNS, (lot.row() for lot in shelf.lots))
    sw.say(
        f"{orders.active:,} active orders ({orders.scheduled_active:,} scheduled) of "
        f"{len(orders.rxs):,}, {len(allergy_rows):,} allergies, {len(shelf.lots):,} lots"
    )

    # Dose history, straight into COPY.
    with copy_into(conn, "medication_logs", LOG_COLUMNS) as write:
        result = write_logs(orders.rxs, shelf, today, window_start, seed, ids("logs"), write)
    sw.say(
        f"{sum(result.by_status.values()):,} dose log rows "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(result.by_status.items()))}; "
        f"{result.missed:,} doses never documented)"
    )

    ledger = adjustments(shelf, today, make_rng(seed, "ledger"), ids("adjustments"))
    copy_rows(conn, "inventory_adjustments", ADJUSTMENT_COLUMNS, ledger)
    incidents = build_incidents(
        students,
        result,
        cfg.incidents,
        today,
        window_start,
        make_rng(seed, "incidents"),
        ids("incidents"),
    )
    copy_rows(conn, "incident_reports", INCIDENT_COLUMNS, incidents)
    sw.say(f"{len(ledger):,} stock ledger lines, {len(incidents):,} incident reports")

    present = [t for t in TABLES if t in existing]
    for table in present:
        conn.execute(text(f"ANALYZE {table}"))
    counts = {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in present}
    _switch_triggers(conn, audit_triggers, enable=True)
    _audit_summary(conn, audit_triggers, counts, cfg.name, seed)
    sw.say("analyzed")
    if progress is not None:
        progress(f"demo data generated in {sw.total:.1f} s (not committed yet)")
    return counts
