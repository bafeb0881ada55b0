"""Migrations are the only way the schema is made: they must round-trip and match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from medapp.db import migrate
from medapp.db.engine import make_engine
from medapp.db.errors import DatabaseUnavailable
from medapp.db.models import Base

EXPECTED_TABLES = {
    "schools",
    "school_closures",
    "users",
    "students",
    "allergies",
    "medications",
    "student_medications",
    "medication_logs",
    "medication_inventory",
    "inventory_adjustments",
    "incident_reports",
}


def test_upgrade_downgrade_upgrade_on_empty_database(scratch_url: str) -> None:
    engine = make_engine(scratch_url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.is_up_to_date(engine)
        assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())

        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        leftover = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert leftover == set()
        with engine.connect() as conn:
            functions = (
                conn.execute(text("SELECT proname FROM pg_proc WHERE proname LIKE 'medapp_%'"))
                .scalars()
                .all()
            )
        assert functions == []

        migrate.upgrade(engine)
        assert migrate.is_up_to_date(engine)
    finally:
        engine.dispose()


def test_models_match_migrations(engine) -> None:  # noqa: ANN001
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_plan_indexes_exist(engine) -> None:  # noqa: ANN001
    insp = inspect(engine)
    names = {
        table: {ix["name"] for ix in insp.get_indexes(table)}
        for table in (
            "medications",
            "medication_logs",
            "student_medications",
            "medication_inventory",
        )
    }
    assert "medications_search_idx" in names["medications"]
    assert "medication_logs_time_student_idx" in names["medication_logs"]
    assert "uq_medication_logs_one_given_per_dose" in names["medication_logs"]
    assert "student_medications_active_idx" in names["student_medications"]
    assert {"inventory_expiration_idx", "inventory_stock_idx"} <= names["medication_inventory"]


def test_a_schema_from_a_newer_medapp_is_refused_in_one_sentence(scratch_url: str) -> None:
    """An older medapp installed over a newer one must not crash with alembic's traceback."""
    eng = make_engine(scratch_url)
    try:
        migrate.upgrade(eng)
        with eng.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
        with pytest.raises(DatabaseUnavailable, match="0099_from_the_future.*newer medapp"):
            migrate.upgrade(eng)
    finally:
        eng.dispose()
