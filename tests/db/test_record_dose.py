"""Recording doses against a real server: idempotent, race-safe, rule-checked, stock-aware."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medapp.cache.outbox import Outbox
from medapp.db.models import Allergy, InventoryAdjustment, MedicationInventory, MedicationLog
from medapp.domain.checks import DoseRefused
from medapp.services.desk import AccessDenied
from medapp.services.doses import DoseCommand, DoseInputError, record_dose, sync_outbox
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 2)  # a Monday
NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY)
NOW = dt.datetime(2026, 11, 2, 12, 20, tzinfo=NY)


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"S{uuid.uuid4().hex[:6]}")
        n1 = f.nurse(s, sch, username=f"n1{uuid.uuid4().hex[:6]}")
        n2 = f.nurse(s, sch, username=f"n2{uuid.uuid4().hex[:6]}")
        n2.first_name, n2.last_name = "Paul", "Second"
        stu = f.student(s, sch, number=f"S{uuid.uuid4().hex[:8]}")
        med = f.medication(s, ndc=None)
        rx = f.prescription(
            s, stu, med, start_date=dt.date(2026, 9, 1), authorization_expires=dt.date(2027, 6, 15)
        )
        prn = f.prescription(
            s,
            stu,
            med,
            frequency="1 tab q4h prn headache, max 2 per day",
            administration_times=None,
            is_prn=True,
            start_date=dt.date(2026, 9, 1),
            authorization_expires=dt.date(2027, 6, 15),
        )
        lot = f.lot(s, med, quantity=3)
        s.commit()
        ids = dict(
            school=sch.id,
            n1=n1.id,
            n2=n2.id,
            student=stu.id,
            med=med.id,
            rx=rx.id,
            prn=prn.id,
            lot=lot.id,
        )
    return committed_db, ids


def given(ids, rx_key="rx", **kw) -> DoseCommand:  # noqa: ANN001
    values = dict(
        id=uuid.uuid4(),
        prescription_id=ids[rx_key],
        nurse_id=ids["n1"],
        status="GIVEN",
        time_given=NOON + dt.timedelta(minutes=5),
        scheduled_for=NOON if rx_key == "rx" else None,
    )
    values.update(kw)
    return DoseCommand(**values)


def rec(db, cmd: DoseCommand, now: dt.datetime = NOW, **kw):  # noqa: ANN001, ANN201
    """``record_dose`` at the desk of the nurse the command names."""
    return record_dose(desk_for(db.sessions, cmd.nurse_id, now=now, **kw), cmd)


def count_logs(db, rx_id) -> int:  # noqa: ANN001
    with Session(db.engine) as s:
        return s.scalar(
            select(func.count())
            .select_from(MedicationLog)
            .where(MedicationLog.student_medication_id == rx_id)
        )


def test_same_command_twice_is_one_row(world) -> None:  # noqa: ANN001
    db, ids = world
    cmd = given(ids)
    first = rec(db, cmd, now=NOW)
    second = rec(db, cmd, now=NOW)
    assert (first.outcome, second.outcome) == ("RECORDED", "ALREADY_RECORDED")
    assert count_logs(db, ids["rx"]) == 1


def test_second_given_for_the_same_dose_names_who_and_when(world) -> None:  # noqa: ANN001
    db, ids = world
    rec(db, given(ids), now=NOW)
    with pytest.raises(DoseRefused, match=r"(?i)already given at 12:05 by Nora Nurse"):
        rec(db, given(ids, nurse_id=ids["n2"]), now=NOW)
    assert count_logs(db, ids["rx"]) == 1


def test_two_pcs_at_once_exactly_one_wins(world) -> None:  # noqa: ANN001
    db, ids = world
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(nurse: str) -> None:
        cmd = given(ids, nurse_id=ids[nurse])
        barrier.wait()
        try:
            outcomes.append(rec(db, cmd, now=NOW).outcome)
        except DoseRefused as exc:
            outcomes.append(f"refused: {exc}")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("n1", "n2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(o.split(":")[0] for o in outcomes) == ["RECORDED", "refused"]
    assert count_logs(db, ids["rx"]) == 1


def test_prn_interval_and_daily_max(world) -> None:  # noqa: ANN001
    db, ids = world
    nine = dt.datetime(2026, 11, 2, 9, 0, tzinfo=NY)
    rec(db, given(ids, "prn", time_given=nine), now=NOW)
    with pytest.raises(DoseRefused, match="13:00"):  # q4h: earliest allowed 13:00
        rec(db, given(ids, "prn", time_given=nine + dt.timedelta(hours=2)), now=NOW)
    override = rec(
        db,
        given(
            ids,
            "prn",
            time_given=nine + dt.timedelta(hours=3),
            override_reason="Dr. Lee phoned: may give",
        ),
        now=NOW,
    )
    assert override.override and "Dr. Lee phoned" in override.override
    with pytest.raises(DoseRefused):  # third dose breaks max 2 per day
        rec(db, given(ids, "prn", time_given=NOW), now=NOW)


def test_future_time_refused(world) -> None:  # noqa: ANN001
    db, ids = world
    with pytest.raises(DoseRefused, match="future"):
        rec(db, given(ids, time_given=NOW + dt.timedelta(minutes=30)), now=NOW)


def test_not_given_needs_reason(world) -> None:  # noqa: ANN001
    db, ids = world
    with pytest.raises(DoseInputError, match="Say why"):
        rec(db, given(ids, status="NOT_GIVEN"), now=NOW)
    ok = rec(db, given(ids, status="NOT_GIVEN", reason="ABSENT"), now=NOW)
    assert ok.outcome == "RECORDED"


def test_allergy_blocks_until_overridden_with_reason(world) -> None:  # noqa: ANN001
    db, ids = world
    with Session(db.engine) as s:
        s.add(Allergy(student_id=ids["student"], allergen="methylphenidate", severity="SEVERE"))
        s.commit()
    with pytest.raises(DoseRefused, match="Allergy"):
        rec(db, given(ids), now=NOW)
    done = rec(db, given(ids, override_reason="Allergy is to the dye; parent confirmed"), now=NOW)
    assert "ALLERGY" in (done.override or "")


def test_stock_comes_off_the_lot_with_an_adjustment(world) -> None:  # noqa: ANN001
    db, ids = world
    two = given(ids, inventory_id=ids["lot"], quantity_used=2)
    with pytest.raises(DoseRefused, match=r"2 taken from stock for a dose of 10 mg \(expected 1\)"):
        rec(db, two)
    done = rec(db, dataclasses.replace(two, override_reason="Prescriber raised it to 20 mg today"))
    assert done.stock_left == 1
    with Session(db.engine) as s:
        adj = s.scalars(
            select(InventoryAdjustment).where(InventoryAdjustment.inventory_id == ids["lot"])
        ).one()
        assert (adj.delta, adj.quantity_after, adj.medication_log_id) == (-2, 1, done.log_id)
    with pytest.raises(DoseInputError, match="shows 1 left"):
        rec(
            db,
            given(
                ids,
                "prn",
                time_given=NOW,
                inventory_id=ids["lot"],
                quantity_used=2,
                override_reason="Prescriber raised it to 20 mg today",
            ),
            now=NOW,
        )
    with Session(db.engine) as s:
        assert s.get(MedicationInventory, ids["lot"]).quantity == 1
    assert count_logs(db, ids["prn"]) == 0  # nothing half-written


def test_offline_dose_kept_on_disk_and_lands_exactly_once(world, tmp_path) -> None:  # noqa: ANN001
    db, ids = world
    from sqlalchemy.orm import sessionmaker

    from medapp.db.engine import Database, make_engine

    dead = make_engine("postgresql://medapp@127.0.0.1:1/medapp")
    offline = Database(dead, sessionmaker(dead), "x", embedded=False)
    outbox = Outbox(tmp_path / "outbox")
    cmd = given(ids)
    queued = rec(db, cmd, outbox=outbox, via=offline.sessions)
    assert queued.outcome == "QUEUED_OFFLINE" and len(outbox) == 1
    # the PC restarts: a new Outbox object on the same folder still has it
    outbox = Outbox(tmp_path / "outbox")
    assert [r["id"] for r in outbox.pending()] == [cmd.id]
    report = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert (report.delivered, report.still_waiting) == (1, 0)
    again = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert again.delivered == 0
    # and a resend of the same id (e.g. the outbox was restored from a backup) is harmless
    outbox.put(cmd.to_record())
    resend = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert (resend.delivered, resend.already_there) == (0, 1)
    assert count_logs(db, ids["rx"]) == 1
    with Session(db.engine) as s:
        assert s.get(MedicationLog, cmd.id).recorded_offline is True
    dead.dispose()


def test_offline_dose_refused_on_arrival_is_kept_for_review(world, tmp_path) -> None:  # noqa: ANN001
    db, ids = world
    outbox = Outbox(tmp_path / "outbox")
    late = given(ids, nurse_id=ids["n2"])
    outbox.put(late.to_record())
    rec(db, given(ids), now=NOW)  # meanwhile another nurse gave it online
    report = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert (report.rejected, report.still_waiting) == (1, 0)
    kept = outbox.rejected()
    assert kept[0]["id"] == late.id and "already given" in kept[0]["rejected_reason"].lower()


# --- issue 9: one dose, one truth; plausibility; who records ----------------------------------


@pytest.mark.parametrize(
    "offset", [dt.timedelta(seconds=1), dt.timedelta(seconds=59), dt.timedelta(minutes=1)]
)
def test_a_tag_off_by_seconds_is_the_same_dose(world, offset: dt.timedelta) -> None:  # noqa: ANN001
    db, ids = world
    first = rec(db, given(ids))
    for tag in (NOON + offset, NOON - offset, None):
        with pytest.raises(DoseRefused, match="Already given at 12:05 by Nora Nurse") as refused:
            rec(db, given(ids, nurse_id=ids["n2"], scheduled_for=tag))
        assert refused.value.existing_log_id == first.log_id
        assert "Correct…" in str(refused.value)
    assert count_logs(db, ids["rx"]) == 1


def test_the_stored_tag_is_the_dose_itself(world) -> None:  # noqa: ANN001
    db, ids = world
    done = rec(db, given(ids, scheduled_for=NOON + dt.timedelta(seconds=1)))
    assert done.scheduled_for == NOON
    with Session(db.engine) as s:
        assert s.get(MedicationLog, done.log_id).scheduled_for == NOON


def test_an_early_dose_with_override_is_linked_and_not_given_again(world) -> None:  # noqa: ANN001
    db, ids = world
    early_at = dt.datetime(2026, 11, 2, 10, 55, tzinfo=NY)
    with pytest.raises(DoseRefused, match="Early"):
        rec(db, given(ids, time_given=early_at, scheduled_for=None), now=early_at)
    early = rec(
        db,
        given(
            ids,
            time_given=early_at,
            scheduled_for=None,
            override_reason="Field trip leaves at 11, parent agreed",
        ),
        now=early_at,
    )
    assert early.scheduled_for == NOON and "EARLY_DOSE" in (early.override or "")
    # 65 minutes later, from the reminder list (tagged with the noon dose): refused
    with pytest.raises(DoseRefused, match="Already given at 10:55"):
        rec(db, given(ids, nurse_id=ids["n2"], time_given=NOON), now=NOON)
    assert count_logs(db, ids["rx"]) == 1


def test_not_given_refused_after_given(world) -> None:  # noqa: ANN001
    db, ids = world
    first = rec(db, given(ids))
    with pytest.raises(DoseRefused, match="already given at 12:05") as refused:
        rec(db, given(ids, status="NOT_GIVEN", reason="REFUSED", scheduled_for=None))
    assert refused.value.existing_log_id == first.log_id
    assert count_logs(db, ids["rx"]) == 1


def test_given_after_not_given_asks_then_supersedes(world) -> None:  # noqa: ANN001
    db, ids = world
    refused = rec(db, given(ids, status="NOT_GIVEN", reason="REFUSED", time_given=NOON))
    with pytest.raises(DoseRefused, match="not given \\(Refused\\)"):
        rec(db, given(ids))
    with pytest.raises(DoseInputError, match="too short"):
        rec(db, given(ids, override_reason="ok"))
    done = rec(db, given(ids, override_reason="Student came back and took it"))
    assert done.superseded_id == refused.log_id and done.outcome == "RECORDED"
    with Session(db.engine) as s:
        old = s.get(MedicationLog, refused.log_id)
        new = s.get(MedicationLog, done.log_id)
        assert old.superseded_by_id == done.log_id and old.superseded_at is not None
        assert (new.supersedes_id, new.correction_kind) == (refused.log_id, "GIVEN_AFTER_NOT_GIVEN")
        assert new.correction_reason == "Student came back and took it"


def test_nothing_is_recorded_for_a_later_school_day(world) -> None:  # noqa: ANN001
    db, ids = world
    tomorrow = NOON + dt.timedelta(days=1)
    for status, reason in (("NOT_GIVEN", "ABSENT"), ("GIVEN", None)):
        with pytest.raises(DoseRefused, match="later school day"):
            rec(db, given(ids, status=status, reason=reason, scheduled_for=tomorrow))
    assert count_logs(db, ids["rx"]) == 0


def test_sent_home_sick_covers_the_rest_of_today(world) -> None:  # noqa: ANN001
    db, ids = world
    morning = dt.datetime(2026, 11, 2, 9, 30, tzinfo=NY)
    done = rec(
        db,
        given(ids, status="NOT_GIVEN", reason="ABSENT", time_given=morning, scheduled_for=NOON),
        now=morning,
    )
    assert done.scheduled_for == NOON


def test_prn_limits_apply_whatever_the_command_carries(world) -> None:  # noqa: ANN001
    db, ids = world
    nine = dt.datetime(2026, 11, 2, 9, 0, tzinfo=NY)
    rec(db, given(ids, "prn", time_given=nine))
    eleven = nine + dt.timedelta(hours=2)
    with pytest.raises(DoseRefused, match="Too soon"):
        rec(db, given(ids, "prn", time_given=eleven, scheduled_for=eleven))
    ok = rec(
        db,
        given(
            ids,
            "prn",
            time_given=eleven,
            scheduled_for=eleven,
            override_reason="Prescriber said by phone it may be repeated",
        ),
    )
    assert ok.scheduled_for is None  # a PRN dose carries no dose tag


def test_an_expired_lot_is_refused(world) -> None:  # noqa: ANN001
    db, ids = world
    with Session(db.engine) as s:
        from medapp.db.models import Medication

        old = f.lot(s, s.get(Medication, ids["med"]), batch_number="OLD1", quantity=5,
                    expiration_date=dt.date(2026, 10, 1))  # fmt: skip
        s.commit()
        old_id = old.id
    with pytest.raises(DoseInputError, match="Lot OLD1 expired on 2026-10-01"):
        rec(db, given(ids, inventory_id=old_id, quantity_used=1))
    assert count_logs(db, ids["rx"]) == 0


def test_dose_text_that_differs_needs_a_reason(world) -> None:  # noqa: ANN001
    db, ids = world
    with pytest.raises(DoseRefused, match="differs from the order"):
        rec(db, given(ids, dosage_given="50 tablets"))
    with pytest.raises(DoseInputError, match="words"):
        rec(db, given(ids, dosage_given="50 tablets", override_reason="..........!!"))
    assert count_logs(db, ids["rx"]) == 0


def test_who_records(world) -> None:  # noqa: ANN001
    db, ids = world
    cmd = given(ids)
    impostor = desk_for(db.sessions, ids["n2"], now=NOW)
    with pytest.raises(AccessDenied, match="signed in"):
        record_dose(impostor, cmd)
    outsider = desk_for(db.sessions, ids["n1"], now=NOW, schools=[uuid.uuid4()])
    with pytest.raises(AccessDenied):
        record_dose(outsider, cmd)
    assert count_logs(db, ids["rx"]) == 0


def test_an_outbox_resend_keeps_the_nurse_who_gave_it(world, tmp_path) -> None:  # noqa: ANN001
    db, ids = world
    outbox = Outbox(tmp_path / "outbox")
    cmd = given(ids, nurse_id=ids["n2"])
    outbox.put(cmd.to_record())
    report = sync_outbox(desk_for(db.sessions, ids["n1"], now=NOW, outbox=outbox))
    assert report.delivered == 1
    with Session(db.engine) as s:
        assert s.get(MedicationLog, cmd.id).nurse_id == ids["n2"]
