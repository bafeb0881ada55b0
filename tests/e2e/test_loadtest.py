"""A small lunch rush on the test server (issue 13): real desks (sign-in, listener, services) in
several processes on the district demo; every acknowledged dose is on the server exactly once,
no operation fails, a dose reaches the other desks of its school, and each desk keeps to the
connection budget. Slow (the district demo takes about a minute to load): MEDAPP_SLOW_TESTS=1.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from medapp.db import migrate
from medapp.db import roles as pgroles
from medapp.db.engine import make_engine
from medapp.db.testing import scratch_database
from medapp.demo import load_demo
from medapp.demo.accounts import DEMO_PASSWORD, enable_demo_sign_in
from medapp.loadtest.desk import Workload
from medapp.loadtest.runner import run_loadtest

DESKS = 20
SECONDS = 15.0


@pytest.fixture(scope="module")
def district_url(pg_server_url: str) -> Iterator[str]:
    """The district demo in a database of the module's own; its accounts renamed with a tag so
    their (server-global) roles never meet another session's demo roles."""
    tag = f"lt{uuid.uuid4().hex[:4]}."
    with scratch_database(pg_server_url) as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            with engine.begin() as conn:
                load_demo(conn, "district", 1, today=dt.date.today())
                conn.execute(text("UPDATE users SET username = :t || username"), {"t": tag})
                enable_demo_sign_in(conn, create_roles=True)
                names = conn.execute(text("SELECT username FROM users")).scalars().all()
        finally:
            engine.dispose()
        yield url
    admin = make_engine(pg_server_url)
    try:
        with admin.begin() as conn:
            for name in names:
                if pgroles.valid_username(name):
                    pgroles.drop_user_role(conn, name)
    finally:
        admin.dispose()


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("MEDAPP_SLOW_TESTS") != "1", reason="district load: set MEDAPP_SLOW_TESTS=1"
)
def test_a_small_lunch_rush_loses_nothing_and_doubles_nothing(district_url: str) -> None:
    result = run_loadtest(
        district_url,
        desks=DESKS,
        duration_s=SECONDS,
        password=DEMO_PASSWORD,
        # a denser rush than the default, so that 15 s hold every kind of operation
        workload=Workload(refresh_s=10, dose_s=5, search_s=5, inventory_s=10),
        processes=2,
    )
    ops = {op["name"]: op for op in result["operations"]}
    details = result["details"]
    assert details["desks_signed_in"] == DESKS, details["failures"]
    assert all(op["errors"] == 0 for op in ops.values()), details["error_kinds"]
    first = details["first_use"]
    assert all(op["errors"] == 0 for op in first.values()), details["error_kinds"]
    assert first["record_dose_first"]["count"] > 0  # the desks gave doses before the rush
    for name in ("record_dose", "reminders_refresh", "search", "inventory_alerts"):
        assert ops[name]["count"] > 0, name
    assert result["doses_acknowledged"] >= DESKS  # each desk gave at least one dose
    assert result["exactly_once"]
    assert details["doses_on_server"] == result["doses_acknowledged"]
    assert details["doses_given_twice"] == 0
    # another desk of the same school showed each dose (at least some, within the run)
    assert details["notify_lag_samples"] > 0 and result["notify_lag_p95_ms"] is not None
    # two per desk, plus one sign-in connection per generator process before it is released
    assert result["peak_server_connections"] <= 2 * DESKS + 2
    assert details["peak_listener_connections"] == DESKS


def test_notify_lag_pairs_a_commit_with_other_desks_of_its_school_only() -> None:
    from medapp.loadtest.desk import DeskLog
    from medapp.loadtest.runner import _lags

    giver = DeskLog("d0", "school-a", acked=[("log-1", 100.0)], seen=[("log-1", 100.1)])
    colleague = DeskLog("d1", "school-a", seen=[("log-1", 100.25), ("old-log", 50.0)])
    elsewhere = DeskLog("d2", "school-b", seen=[("log-1", 101.0)])
    lags = _lags([giver, colleague, elsewhere])
    assert lags == [pytest.approx(250.0)]  # not the giver's own list, not another school's
