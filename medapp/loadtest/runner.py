"""The load test's coordinator: plan the desks, run them in several processes, measure.

Why processes: on a 2-core PC the Python work of 200 desks (reminder sweeps, result building)
would make one process the bottleneck and measure the generator instead of the server. Each
process signs its desks in (untimed, as nurses do before lunch), reports "ready", waits for the
common start, runs the lunch rush until the deadline and sends back its measurements. The
coordinator samples ``pg_stat_activity`` meanwhile (peak server connections) and checks at the
end that every dose the server acknowledged is on the server exactly once.

The load's school day is the first weekday after today with no dose on record in the district
(so a rerun never competes with an earlier run's doses); every desk's clock starts at her
school's lunch time minus 20 minutes on that day and runs with the wall clock.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from medapp.bench.runner import percentile
from medapp.db.engine import Database, normalize_url
from medapp.db.errors import describe_target
from medapp.loadtest.desk import DeskLog, DeskSpec, SimDesk, Workload

OPERATIONS = ("record_dose", "reminders_refresh", "reminders_patch", "search", "inventory_alerts")
#: timed before the lunch rush, on each desk's first use after signing in (in ``details``)
FIRST_USE = ("record_dose_first", "reminders_patch_first", "search_first")
#: desks per generator process (threads); the number of processes is bounded by MAX_PROCESSES
DESKS_PER_PROCESS = 25
MAX_PROCESSES = 8
LUNCH_LEAD = dt.timedelta(minutes=20)


class LoadTestError(RuntimeError):
    """The load test cannot run on this database; the message says why in one sentence."""


# -- planning ---------------------------------------------------------------------------------


def _admin_engine(url: str) -> Any:
    return create_engine(normalize_url(url), poolclass=NullPool)


def plan_desks(url: str, desks: int, password: str) -> tuple[list[DeskSpec], bool]:
    """Which nurse signs in at which desk, the load's day and each school's lunch clock.

    Returns the desks and whether they sign in as on the private database (the demo's NOLOGIN
    roles taken with SET ROLE after the argon2 check) rather than with their own login."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT u.username, us.school_id, s.timezone, s.lunch_time, "
                    "coalesce(r.rolcanlogin, false) AS can_login "
                    "FROM users u JOIN user_schools us ON us.user_id = u.id "
                    "JOIN schools s ON s.id = us.school_id "
                    "LEFT JOIN pg_roles r ON r.rolname = u.username "
                    "WHERE u.role = 'NURSE' AND u.is_active "
                    "AND (SELECT count(*) FROM user_schools x WHERE x.user_id = u.id) = 1 "
                    "ORDER BY s.code, u.username"
                )
            ).all()
            if not rows:
                raise LoadTestError(
                    "This database has no nurse accounts to sign in with; load the demo first "
                    "(medapp demo --scale district) or run without --database-url."
                )
            day = _free_school_day(conn)
    finally:
        engine.dispose()
    by_school: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for r in rows:
        by_school[uuid.UUID(str(r.school_id))].append(r)
    schools = list(by_school)
    # A lunch rush: several desks per school (a notification must reach another desk of the
    # same school), as many schools as that allows.
    used = schools[: max(1, min(len(schools), desks // 2))]
    per_school: dict[uuid.UUID, int] = {sid: 0 for sid in used}
    for i in range(desks):
        per_school[used[i % len(used)]] += 1
    specs: list[DeskSpec] = []
    counter: dict[uuid.UUID, int] = defaultdict(int)
    for i in range(desks):
        sid = used[i % len(used)]
        nurses = by_school[sid]
        index = counter[sid]
        counter[sid] += 1
        nurse = nurses[index % len(nurses)]
        zone = ZoneInfo(nurse.timezone)
        lunch = dt.datetime.combine(day, nurse.lunch_time, zone) - LUNCH_LEAD
        specs.append(
            DeskSpec(
                key=f"d{i:04d}",
                username=nurse.username,
                password=password,
                school_id=sid,
                share=index,
                shares=per_school[sid],
                start_at=lunch.astimezone(dt.UTC),
                day=day,
            )
        )
    set_role = not all(r.can_login for r in rows)
    return specs, set_role


def _free_school_day(conn: Any) -> dt.date:
    """The first weekday after today with no dose log and no closure anywhere."""
    taken = {
        d
        for (d,) in conn.execute(
            text(
                "SELECT DISTINCT (time_given AT TIME ZONE 'UTC')::date FROM medication_logs "
                "WHERE time_given >= now() - interval '1 day'"
            )
        )
    }
    closed = {
        d
        for (d,) in conn.execute(
            text("SELECT DISTINCT closed_on FROM school_closures WHERE closed_on > current_date")
        )
    }
    day = dt.date.today() + dt.timedelta(days=1)
    for _ in range(3660):
        if (
            day.weekday() < 5
            and not ({day, day - dt.timedelta(days=1)} & taken)
            and day not in closed
        ):
            return day
        day += dt.timedelta(days=1)
    raise LoadTestError("No free school day found in the next ten years for the load.")


def search_words(url: str, count: int = 300) -> list[str]:
    """Words a nurse types: the first word of formulary names (no student data)."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            names = conn.execute(
                text("SELECT name FROM medications ORDER BY md5(id::text) LIMIT :n"), {"n": count}
            ).scalars()
            words = [n.split()[0].lower() for n in names if n and n.split()]
    finally:
        engine.dispose()
    return [w for w in words if len(w) >= 3] or ["amox", "ibuprofen", "albuterol"]


# -- one generator process ----------------------------------------------------------------------


def _base_database(url: str, set_role: bool) -> Database:
    """The database the desks sign in from, as the app opens it (``set_role``: as the private
    database, whose desks take their NOLOGIN role on the owner's connection)."""
    engine = create_engine(normalize_url(url), pool_size=1, max_overflow=0, pool_pre_ping=True)
    return Database(
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        url=normalize_url(url),
        embedded=set_role,
    )


def process_main(
    url: str,
    set_role: bool,
    specs: Sequence[DeskSpec],
    words: list[str],
    workload: Workload,
    seed: int,
    events: Any,
    start: Any,
    results: Any,
) -> None:
    """Entry point of a generator process: sign in, report ready, run, send the logs back."""
    import logging

    logging.disable(logging.WARNING)  # the listener's reconnect notes would flood the terminal
    base = _base_database(url, set_role)
    cache_root = Path(tempfile.mkdtemp(prefix="medapp-loadtest-"))
    t0_box: list[float] = [time.time()]
    desks = [
        SimDesk(spec, base, cache_root / spec.key, words, workload, lambda: t0_box[0], seed + i)
        for i, spec in enumerate(specs)
    ]
    signed: list[SimDesk] = []
    failures: list[str] = []
    try:
        for d in desks:
            try:
                d.sign_in()
                signed.append(d)
            except Exception as exc:  # noqa: BLE001 - reported to the coordinator
                failures.append(f"sign-in: {type(exc).__name__}: {str(exc)[:160]}")
        base.dispose()  # as the app does after a sign-in: the desks work on their own engines
        events.put(("ready", len(signed), failures))
        t0, until = start.get()
        t0_box[0] = t0
        stop = threading.Event()
        threads = [
            threading.Thread(target=d.run, args=(until, stop), name=f"desk-{d.spec.key}")
            for d in signed
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, until - time.time() + 120))
        stop.set()
        time.sleep(1.0)  # the last notifications reach the desks' lists
        for d in signed:
            d._on_changes()
    finally:
        for d in desks:
            try:
                d.close()
            except Exception:  # noqa: BLE001, S110 - closing at the end of a run
                pass
        base.dispose()
        shutil.rmtree(cache_root, ignore_errors=True)
    results.put(([asdict(d.log) for d in signed], failures))


# -- the coordinator --------------------------------------------------------------------------


class ConnectionSampler(threading.Thread):
    """Samples the server's client connections to the load's database every half second."""

    def __init__(self, url: str) -> None:
        super().__init__(name="loadtest-pg-stat", daemon=True)
        self.engine = _admin_engine(url)
        self.peak = 0
        self.peak_listeners = 0
        self._stop_evt = threading.Event()

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop_evt.is_set():
                row = conn.execute(
                    text(
                        "SELECT count(*) AS n, count(*) FILTER (WHERE application_name = "
                        "'medapp-listen') AS listeners FROM pg_stat_activity "
                        "WHERE datname = current_database() AND backend_type = 'client backend' "
                        "AND pid <> pg_backend_pid()"
                    )
                ).one()
                conn.rollback()
                self.peak = max(self.peak, int(row.n))
                self.peak_listeners = max(self.peak_listeners, int(row.listeners))
                self._stop_evt.wait(0.5)

    def stop(self) -> None:
        self._stop_evt.set()
        self.join(5)
        self.engine.dispose()


def run_loadtest(
    url: str,
    *,
    desks: int,
    duration_s: float,
    password: str,
    workload: Workload | None = None,
    processes: int | None = None,
    seed: int = 1,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Run the lunch rush and return the ``--json`` object (see the README)."""
    if desks < 1 or duration_s <= 0:
        raise LoadTestError("--desks must be at least 1 and --duration more than 0 seconds.")
    workload = workload or Workload()
    specs, set_role = plan_desks(url, desks, password)
    words = search_words(url)
    nproc = processes or min(MAX_PROCESSES, max(1, -(-desks // DESKS_PER_PROCESS)), desks)
    ctx = mp.get_context("spawn")  # a clean interpreter per process: no engine crosses a fork
    events, results = ctx.Queue(), ctx.Queue()
    starts = [ctx.Queue() for _ in range(nproc)]
    chunks = [specs[i::nproc] for i in range(nproc)]
    procs = [
        ctx.Process(
            target=process_main,
            args=(
                url,
                set_role,
                chunk,
                words,
                workload,
                seed + 1000 * i,
                events,
                starts[i],
                results,
            ),
            name=f"medapp-loadtest-{i}",
        )
        for i, chunk in enumerate(chunks)
    ]
    sampler = ConnectionSampler(url)
    sampler.start()
    progress(f"signing in {desks} desks in {nproc} processes…")
    for p in procs:
        p.start()
    failures: list[str] = []
    signed = 0
    try:
        for _ in procs:
            try:
                _kind, n, fails = _get_while_alive(events, procs, 600)
            except queue.Empty:
                raise LoadTestError(
                    "A load generator process ended before its desks signed in; run again with "
                    "-v to see its error."
                ) from None
            signed += n
            failures += fails
        progress(f"{signed} desks signed in; lunch rush for {duration_s:.0f} s…")
        t0 = time.time() + 0.5
        for q in starts:
            q.put((t0, t0 + duration_s))
        logs: list[DeskLog] = []
        for _ in procs:
            try:
                raw, fails = _get_while_alive(results, procs, duration_s + 600)
            except queue.Empty:
                failures.append("a generator process sent no results")
                continue
            logs += [DeskLog(**r) for r in raw]
            failures += fails
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.terminate()
        sampler.stop()
    progress("checking every acknowledged dose on the server…")
    return summarize(url, logs, failures, desks=desks, duration_s=duration_s, sampler=sampler)


def _get_while_alive(q: Any, procs: Sequence[Any], timeout: float) -> Any:
    """The next message, or queue.Empty once every process has ended (a crash) or on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return q.get(timeout=1.0)
        except queue.Empty:
            if not any(p.is_alive() for p in procs):
                return q.get(timeout=1.0)  # a last message sent just before the end
    raise queue.Empty


def _lags(logs: Sequence[DeskLog]) -> list[float]:
    """Commit (on one desk) → on the list of another desk of the same school, in ms."""
    committed: dict[str, tuple[float, str, str]] = {}
    for log in logs:
        early = set(log.before_rush)
        for log_id, at in log.acked:
            if log_id not in early:
                committed[log_id] = (at, log.key, log.school_id)
    lags: list[float] = []
    for log in logs:
        for log_id, seen_at in log.seen:
            origin = committed.get(log_id)
            if origin is not None and origin[1] != log.key and origin[2] == log.school_id:
                lags.append(max(0.0, (seen_at - origin[0]) * 1000))
    return lags


def verify_exactly_once(url: str, log_ids: Sequence[str]) -> dict[str, int]:
    """Every acknowledged id on the server once, and no dose given twice among them."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM medication_logs WHERE id = ANY(CAST(:ids AS uuid[]))"),
                {"ids": list(log_ids)},
            ).scalar_one()
            doubled = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM medication_logs "
                    "WHERE id = ANY(CAST(:ids AS uuid[])) AND status = 'GIVEN' "
                    "AND superseded_at IS NULL GROUP BY student_medication_id, scheduled_for "
                    "HAVING count(*) > 1) d"
                ),
                {"ids": list(log_ids)},
            ).scalar_one()
    finally:
        engine.dispose()
    return {"on_server": int(found), "given_twice": int(doubled)}


def server_settings(url: str) -> dict[str, str]:
    """What the run's server was: version and the settings the README asks a district for."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: str(conn.execute(text(f"SHOW {name}")).scalar_one())
                for name in ("server_version", "max_connections", "shared_buffers", "work_mem")
            }
    finally:
        engine.dispose()


def summarize(
    url: str,
    logs: Sequence[DeskLog],
    failures: list[str],
    *,
    desks: int,
    duration_s: float,
    sampler: ConnectionSampler,
) -> dict[str, Any]:
    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    for log in logs:
        for name, values in log.samples.items():
            samples[name] += values
        for name, n in log.errors.items():
            errors[name] += n
        for kind, n in log.error_kinds.items():
            kinds[kind] += n

    def stats(name: str) -> dict[str, Any]:
        values = samples.get(name, [])
        return {
            "count": len(values),
            "errors": errors.get(name, 0),
            "p50_ms": round(percentile(values, 50), 2) if values else None,
            "p95_ms": round(percentile(values, 95), 2) if values else None,
        }

    operations = [{"name": name, **stats(name)} for name in OPERATIONS]
    acked = [log_id for log in logs for log_id, _ in log.acked]
    check = verify_exactly_once(url, acked)
    lags = _lags(logs)
    return {
        "desks": desks,
        "duration_s": duration_s,
        "operations": operations,
        "doses_acknowledged": len(acked),
        "notify_lag_p95_ms": round(percentile(lags, 95), 1) if lags else None,
        "peak_server_connections": sampler.peak,
        "exactly_once": check["on_server"] == len(set(acked)) == len(acked)
        and check["given_twice"] == 0,
        "details": {
            "desks_signed_in": len(logs),
            "connections_per_desk": round(sampler.peak / max(1, len(logs)), 2),
            "peak_listener_connections": sampler.peak_listeners,
            "notify_lag_samples": len(lags),
            "notify_lag_p50_ms": round(percentile(lags, 50), 1) if lags else None,
            "doses_acknowledged_before_the_rush": sum(len(log.before_rush) for log in logs),
            "doses_on_server": check["on_server"],
            "doses_given_twice": check["given_twice"],
            "doses_refused": sum(log.refused for log in logs),
            "dose_turns_without_a_due_dose": sum(log.no_due_dose for log in logs),
            "first_use": {name: stats(name) for name in FIRST_USE},
            "error_kinds": dict(kinds),
            "failures": (failures + [e for log in logs for e in log.first_errors])[:20],
            "cpu_count": os.cpu_count(),
            # the machine's 1/5/15-minute load at the end: how quiet the run was
            "load_average": (
                [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
            ),
            "server": describe_target(normalize_url(url)),
            "server_settings": server_settings(url),
        },
    }
