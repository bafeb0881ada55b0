"""The offline outbox against a real server: nothing jams it, nothing is sent twice, every
refusal is kept for review with its reason, and the counts say exactly what happened."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.outbox import Outbox, OutboxBusy, ReviewError
from medapp.db.engine import make_engine
from medapp.db.models import MedicationLog
from medapp.services.doses import (
    DoseInputError,
    SyncReport,
    field_limit,
    record_dose,
    sync_outbox,
)
from tests.db.desks import desk_for
from tests.db.factories import prescription
from tests.db.test_record_dose import NOON, NOW, given, rec, world  # noqa: F401 - fixture

REPO_ROOT = Path(__file__).resolve().parents[2]


def on_server(db, log_id: uuid.UUID) -> int:  # noqa: ANN001
    with Session(db.engine) as s:
        return int(
            s.scalar(
                select(func.count()).select_from(MedicationLog).where(MedicationLog.id == log_id)
            )
            or 0
        )


def more_orders(db, ids, n: int) -> list[uuid.UUID]:  # noqa: ANN001
    """``n`` more noon orders for the world's student, so ``n`` doses can all be given."""
    import datetime as dt

    from medapp.db.models import Medication, Student

    with Session(db.engine) as s:
        student = s.get(Student, ids["student"])
        med = s.get(Medication, ids["med"])
        made = [
            prescription(
                s,
                student,
                med,
                start_date=dt.date(2026, 9, 1),
                authorization_expires=dt.date(2027, 6, 15),
            ).id
            for _ in range(n)
        ]
        s.commit()
    return made


def test_limits_come_from_the_model_and_are_checked_when_the_nurse_records(world) -> None:  # noqa: ANN001, F811
    db, ids = world
    limit = MedicationLog.__table__.c.dosage_given.type.length
    assert field_limit("dosage_given") == limit == 100
    assert field_limit("notes") is None  # text: no limit
    with pytest.raises(DoseInputError, match=r"101 characters long; the record holds at most 100"):
        rec(db, given(ids, dosage_given="x" * 101))
    assert rec(db, given(ids, dosage_given="10 mg" + " " * 95)).outcome == "RECORDED"


def test_a_record_the_server_refuses_never_blocks_the_ones_behind_it(  # noqa: ANN001
    world,  # noqa: F811
    tmp_path: Path,
) -> None:
    db, ids = world
    rxs = more_orders(db, ids, 4)
    outbox = Outbox(tmp_path / "outbox")
    good1 = given(ids, prescription_id=rxs[0])
    too_long = given(ids, prescription_id=rxs[1], dosage_given="10 mg " * 25)  # 150 chars
    unknown_witness = given(ids, prescription_id=rxs[2], witness_id=uuid.uuid4())  # FK refused
    nul_byte = given(ids, prescription_id=rxs[3], notes="given \x00 with water")  # DataError
    good2 = given(ids)
    # the too-long record was queued by an older desk, before lengths were checked
    for cmd in (good1, too_long, unknown_witness, nul_byte, good2):
        outbox.put(cmd.to_record())

    report = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert report == SyncReport(delivered=2, already_there=0, rejected=3, still_waiting=0)
    assert report.status_text() == "Offline doses: 2 sent, 3 to review"
    assert on_server(db, good1.id) == on_server(db, good2.id) == 1
    kept = {r["id"]: r for r in outbox.to_review()}
    assert set(kept) == {too_long.id, unknown_witness.id, nul_byte.id}
    assert "at most 100" in kept[too_long.id]["rejected_reason"]
    assert kept[unknown_witness.id]["rejected_reason"].startswith("The server refused this record")
    assert {r["rejected_kind"] for r in kept.values()} == {"data"}

    # retried after the nurse shortened the text: it lands, and the review list shrinks
    outbox.retry(too_long.id, {"dosage_given": "10 mg"})
    again = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert (again.delivered, again.rejected, again.still_waiting) == (1, 0, 0)
    assert on_server(db, too_long.id) == 1
    assert outbox.review_count() == 2


def test_a_real_conflict_is_kept_for_review_and_dismissed_only_with_a_reason(  # noqa: ANN001
    world,  # noqa: F811
    tmp_path: Path,
) -> None:
    db, ids = world
    outbox = Outbox(tmp_path / "outbox")
    late = given(ids)
    outbox.put(late.to_record())
    rec(db, given(ids, nurse_id=ids["n2"]))  # another nurse gave that dose meanwhile, online
    report = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert (report.delivered, report.rejected) == (0, 1)
    (kept,) = outbox.to_review()
    assert kept["rejected_kind"] == "conflict" and "Paul Second" in kept["rejected_reason"]
    with pytest.raises(ReviewError, match="10\\+ characters"):
        outbox.dismiss(late.id, "dup", by="Nora Nurse")
    outbox.dismiss(late.id, "Paul's record of this dose is the right one", by="Nora Nurse")
    assert outbox.to_review() == []
    (audit,) = Outbox(tmp_path / "outbox").dismissed()  # on disk, after a restart too
    assert (audit["id"], audit["dismissed_by"]) == (late.id, "Nora Nurse")
    assert audit["rejected_reason"] == kept["rejected_reason"]


def test_an_unreachable_server_stops_the_pass_and_keeps_the_order(world, tmp_path: Path) -> None:  # noqa: ANN001, F811
    db, ids = world
    outbox = Outbox(tmp_path / "outbox")
    cmds = [given(ids, prescription_id=rx) for rx in more_orders(db, ids, 3)]
    for cmd in cmds:
        outbox.put(cmd.to_record())
    dead = make_engine("postgresql://medapp@127.0.0.1:1/medapp")  # a closed port
    try:
        desk = desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox, via=sessionmaker(dead))
        report = sync_outbox(desk)
    finally:
        dead.dispose()
    assert report == SyncReport(0, 0, 0, 3)
    assert [r["id"] for r in outbox.pending()] == [c.id for c in cmds]
    assert outbox.to_review() == []


def test_a_crash_between_the_commit_and_the_removal_counts_as_already_there(  # noqa: ANN001
    world,  # noqa: F811
    tmp_path: Path,
) -> None:
    db, ids = world
    outbox = Outbox(tmp_path / "outbox")
    cmd = given(ids)
    outbox.put(cmd.to_record())
    # the state such a crash leaves: the row is committed, the record is still in the outbox
    record_dose(desk_for(db.sessions, ids["n1"], now=NOW), cmd)
    report = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert report == SyncReport(delivered=0, already_there=1, rejected=0, still_waiting=0)
    assert "1 already on the server" in report.status_text()
    assert on_server(db, cmd.id) == 1


def test_a_second_sync_waits_for_the_lock_or_reports_busy(world, tmp_path: Path) -> None:  # noqa: ANN001, F811
    db, ids = world
    outbox = Outbox(tmp_path / "outbox")
    outbox.put(given(ids).to_record())
    other = Outbox(tmp_path / "outbox")  # another window of the same user
    with outbox.sync_lock():
        with pytest.raises(OutboxBusy):
            with other.sync_lock(timeout=0.2):
                pass
        report = sync_outbox(
            desk_for(db.sessions, ids["n1"], now=NOW, outbox=other), lock_timeout=0.2
        )
    assert report.busy and report.still_waiting == 1 and report.delivered == 0
    assert "another window" in report.status_text()
    assert sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=other)).delivered == 1


SYNC_SCRIPT = """
import dataclasses, json, sys, uuid, datetime as dt
from medapp.cache.outbox import Outbox
from medapp.db.engine import open_database
from medapp.services.doses import sync_outbox
from tests.db.desks import desk_for
url, folder, nurse, now = sys.argv[1:5]
db = open_database(url)
desk = desk_for(db.sessions, uuid.UUID(nurse), now=dt.datetime.fromisoformat(now),
                outbox=Outbox(__import__("pathlib").Path(folder)))
sys.stdin.readline()  # both processes start sending at once
report = sync_outbox(desk, lock_timeout=120)
print(json.dumps(dataclasses.asdict(report)), flush=True)
db.dispose()
"""


def test_two_processes_syncing_one_outbox_send_each_record_once(world, tmp_path: Path) -> None:  # noqa: ANN001, F811
    db, ids = world
    outbox = Outbox(tmp_path / "outbox")
    cmds = [given(ids, prescription_id=rx) for rx in more_orders(db, ids, 12)]
    for cmd in cmds:
        outbox.put(cmd.to_record())
    url = db.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    args = [sys.executable, "-c", SYNC_SCRIPT, url, str(outbox.directory), str(ids["n1"])]
    procs = [
        subprocess.Popen(
            [*args, NOW.isoformat()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env=env,
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["delivered"] for r in reports) == 12
    assert sum(r["rejected"] for r in reports) == 0
    assert all(r["still_waiting"] == 0 for r in reports)
    assert all(on_server(db, c.id) == 1 for c in cmds)
    assert len(Outbox(tmp_path / "outbox")) == 0


def test_report_is_a_dataclass() -> None:
    assert dataclasses.is_dataclass(SyncReport)
    assert SyncReport(3, 1, 1, 2).status_text() == (
        "Offline doses: 3 sent, 1 already on the server, 1 to review, 2 waiting"
    )


def test_a_record_the_code_cannot_handle_is_kept_and_the_rest_go(world, tmp_path: Path) -> None:  # noqa: ANN001, F811
    db, ids = world
    outbox = Outbox(tmp_path / "outbox")
    broken = {**given(ids).to_record(), "time_given": "yesterday at noon"}  # a damaged record
    good = given(ids)
    outbox.put(broken)
    outbox.put(good.to_record())
    report = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert (report.delivered, report.rejected, report.still_waiting) == (1, 1, 0)
    (kept,) = outbox.to_review()
    assert kept["id"] == broken["id"] and kept["rejected_kind"] == "error"
    assert "AttributeError" in kept["rejected_reason"]
    assert on_server(db, good.id) == 1


def test_records_under_review_are_named_only_for_a_desk_that_may_read_them(world) -> None:  # noqa: ANN001, F811
    from medapp.services.doses import describe_orders

    db, ids = world
    names = describe_orders(desk_for(db.sessions, ids["n1"], now=NOW), [ids["rx"], uuid.uuid4()])
    assert list(names) == [ids["rx"]] and "Methylphenidate 10 mg" in names[ids["rx"]]
    outsider = desk_for(db.sessions, ids["n1"], now=NOW, schools=[uuid.uuid4()])
    assert describe_orders(outsider, [ids["rx"]]) == {}
