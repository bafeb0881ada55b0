"""Faults with a real server: the server goes away mid-shift, the desk is killed, two desks
sync at once, a crash falls between a commit and the outbox's removal. Every dose the nurse saw
acknowledged reaches the server exactly once; a real conflict and a bad record are kept for
review and hold nothing up.

"Server down" is real: a loopback TCP forwarder (this file) in front of the test server that
the test cuts (listener closed, live connections dropped) and restores; and, for the private
database, a pgserver instance of the test's own that it stops and starts again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from medapp.cache.outbox import Outbox
from medapp.db import migrate
from medapp.db.embedded import start_embedded, stop_embedded
from medapp.db.engine import make_engine
from medapp.db.models import MedicationLog
from medapp.db.testing import scratch_database
from medapp.services.doses import DoseCommand, record_dose
from tests.db import factories as f
from tests.db.desks import desk_for
from tests.e2e.desk_process import command_to_json

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
NY = dt.timezone(dt.timedelta(hours=-5))
NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY)
NOW = dt.datetime(2026, 11, 2, 12, 20, tzinfo=NY)
DOSES = 30
KILL_AFTER = 20
CONFLICT = 7  # another nurse gives this dose online while the desk is offline
BAD = 13  # the server refuses this record's data (a witness it does not know)


class Forwarder:
    """A TCP forwarder on 127.0.0.1 to a PostgreSQL server (TCP or Unix socket) that can be
    cut — listener closed, every live connection dropped: connections are refused — and
    restored on the same port."""

    def __init__(self, target: tuple[str, int] | str) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.restore()

    def _connect_target(self) -> socket.socket:
        if isinstance(self.target, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.connect(self.target)
        return sock

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = self._connect_target()
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        pair = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


def _target_of(url: str) -> tuple[str, int] | str:
    u = make_url(url)
    host = u.query.get("host") or u.host or "127.0.0.1"
    if isinstance(host, tuple):
        host = host[0]
    port = u.port or 5432
    return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)


def _via(url: str, port: int) -> str:
    u = make_url(url)
    return u.set(host="127.0.0.1", port=port, query={}).render_as_string(hide_password=False)


@dataclass
class Server:
    """The database under test: ``direct`` for the test's own checks, ``desk`` for the desk
    processes (goes away with ``down()``), ``up()`` brings it back."""

    direct: Callable[[], str]
    desk: str
    down: Callable[[], None]
    up: Callable[[], None]


@pytest.fixture(params=["server-behind-proxy", "private-database"])
def server(request: pytest.FixtureRequest, pg_server_url: str, tmp_path: Path) -> Iterator[Server]:
    if request.param == "server-behind-proxy":
        with scratch_database(pg_server_url, "medapp_fault") as url:
            proxy = Forwarder(_target_of(url))
            try:
                yield Server(lambda: url, _via(url, proxy.port), proxy.cut, proxy.restore)
            finally:
                proxy.cut()
        return
    # A private server of the test's own (its socket path, hence the desk's URL, is the same
    # after a restart), stopped and started as the desk's PC would see it.
    pgdata = tmp_path / "pgdata"
    url = start_embedded(pgdata)
    try:
        yield Server(lambda: url, url, lambda: stop_embedded(pgdata), lambda: _restart(pgdata))
    finally:
        stop_embedded(pgdata)


def _restart(pgdata: Path) -> None:
    start_embedded(pgdata)


def _world(url: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as s:
            school = f.school(s, code=f"F{uuid.uuid4().hex[:6]}")
            n1 = f.nurse(s, school, username=f"fault.n1.{uuid.uuid4().hex[:6]}")
            n2 = f.nurse(s, school, username=f"fault.n2.{uuid.uuid4().hex[:6]}")
            student = f.student(s, school, number=f"F{uuid.uuid4().hex[:8]}")
            med = f.medication(s, ndc=None)
            orders = [
                f.prescription(
                    s,
                    student,
                    med,
                    start_date=dt.date(2026, 9, 1),
                    authorization_expires=dt.date(2027, 6, 15),
                ).id
                for _ in range(DOSES)
            ]
            s.commit()
            return {"school": school.id, "n1": n1.id, "n2": n2.id, "orders": orders}
    finally:
        engine.dispose()


def _spawn(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "desk_process.py"), str(config), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )


def _acks(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [(a, b) for a, b in (line.split() for line in lines if line.strip())]


def _wait_for_acks(path: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(_acks(path)) < n:
        if proc.poll() is not None:
            raise AssertionError(f"the desk died early: {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
        assert time.monotonic() < deadline, f"only {len(_acks(path))} of {n} doses acknowledged"
        time.sleep(0.1)


def _rows(url: str, **where: object) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            query = sql_select(func.count()).select_from(MedicationLog)
            for key, value in where.items():
                query = query.where(getattr(MedicationLog, key) == value)
            return int(s.scalar(query) or 0)
    finally:
        engine.dispose()


def test_no_acknowledged_dose_is_lost_or_doubled(server: Server, tmp_path: Path) -> None:
    ids = _world(server.direct())
    orders: list[uuid.UUID] = ids["orders"]  # type: ignore[assignment]
    plan = [
        DoseCommand(
            id=uuid.uuid4(),
            prescription_id=rx,
            nurse_id=ids["n1"],  # type: ignore[arg-type]
            status="GIVEN",
            time_given=NOON + dt.timedelta(minutes=5),
            scheduled_for=NOON,
            witness_id=uuid.uuid4() if i == BAD else None,
        )
        for i, rx in enumerate(orders)
    ]
    config = tmp_path / "desk.json"
    outbox_dir = tmp_path / "outbox"
    config.write_text(
        json.dumps(
            {
                "url": server.desk,
                "outbox": str(outbox_dir),
                "nurse_id": str(ids["n1"]),
                "school_id": str(ids["school"]),
                "now": NOW.isoformat(),
            }
        )
    )
    acks = tmp_path / "acks.txt"

    # The server goes away mid-shift; the nurse records 30 doses; the desk dies after 20.
    server.down()
    first = tmp_path / "plan-1.json"
    first.write_text(json.dumps([command_to_json(c) for c in plan]))
    desk = _spawn(config, "record", str(first), str(acks), "--pause-after", str(KILL_AFTER))
    try:
        _wait_for_acks(acks, KILL_AFTER, desk)
    finally:
        desk.send_signal(signal.SIGKILL)
        desk.communicate(timeout=30)
    assert desk.returncode == -signal.SIGKILL
    # restarted, it records the rest (still offline)
    rest = tmp_path / "plan-2.json"
    rest.write_text(json.dumps([command_to_json(c) for c in plan[KILL_AFTER:]]))
    desk = _spawn(config, "record", str(rest), str(acks))
    _out, err = desk.communicate(timeout=180)
    assert desk.returncode == 0, err[-2000:]
    acknowledged = _acks(acks)
    assert [a for a, _ in acknowledged] == [str(c.id) for c in plan]
    assert {outcome for _, outcome in acknowledged} == {"QUEUED_OFFLINE"}
    assert len(Outbox(outbox_dir)) == DOSES

    # The server is back. Meanwhile another nurse gave one of those doses (a real conflict),
    # and one dose was committed by a sync that died before removing it from the outbox.
    server.up()
    direct = server.direct()
    engine = make_engine(direct)
    try:
        from sqlalchemy.orm import sessionmaker

        sessions = sessionmaker(engine)
        record_dose(
            desk_for(sessions, ids["n2"], now=NOW),  # type: ignore[arg-type]
            DoseCommand(
                uuid.uuid4(),
                orders[CONFLICT],
                ids["n2"],  # type: ignore[arg-type]
                "GIVEN",
                NOON + dt.timedelta(minutes=2),
                NOON,
            ),
        )
        crashed = record_dose(desk_for(sessions, ids["n1"], now=NOW), plan[0])  # type: ignore[arg-type]
        assert crashed.outcome == "RECORDED"
    finally:
        engine.dispose()

    # Two desks sync the same outbox at once.
    syncs = [_spawn(config, "sync") for _ in range(2)]
    for proc in syncs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in syncs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    total = {k: sum(r[k] for r in reports) for k in ("delivered", "already_there", "rejected")}
    assert total == {"delivered": DOSES - 3, "already_there": 1, "rejected": 2}
    assert [r["still_waiting"] for r in reports] == [0, 0]
    assert not any(r["busy"] for r in reports)
    assert sorted(r["delivered"] for r in reports)[0] == 0  # one sent them all, one waited

    # Every acknowledged dose is on the server exactly once; the two kept ones are not.
    for i, cmd in enumerate(plan):
        expected = 0 if i in (CONFLICT, BAD) else 1
        assert _rows(direct, id=cmd.id) == expected, f"dose {i}"
    assert _rows(direct, student_medication_id=orders[CONFLICT]) == 1  # the other nurse's
    assert _rows(direct, recorded_offline=True) == DOSES - 3
    outbox = Outbox(outbox_dir)
    assert len(outbox) == 0
    kept = {r["id"]: r for r in outbox.to_review()}
    assert set(kept) == {plan[CONFLICT].id, plan[BAD].id}
    assert kept[plan[CONFLICT].id]["rejected_kind"] == "conflict"
    assert "already given" in kept[plan[CONFLICT].id]["rejected_reason"].lower()
    assert kept[plan[BAD].id]["rejected_kind"] == "data"


def test_the_forwarder_really_cuts(pg_server_url: str) -> None:
    """The fault is real: through a cut forwarder the server cannot be reached at all."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    proxy = Forwarder(_target_of(pg_server_url))
    engine = make_engine(_via(pg_server_url, proxy.port))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            proxy.cut()
            with pytest.raises(OperationalError):
                conn.execute(text("SELECT 1"))
        with pytest.raises(OperationalError), engine.connect():
            pass
        proxy.restore()
        engine.dispose()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        proxy.cut()
        engine.dispose()
    assert os.environ.get("QT_QPA_PLATFORM") == "offscreen"  # conftest ran: no real display
