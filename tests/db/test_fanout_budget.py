"""District scale (issue 13): notifications name the changed rows, desks patch instead of
reloading, bursts are coalesced, and a signed-in desk holds at most two server connections."""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from medapp.db.engine import Database, make_engine
from medapp.db.notify import MAX_IDS, RECONNECTED, Change, ChangeListener, Coalescer, coalesce
from medapp.db.repositories.reminders import load_inputs, patch_logs
from medapp.services import accounts
from medapp.services.desk import Role
from medapp.services.signin import sign_in
from medapp.services.students import friendly_error
from tests.db import factories as f

DAY = dt.date(2026, 11, 2)  # the factories' log day (a Monday; noon in New York)
PASSWORD = "a long enough pass phrase"


# -- payloads and coalescing (no database) ------------------------------------------------------


def test_parse_reads_the_old_and_the_new_payloads() -> None:
    old = Change.parse("medication_logs:s1")
    new = Change.parse("medication_logs:s1:a,b")
    assert old is not None and new is not None
    assert (old.table, old.school_id, old.row_ids, old.patchable) == (
        "medication_logs",
        "s1",
        (),
        False,
    )
    assert (new.row_ids, new.patchable) == (("a", "b"), True)
    assert old == new  # the same table and school: receivers keyed on them see one change
    assert Change.parse("medications:*") == Change("medications", "*")
    assert Change.parse("medications:") == Change("medications", "*")
    assert Change.parse("nonsense") is None and Change.parse(":x") is None


def test_coalesce_merges_a_burst_per_table_and_school() -> None:
    burst = [
        Change("medication_logs", "s1", ("a",)),
        Change("medication_logs", "s2", ("x",)),
        Change("medication_logs", "s1", ("b", "a")),
        Change("medications", "*"),
    ]
    merged = coalesce(burst)
    assert [(c.table, c.school_id, c.row_ids) for c in merged] == [
        ("medication_logs", "s1", ("a", "b")),
        ("medication_logs", "s2", ("x",)),
        ("medications", "*", ()),
    ]
    # one change without ids (a bulk statement) means "reload that school's list"
    reload = coalesce([Change("medication_logs", "s1", ("a",)), Change("medication_logs", "s1")])
    assert [c.row_ids for c in reload] == [()]
    # a reconnect swallows everything: the desk reloads all anyway
    assert coalesce(burst + [RECONNECTED]) == [RECONNECTED]
    assert coalesce([]) == []


def test_the_coalescer_hands_over_what_other_threads_added() -> None:
    box = Coalescer()

    def add(n: int) -> None:
        for i in range(200):
            box.add(Change("medication_logs", "s1", (f"{n}-{i}",)))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(box) == 800
    (merged,) = box.drain()
    assert len(merged.row_ids) == 800 and len(set(merged.row_ids)) == 800
    assert box.drain() == [] and len(box) == 0


# -- on the server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def school_world(committed_db: Database) -> dict[str, object]:
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"F{tag}")
        who = f.nurse(s, sch, username=f"f{tag}")
        med = f.medication(s, ndc=None)
        orders = [f.prescription(s, f.student(s, sch, number=f"F{tag}{i}"), med) for i in range(4)]
        s.commit()
        return {
            "school": sch.id,
            "nurse": who.id,
            "orders": [rx.id for rx in orders],
        }


def _next(changes: queue.Queue[Change], table: str, timeout: float = 5.0) -> Change:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            change = changes.get(timeout=0.1)
        except queue.Empty:
            continue
        if change.table == table:
            return change
    raise AssertionError(f"no {table} notification within {timeout} s")


def test_a_dose_notification_names_its_log_and_the_list_is_patched(
    committed_db: Database, school_world: dict
) -> None:  # noqa: ANN001
    school, nurse, orders = school_world["school"], school_world["nurse"], school_world["orders"]
    with committed_db.sessions() as s:
        before = load_inputs(s, DAY, [school])
    assert set(orders) <= set(before.prescriptions)
    changes: queue.Queue[Change] = queue.Queue()
    listener = ChangeListener(committed_db.engine, changes.put, poll_s=0.1)
    listener.start()
    try:
        assert listener.wait_ready()
        log_id = uuid.uuid4()
        when = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)
        with committed_db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO medication_logs (id, student_medication_id, nurse_id, "
                    "time_given, scheduled_for, status) VALUES (:id, :rx, :n, :t, :t, 'GIVEN')"
                ),
                {"id": log_id, "rx": orders[0], "n": nurse, "t": when},
            )
        change = _next(changes, "medication_logs")
        assert change.school_id == str(school) and change.row_ids == (str(log_id),)
        # three rows in one statement: one notification with the three ids
        with committed_db.engine.begin() as conn:
            ids = (
                conn.execute(
                    text(
                        "INSERT INTO medication_logs (id, student_medication_id, nurse_id, "
                        "time_given, scheduled_for, status) "
                        "SELECT gen_random_uuid(), rx, :n, :t, :t, 'GIVEN' "
                        "FROM unnest(CAST(:rxs AS uuid[])) rx RETURNING id"
                    ),
                    {"rxs": orders[1:], "n": nurse, "t": when},
                )
                .scalars()
                .all()
            )
        bulk = _next(changes, "medication_logs")
        assert sorted(bulk.row_ids) == sorted(str(i) for i in ids)
    finally:
        listener.stop()
    with committed_db.sessions() as s:
        patched = patch_logs(s, before, [log_id, *ids])
        reloaded = load_inputs(s, DAY, [school])
    assert {log.id for log in patched.logs} == {log.id for log in reloaded.logs}
    assert {log_id, *ids} <= {log.id for log in patched.logs}
    with committed_db.sessions() as s:  # patching again replaces, never duplicates
        again = patch_logs(s, patched, [log_id])
    assert len(again.logs) == len(patched.logs)


def test_a_statement_past_the_id_cap_says_reload(
    committed_db: Database, school_world: dict
) -> None:  # noqa: ANN001
    with committed_db.engine.connect() as conn:
        conn.execute(text("LISTEN medapp_changes"))
        conn.commit()
        with committed_db.engine.begin() as writer:
            writer.execute(
                text(
                    "INSERT INTO medication_logs (id, student_medication_id, nurse_id, time_given, "
                    "status) SELECT gen_random_uuid(), :rx, :n, "
                    "timestamptz '2026-06-01 12:00+00' - make_interval(hours => 2 * g), 'GIVEN' "
                    "FROM generate_series(1, :k) g"
                ),
                {"rx": school_world["orders"][3], "n": school_world["nurse"], "k": MAX_IDS + 1},
            )
        raw = conn.connection.driver_connection
        notes = [n.payload for n in raw.notifies(timeout=1.0, stop_after=10)]  # type: ignore[union-attr]
    logs = [Change.parse(p) for p in notes if p.startswith("medication_logs:")]
    assert len(logs) == 1 and logs[0] is not None and logs[0].row_ids == ()


# -- the connection budget ----------------------------------------------------------------------


def _connections_of(admin: Database, username: str) -> int:
    with admin.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE usename = :u"), {"u": username}
            ).scalar_one()
        )


def test_a_busy_signed_in_desk_holds_at_most_two_server_connections(
    committed_db: Database,
    school_world: dict,
    login_roles,  # noqa: ANN001
) -> None:
    from medapp.services.reminders import reminders_for_school
    from medapp.services.search import search_medications

    name = login_roles.new("budget")
    with committed_db.engine.connect() as conn:
        school_name = conn.execute(
            text("SELECT name FROM schools WHERE id = :s"), {"s": school_world["school"]}
        ).scalar_one()
    accounts.create_user(committed_db, name, Role.NURSE, [school_name], PASSWORD, "Bea", "Budget")
    admin = Database(make_engine(committed_db.url), committed_db.sessions, committed_db.url, False)
    signed = sign_in(committed_db, name, PASSWORD)
    listener = ChangeListener(signed.db.engine, lambda _c: None, poll_s=0.1)
    listener.start()
    peak = 0
    try:
        assert listener.wait_ready()
        desk = signed.desk()
        stop = threading.Event()
        failures: list[BaseException] = []

        def work() -> None:  # the GUI's background tasks, all at once on her one connection
            try:
                for _ in range(5):
                    reminders_for_school(desk, school_world["school"], DAY)
                    with desk.sessions() as s:
                        search_medications(s, "meth")
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        workers = [threading.Thread(target=work) for _ in range(4)]
        for t in workers:
            t.start()
        while any(t.is_alive() for t in workers):
            peak = max(peak, _connections_of(admin, name))
            stop.wait(0.02)
        for t in workers:
            t.join()
        assert not failures
        assert 1 <= peak <= 2
    finally:
        listener.stop()
        signed.close()
    # Signed out (or locked): nothing held. The client closes its sockets at once; the server's
    # backends leave pg_stat_activity when they have exited, a moment later on a busy machine.
    assert _settled_connections_of(admin, name) == 0
    admin.dispose()


def _settled_connections_of(admin: Database, username: str, within_s: float = 10.0) -> int:
    """Her connections once the server's backends have exited (bounded wait)."""
    deadline = time.monotonic() + within_s
    count = _connections_of(admin, username)
    while count and time.monotonic() < deadline:
        time.sleep(0.05)
        count = _connections_of(admin, username)
    return count


def test_a_task_waiting_too_long_for_the_connection_gets_a_sentence(
    committed_db: Database,
    school_world: dict,
    login_roles,  # noqa: ANN001
) -> None:
    name = login_roles.new("wait")
    with committed_db.engine.connect() as conn:
        school_name = conn.execute(
            text("SELECT name FROM schools WHERE id = :s"), {"s": school_world["school"]}
        ).scalar_one()
    accounts.create_user(committed_db, name, Role.NURSE, [school_name], PASSWORD, "Wu", "Wait")
    signed = sign_in(committed_db, name, PASSWORD)
    try:
        signed.db.engine.pool._timeout = 0.2  # type: ignore[attr-defined]  # (20 s in the app)
        with signed.db.engine.connect():
            with pytest.raises(PoolTimeout) as caught:
                signed.db.engine.connect()
        assert "busy" in friendly_error(caught.value)
    finally:
        signed.close()


def test_the_listener_address_keeps_a_password_with_spaces_and_symbols() -> None:
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from medapp.db.notify import libpq_dsn

    url = make_url("postgresql+psycopg://x@127.0.0.1:5433/medapp").set(
        username="nurse.b", password="a pass @/:phrase"
    )
    engine = create_engine(url)
    try:
        parts = conninfo_to_dict(libpq_dsn(engine))
    finally:
        engine.dispose()
    assert parts == {
        "host": "127.0.0.1",
        "port": "5433",
        "dbname": "medapp",
        "user": "nurse.b",
        "password": "a pass @/:phrase",
    }
