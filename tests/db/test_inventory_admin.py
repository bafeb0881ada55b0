"""The office shelf on a real database: listing a school's lots with the domain's alert classes,
correcting a count (one transaction with its ledger row, never negative, witnessed when
controlled, once per id, refused when the count moved meanwhile), receiving a lot; the people a
desk may be signed in as; and the formulary snapshot the search box uses offline."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from medapp.cache.store import FORMULARY_TAG, Cache
from medapp.db.engine import Database, make_engine
from medapp.db.models import InventoryAdjustment, MedicationInventory, User
from medapp.domain.inventory import classify_lot
from medapp.services.desk import AccessDenied, Actor, Desk, Role
from medapp.services.formulary_cache import (
    SNAPSHOT_KEY,
    SnapshotHolder,
    build_snapshot,
    ensure_snapshot,
    is_connection_error,
    load_snapshot,
    lookup_code,
    search_formulary,
)
from medapp.services.inventory_admin import (
    InventoryInputError,
    LotAdjustment,
    LotChanged,
    NewLot,
    add_lot,
    adjust_lot,
    alert_counts,
    school_lots,
)
from medapp.services.passwords import hash_password
from medapp.services.people import desk_users, list_schools, still_allowed
from medapp.services.signin import verify_password
from tests.db import factories as f
from tests.db.desks import desk_for, reader_desk

TODAY = dt.date(2026, 11, 2)


@pytest.fixture
def shelf(committed_db, login_roles):  # noqa: ANN001, ANN201
    """A school with two nurses, an aide elsewhere, a plain and a controlled medication, and
    lots in every alert class."""
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        school = f.school(s, code=f"S{tag}")
        other = f.school(s, code=f"O{tag}")
        nurse = f.nurse(s, school, username=f"nurse.a.{tag}")
        second = f.nurse(s, school, username=f"nurse.b.{tag}")
        second.first_name, second.last_name = "Bea", "Second"
        elsewhere = f.nurse(s, other, username=f"nurse.c.{tag}")
        gone = f.nurse(s, school, username=f"nurse.d.{tag}")
        gone.is_active = False
        for user in (nurse, second, elsewhere, gone):  # private-database passwords (argon2)
            user.password_hash = hash_password(WITNESS_PASSWORD)
            login_roles.names.append(user.username)  # roles made at the first check: dropped
        plain = f.medication(s, name=f"Ibuprofen {tag}", ndc=None)
        plain.is_controlled, plain.dea_schedule, plain.generic_name = False, None, "ibuprofen"
        controlled = f.medication(s, name=f"Ritalin {tag}", ndc=None)
        student = f.student(s, school, number=f"N{tag}")
        lots = {
            "ok": f.lot(
                s,
                plain,
                school_id=school.id,
                quantity=50,
                reorder_level=10,
                expiration_date=TODAY + dt.timedelta(days=200),
                batch_number="OK1",
            ),
            "expired": f.lot(
                s,
                plain,
                school_id=school.id,
                quantity=5,
                reorder_level=1,
                expiration_date=TODAY,
                batch_number="EXP1",
            ),
            "near": f.lot(
                s,
                plain,
                school_id=school.id,
                quantity=30,
                reorder_level=2,
                expiration_date=TODAY + dt.timedelta(days=30),
                batch_number="NEAR1",
            ),
            "low": f.lot(
                s,
                plain,
                school_id=school.id,
                quantity=10,
                reorder_level=10,
                expiration_date=TODAY + dt.timedelta(days=300),
                batch_number="LOW1",
            ),
            "warning": f.lot(
                s,
                plain,
                school_id=school.id,
                quantity=15,
                reorder_level=10,
                expiration_date=TODAY + dt.timedelta(days=300),
                batch_number="W1",
            ),
            "empty": f.lot(
                s,
                plain,
                school_id=school.id,
                quantity=0,
                reorder_level=5,
                expiration_date=TODAY - dt.timedelta(days=3),
                batch_number="E0",
            ),
            "controlled": f.lot(
                s,
                controlled,
                school_id=school.id,
                student_id=student.id,
                quantity=12,
                reorder_level=5,
                expiration_date=TODAY + dt.timedelta(days=100),
                batch_number="C1",
            ),
            "elsewhere": f.lot(
                s,
                plain,
                school_id=other.id,
                quantity=9,
                reorder_level=1,
                expiration_date=TODAY + dt.timedelta(days=100),
                batch_number="X1",
            ),
        }
        s.commit()
        ids = {
            "school": school.id,
            "other": other.id,
            "nurse": nurse.id,
            "second": second.id,
            "elsewhere": elsewhere.id,
            "gone": gone.id,
            "plain": plain.id,
            "controlled": controlled.id,
            "student": student.id,
            "tag": tag,
        }
        ids.update({f"lot_{k}": v.id for k, v in lots.items()})
    return committed_db, ids


def quantity(db: Database, lot_id: uuid.UUID) -> int:
    with Session(db.engine) as s:
        lot = s.get(MedicationInventory, lot_id)
        assert lot is not None
        return lot.quantity


def ledger(db: Database, lot_id: uuid.UUID) -> list[InventoryAdjustment]:
    with Session(db.engine) as s:
        return list(
            s.scalars(
                select(InventoryAdjustment)
                .where(InventoryAdjustment.inventory_id == lot_id)
                .order_by(InventoryAdjustment.created_at)
            )
        )


# --- listing ---------------------------------------------------------------------------------


def test_school_lots_carry_the_domain_alert_classes(shelf) -> None:  # noqa: ANN001
    db, ids = shelf
    overview = school_lots(reader_desk(db.sessions, [ids["school"]]), ids["school"], today=TODAY)
    by_batch = {lot.batch_number: lot for lot in overview.lots}
    assert set(by_batch) == {"OK1", "EXP1", "NEAR1", "LOW1", "W1", "E0", "C1"}  # not X1
    for lot in overview.lots:
        status = classify_lot(lot.quantity, lot.reorder_level, lot.expiration_date, TODAY)
        assert (lot.expiry_status, lot.stock_status) == (status.expiry.value, status.stock.value)
    assert by_batch["EXP1"].alerts == ("EXPIRED",)
    assert by_batch["NEAR1"].alerts == ("NEAR_EXPIRY",)
    assert by_batch["LOW1"].status == "LOW_STOCK"
    assert by_batch["W1"].status == "WARNING"
    assert by_batch["OK1"].status == "OK" and by_batch["OK1"].alerts == ()
    # an empty lot is listed but raises no alert (as in the alert view)
    assert by_batch["E0"].status == "EMPTY" and by_batch["E0"].alerts == ()
    assert by_batch["C1"].student_name == "Lovelace, Ada" and by_batch["C1"].is_controlled
    assert overview.counts == {"EXPIRED": 1, "NEAR_EXPIRY": 1, "LOW_STOCK": 1, "WARNING": 1}
    assert overview.counts == alert_counts(overview.lots)
    assert [lot.expiration_date for lot in overview.lots] == sorted(
        lot.expiration_date for lot in overview.lots
    )
    assert by_batch["EXP1"].days_left == 0 and by_batch["NEAR1"].days_left == 30


def test_school_lots_of_some_medications_only(shelf) -> None:  # noqa: ANN001
    db, ids = shelf
    only = school_lots(
        reader_desk(db.sessions, [ids["school"]]),
        ids["school"],
        medication_ids=[ids["controlled"]],
        today=TODAY,
    )
    assert [lot.batch_number for lot in only.lots] == ["C1"]
    assert (
        school_lots(
            reader_desk(db.sessions, [ids["school"]]), ids["school"], medication_ids=[], today=TODAY
        ).lots
        == ()
    )
    with pytest.raises(InventoryInputError):
        school_lots(reader_desk(db.sessions, [ids["school"]], role=Role.AUDITOR), uuid.uuid4())


# --- adjusting -------------------------------------------------------------------------------


WITNESS_PASSWORD = "witness pass phrase"


def desk(db: Database, ids: dict, who: str = "nurse", role: Role = Role.NURSE) -> Desk:
    """The desk of ``who`` (a nurse of the shelf's school, unless said otherwise), on the
    base connection, with the witness's password checked as on the private database."""
    with Session(db.engine) as s:
        user = s.get(User, ids[who])
        assert user is not None
        actor = Actor(
            user.id,
            user.username,
            user.first_name,
            user.last_name,
            role,
            frozenset({user.school_id}) if user.school_id else frozenset(),
            user.is_active,
        )
    private = Database(db.engine, db.sessions, db.url, embedded=True)
    return Desk(
        db.sessions,
        actor,
        check_password=lambda name, pw: verify_password(private, name, pw),
    )


def username(ids: dict, who: str) -> str:
    return {"nurse": "nurse.a", "second": "nurse.b", "elsewhere": "nurse.c", "gone": "nurse.d"}[
        who
    ] + f".{ids['tag']}"


def test_adjusting_writes_the_count_and_its_ledger_row_together(shelf) -> None:  # noqa: ANN001
    db, ids = shelf
    lot = ids["lot_ok"]
    cmd = LotAdjustment(
        id=uuid.uuid4(),
        inventory_id=lot,
        reason="  Wasted   (dropped) ",
        delta=-3,
        expected_quantity=50,
    )
    result = adjust_lot(desk(db, ids), cmd)
    assert (result.delta, result.quantity_after, result.already_recorded) == (-3, 47, False)
    assert result.school_id == ids["school"]
    assert quantity(db, lot) == 47
    rows = ledger(db, lot)
    assert [(r.id, r.delta, r.quantity_after, r.reason, r.user_id) for r in rows] == [
        (cmd.id, -3, 47, "Wasted (dropped)", ids["nurse"])
    ]
    # the same press arriving again (a double click, a retry) changes nothing more
    again = adjust_lot(desk(db, ids), cmd)
    assert again.already_recorded and again.quantity_after == 47
    assert quantity(db, lot) == 47 and len(ledger(db, lot)) == 1


def test_a_counted_quantity_sets_the_count(shelf) -> None:  # noqa: ANN001
    db, ids = shelf
    result = adjust_lot(
        desk(db, ids),
        LotAdjustment(uuid.uuid4(), ids["lot_low"], "Physical count", new_quantity=14),
    )
    assert (result.delta, result.quantity_after) == (4, 14)
    assert quantity(db, ids["lot_low"]) == 14


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"delta": -6}, "quantity", "below zero"),
        ({"new_quantity": -1}, "quantity", "between 0"),
        ({"new_quantity": 5}, "quantity", "same"),
        ({"delta": None}, "quantity", "either"),
        ({"delta": 2, "new_quantity": 3}, "quantity", "either"),
        ({"delta": -1, "reason": "   "}, "reason", "why"),
        ({"delta": -1, "reason": "x" * 301}, "reason", "longer"),
    ],
)
def test_refused_changes_leave_the_lot_alone(shelf, kwargs, field, words) -> None:  # noqa: ANN001
    db, ids = shelf
    lot = ids["lot_expired"]  # holds 5
    values = {"reason": "Count", **kwargs}
    with pytest.raises(InventoryInputError) as err:
        adjust_lot(desk(db, ids), LotAdjustment(uuid.uuid4(), lot, **values))
    assert err.value.field == field and words in str(err.value)
    assert quantity(db, lot) == 5 and ledger(db, lot) == []


def test_a_controlled_count_needs_the_witness_own_password(shelf) -> None:  # noqa: ANN001
    db, ids = shelf
    lot = ids["lot_controlled"]

    def attempt(witness: str | None, password: str | None = WITNESS_PASSWORD) -> object:
        return adjust_lot(
            desk(db, ids),
            LotAdjustment(
                uuid.uuid4(),
                lot,
                "Wasted",
                delta=-1,
                witness_username=witness,
                witness_password=password,
            ),
        )

    with pytest.raises(InventoryInputError, match="witness") as err:
        attempt(None)
    assert err.value.field == "witness" and "controlled" in str(err.value)
    with pytest.raises(InventoryInputError, match="someone else"):
        attempt(username(ids, "nurse"))
    with pytest.raises(InventoryInputError) as err:
        attempt(username(ids, "second"), None)
    assert err.value.field == "witness_password"
    with pytest.raises(InventoryInputError) as err:  # a name picked from a list is not enough
        attempt(username(ids, "second"), "not her password")
    assert err.value.field == "witness_password" and "not right" in str(err.value)
    with pytest.raises(InventoryInputError, match="disabled"):
        attempt(username(ids, "gone"))
    no_check = desk(db, ids)
    no_check.check_password = None
    with pytest.raises(InventoryInputError, match="cannot check"):
        adjust_lot(
            no_check,
            LotAdjustment(
                uuid.uuid4(),
                lot,
                "x",
                delta=-1,
                witness_username=username(ids, "second"),
                witness_password=WITNESS_PASSWORD,
            ),
        )
    assert quantity(db, lot) == 12 and ledger(db, lot) == []
    attempt(username(ids, "second").upper())
    assert quantity(db, lot) == 11
    assert [(r.user_id, r.witness_id) for r in ledger(db, lot)] == [(ids["nurse"], ids["second"])]


def test_who_may_adjust(shelf) -> None:  # noqa: ANN001
    """A nurse of another school, an auditor, a district admin and a disabled nurse are refused."""
    db, ids = shelf
    cmd = LotAdjustment(uuid.uuid4(), ids["lot_ok"], "x", delta=1)
    for who, role, words in (
        ("elsewhere", Role.NURSE, "outside their schools"),
        ("nurse", Role.AUDITOR, "auditor"),
        ("nurse", Role.DISTRICT_ADMIN, "no access"),
        ("gone", Role.NURSE, "disabled"),
    ):
        with pytest.raises(AccessDenied, match=words):
            adjust_lot(desk(db, ids, who, role), cmd)
        with pytest.raises(AccessDenied, match=words):
            add_lot(desk(db, ids, who, role), new_lot(ids), today=TODAY)
    assert quantity(db, ids["lot_ok"]) == 50 and ledger(db, ids["lot_ok"]) == []
    with pytest.raises(InventoryInputError) as err:
        adjust_lot(desk(db, ids), LotAdjustment(uuid.uuid4(), uuid.uuid4(), "x", delta=1))
    assert err.value.field == "lot"


def test_a_count_that_moved_meanwhile_is_not_overwritten(shelf) -> None:  # noqa: ANN001
    db, ids = shelf
    lot = ids["lot_warning"]  # 15
    adjust_lot(desk(db, ids, "second"), LotAdjustment(uuid.uuid4(), lot, "Dose", delta=-1))
    with pytest.raises(LotChanged) as err:
        adjust_lot(
            desk(db, ids),
            LotAdjustment(uuid.uuid4(), lot, "Count", new_quantity=20, expected_quantity=15),
        )
    assert err.value.current == 14 and "14" in str(err.value)
    assert quantity(db, lot) == 14


# --- receiving -------------------------------------------------------------------------------


def new_lot(ids: dict, **kw: object) -> NewLot:
    values: dict[str, object] = dict(
        id=uuid.uuid4(),
        medication_id=ids["plain"],
        school_id=ids["school"],
        batch_number=f"NEW-{uuid.uuid4().hex[:5]}",
        quantity=24,
        reorder_level=4,
        expiration_date=TODAY + dt.timedelta(days=365),
    )
    values.update(kw)
    return NewLot(**values)  # type: ignore[arg-type]


def test_receiving_a_lot_records_its_receipt(shelf) -> None:  # noqa: ANN001
    db, ids = shelf
    cmd = new_lot(ids, reason="Received from supplier")
    row = add_lot(desk(db, ids), cmd, today=TODAY)
    assert (row.id, row.quantity, row.reorder_level, row.status) == (cmd.id, 24, 4, "OK")
    assert quantity(db, cmd.id) == 24
    assert [(r.delta, r.quantity_after, r.reason) for r in ledger(db, cmd.id)] == [
        (24, 24, "Received from supplier")
    ]
    again = add_lot(desk(db, ids), cmd, today=TODAY)  # a retry of the same dialog
    assert again.id == cmd.id and len(ledger(db, cmd.id)) == 1
    with pytest.raises(InventoryInputError, match="already on the shelf"):
        add_lot(desk(db, ids), new_lot(ids, batch_number=cmd.batch_number), today=TODAY)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"batch_number": "  "}, "batch"),
        ({"quantity": 0}, "quantity"),
        ({"reorder_level": -1}, "reorder"),
        ({"expiration_date": TODAY}, "expiry"),
        ({"medication_id": uuid.uuid4()}, "medication"),
        ({"medication_id": "controlled"}, "witness"),
        ({"student_id": uuid.uuid4()}, "student"),
    ],
)
def test_receiving_refuses_what_cannot_go_on_the_shelf(shelf, kwargs, field) -> None:  # noqa: ANN001
    db, ids = shelf
    if kwargs.get("medication_id") == "controlled":
        kwargs = {"medication_id": ids["controlled"]}
    cmd = new_lot(ids, **kwargs)
    with pytest.raises(InventoryInputError) as err:
        add_lot(desk(db, ids), cmd, today=TODAY)
    assert err.value.field == field
    with Session(db.engine) as s:
        assert s.get(MedicationInventory, cmd.id) is None


def test_a_controlled_receipt_with_a_witness(shelf) -> None:  # noqa: ANN001
    """A CII stimulant a parent brings in goes to that student's supply, counted by the nurse
    at the desk with a witness; as office stock it is refused (issue 14)."""
    db, ids = shelf
    witness = {"witness_username": username(ids, "second"), "witness_password": WITNESS_PASSWORD}
    office = new_lot(ids, medication_id=ids["controlled"], **witness)
    with pytest.raises(InventoryInputError, match="schedule II") as err:
        add_lot(desk(db, ids), office, today=TODAY)
    assert err.value.field == "student"
    with Session(db.engine) as s:
        assert s.get(MedicationInventory, office.id) is None
    nameless = new_lot(ids, brought_by="Mrs Lovelace")  # a parent's medication, no student
    with pytest.raises(InventoryInputError) as err:
        add_lot(desk(db, ids), nameless, today=TODAY)
    assert err.value.field == "student"
    cmd = new_lot(
        ids,
        medication_id=ids["controlled"],
        student_id=ids["student"],
        quantity=30,
        reason="Received from parent",
        brought_by="Mrs  Lovelace",
        **witness,
    )
    assert WITNESS_PASSWORD not in repr(cmd)
    row = add_lot(desk(db, ids), cmd, today=TODAY)
    assert row.is_controlled and row.student_id == ids["student"] and row.quantity == 30
    assert [(r.delta, r.user_id, r.witness_id, r.reason) for r in ledger(db, cmd.id)] == [
        (30, ids["nurse"], ids["second"], "Received from parent — brought in by Mrs Lovelace")
    ]


# --- people ----------------------------------------------------------------------------------


def test_desk_users_of_a_school(shelf) -> None:  # noqa: ANN001
    db, ids = shelf
    with Session(db.engine) as s:
        district = User(
            first_name="Dee",
            last_name="District",
            username=f"dist.{ids['tag']}",
            role="DISTRICT_ADMIN",
        )
        viewer = User(
            first_name="Vic",
            last_name="Viewer",
            username=f"view.{ids['tag']}",
            role="AUDITOR",
            school_id=ids["school"],
        )
        s.add_all([district, viewer])
        s.commit()
        district_id = district.id
    reader = reader_desk(db.sessions, [ids["school"]])
    users = desk_users(reader, ids["school"])
    names = [u.username for u in users]
    assert f"nurse.a.{ids['tag']}" in names and f"nurse.b.{ids['tag']}" in names
    assert f"dist.{ids['tag']}" not in names  # a district administrator records nothing
    assert f"nurse.c.{ids['tag']}" not in names  # another school's nurse
    assert f"nurse.d.{ids['tag']}" not in names and f"view.{ids['tag']}" not in names
    roles = [u.role for u in users]
    assert roles == sorted(roles, key=("NURSE", "LEAD_NURSE").index)  # nurses first
    assert any(s.id == ids["school"] for s in list_schools(reader))

    def allowed(user_id: uuid.UUID, school_id: uuid.UUID) -> bool:
        return still_allowed(desk_for(db.sessions, user_id), school_id)

    assert allowed(ids["nurse"], ids["school"])
    assert not allowed(ids["nurse"], ids["other"])  # not her school
    assert not allowed(ids["gone"], ids["school"])  # no longer active
    assert not allowed(district_id, ids["other"])  # a district administrator records nothing


# --- the formulary snapshot --------------------------------------------------------------------


def test_snapshot_is_kept_and_searchable(shelf, tmp_path: Path) -> None:  # noqa: ANN001
    db, ids = shelf
    cache = Cache(tmp_path / "cache")
    try:
        assert load_snapshot(cache) is None
        snapshot = ensure_snapshot(db.sessions, cache)
        assert len(snapshot) == len(build_snapshot(db.sessions).rows)
        assert load_snapshot(cache) is not None
        hits, total = snapshot.search(f"ritalin {ids['tag']}")
        assert total == 1 and hits[0].id == ids["controlled"] and hits[0].is_controlled
        hits, _ = snapshot.search("ibupro")
        assert any(h.id == ids["plain"] for h in hits)
        assert snapshot.search("x")[1] == 0  # one letter is not a search
        cache.evict_tag(FORMULARY_TAG)  # a formulary change notified by the server…
        cache.purge_student_data()  # …or the end of the day: the last good snapshot stays
        assert load_snapshot(cache) is not None and cache.kept(SNAPSHOT_KEY) is not None
    finally:
        cache.close()


def test_search_falls_back_to_the_snapshot_when_the_server_is_gone(shelf, tmp_path: Path) -> None:  # noqa: ANN001
    db, ids = shelf
    cache = Cache(tmp_path / "cache")
    holder = SnapshotHolder(cache)
    try:
        online = search_formulary(reader_desk(db.sessions), holder, f"ritalin {ids['tag']}")
        assert not online.offline and online.total == 1
        dead_engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
        from sqlalchemy.orm import sessionmaker

        dead = sessionmaker(dead_engine)
        nothing = search_formulary(reader_desk(dead), holder, "ritalin")
        assert nothing.offline and nothing.snapshot_size is None and nothing.hits == ()
        # an answer already in the cache comes from there, server or not
        cached = search_formulary(reader_desk(dead), holder, f"RITALIN  {ids['tag']}")
        assert not cached.offline and cached.total == 1 and cached.query.startswith("RITALIN")
        holder.ensure(db.sessions)
        offline = search_formulary(reader_desk(dead), holder, f"{ids['tag']} ritalin")
        assert offline.offline and offline.kind == "offline"
        assert [h.id for h in offline.hits] == [ids["controlled"]]
        assert offline.snapshot_size and offline.snapshot_size >= 2
        assert lookup_code(reader_desk(dead), holder, "0000-0000").offline
        dead_engine.dispose()
    finally:
        cache.close()


def test_connection_errors_are_told_apart() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    assert is_connection_error(OperationalError("SELECT 1", {}, Exception("gone")))
    assert not is_connection_error(IntegrityError("INSERT", {}, Exception("dup")))
    assert not is_connection_error(ValueError("bad"))
