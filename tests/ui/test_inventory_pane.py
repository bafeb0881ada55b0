"""The inventory pane on the committed school demo: every lot on screen with its alert class,
chips that count and filter, typed filter, and "Adjust quantity…" recording a count change
with its reason (witnessed for controlled lots, refused when the count moved meanwhile)."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from medapp.db.engine import Database
from medapp.db.models import InventoryAdjustment, MedicationInventory
from medapp.runtime.context import AppContext
from medapp.services import accounts
from medapp.services.desk import Role
from medapp.services.inventory_admin import LotAdjustment, LotRow, adjust_lot, school_lots
from medapp.services.signin import verify_password
from medapp.ui.dialogs.adjust_stock import OTHER, AddLotDialog, AdjustStockDialog
from medapp.ui.models.inventory_model import COL_MEDICATION, COL_QUANTITY, COL_STATUS, LotRole
from medapp.ui.panes.inventory_pane import InventoryPane

WITNESS_PW = "witness pass phrase"


def make_pane(qtbot, ctx: AppContext) -> InventoryPane:  # noqa: ANN001
    pane = InventoryPane(ctx)
    qtbot.addWidget(pane)
    pane.resize(1200, 760)
    pane.show()
    qtbot.waitUntil(lambda: pane.overview is not None, timeout=10_000)
    return pane


def rows_on_screen(pane: InventoryPane) -> list[LotRow]:
    proxy = pane.proxy
    return [proxy.index(r, 0).data(LotRole) for r in range(proxy.rowCount())]


def choose(pane: InventoryPane, lot_id: uuid.UUID) -> None:
    assert pane.select_lot(lot_id)
    assert pane.selected_lot() is not None and pane.selected_lot().id == lot_id


def test_lots_chips_and_filters(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, desk_ctx)
    expected = school_lots(desk_ctx.desk, desk_ctx.school_id)
    on_shelf = [lot for lot in expected.lots if not lot.empty]
    assert {lot.id for lot in rows_on_screen(pane)} == {lot.id for lot in on_shelf}
    chips = pane.chips.chips
    assert chips["expired"].count == expected.counts["EXPIRED"] > 0
    assert chips["near"].count == expected.counts["NEAR_EXPIRY"]
    assert chips["low"].count == expected.counts["LOW_STOCK"]
    assert chips["warning"].count == expected.counts["WARNING"]
    assert chips["all"].count == len(on_shelf)
    # the table opens most urgent first
    assert pane.proxy.index(0, COL_STATUS).data().startswith("Expired")

    qtbot.mouseClick(chips["expired"], Qt.MouseButton.LeftButton)
    shown = rows_on_screen(pane)
    assert len(shown) == expected.counts["EXPIRED"]
    assert all("EXPIRED" in lot.alerts for lot in shown)
    assert "Showing" in pane.count_label.text()
    qtbot.mouseClick(chips["expired"], Qt.MouseButton.LeftButton)  # again: everything
    assert len(rows_on_screen(pane)) == len(on_shelf)

    qtbot.mouseClick(chips["low"], Qt.MouseButton.LeftButton)
    assert all("LOW_STOCK" in lot.alerts for lot in rows_on_screen(pane))
    qtbot.mouseClick(chips["all"], Qt.MouseButton.LeftButton)

    name = on_shelf[0].medication_name.split()[0]
    qtbot.keyClicks(pane.filter_edit, name.lower())
    shown = rows_on_screen(pane)
    assert shown and all(name.lower() in lot.label.lower() for lot in shown)
    qtbot.keyClicks(pane.filter_edit, " zzzz")
    assert pane.table_stack.currentWidget() is pane.empty_label
    assert pane.empty_label.text() == "No lots match this filter."
    pane.filter_edit.clear()

    pane.empty_check.setChecked(True)
    assert len(rows_on_screen(pane)) == len(expected.lots)


def quantity(ctx: AppContext, lot_id: uuid.UUID) -> int:
    with Session(ctx.db.engine) as s:
        lot = s.get(MedicationInventory, lot_id)
        assert lot is not None
        return lot.quantity


def pick_lot(ctx: AppContext, controlled: bool) -> LotRow:
    lots = school_lots(ctx.desk, ctx.school_id).lots
    return next(
        lot
        for lot in lots
        if lot.is_controlled == controlled and lot.quantity >= 3 and lot.alerts == ()
    )


def test_adjust_quantity_records_the_reason(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, desk_ctx)
    lot = pick_lot(desk_ctx, controlled=False)
    choose(pane, lot.id)
    with qtbot.waitSignal(pane.dialog_opened, timeout=5000) as opened:
        qtbot.keyClick(pane.view, Qt.Key.Key_Return)  # Enter opens the dialog
    dialog = opened.args[0]
    assert isinstance(dialog, AdjustStockDialog) and dialog.isVisible()
    assert not dialog.witness_combo.isVisible()  # not controlled: no witness needed
    dialog.count_spin.setValue(lot.quantity - 2)
    assert dialog.change_label.text().startswith("-2")
    dialog.reason_combo.setCurrentText(OTHER)
    dialog.save()
    assert "needs details" in dialog.errors.message("reason")
    qtbot.keyClicks(dialog.details_edit, "spilled bottle")
    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert quantity(desk_ctx, lot.id) == lot.quantity - 2
    with Session(desk_ctx.db.engine) as s:
        row = s.scalars(
            select(InventoryAdjustment)
            .where(InventoryAdjustment.inventory_id == lot.id)
            .order_by(InventoryAdjustment.created_at.desc())
        ).first()
    assert row is not None and (row.delta, row.reason) == (-2, "spilled bottle")
    assert row.user_id == desk_ctx.user_id
    # the table shows the new count, and the same lot stays selected
    qtbot.waitUntil(lambda: pane.selected_lot() is not None, timeout=5000)
    assert pane.selected_lot().quantity == lot.quantity - 2
    index = pane.proxy.mapFromSource(pane.model.index(pane.model.row_of(lot.id), COL_QUANTITY))
    assert index.data() == f"{lot.quantity - 2:,}"


def test_a_controlled_lot_needs_a_witness(qtbot, desk_ctx: AppContext, login_roles) -> None:  # noqa: ANN001
    # a second nurse of this school, with her own password (private-database accounts)
    private = Database(desk_ctx.db.engine, desk_ctx.db.sessions, desk_ctx.db.url, embedded=True)
    name = login_roles.new("witness")
    with desk_ctx.db.engine.connect() as conn:
        school_name = conn.execute(
            text("SELECT name FROM schools WHERE id = :s"), {"s": desk_ctx.school_id}
        ).scalar()
    accounts.create_user(private, name, Role.NURSE, [school_name], WITNESS_PW, "Wanda", "Witness")
    desk_ctx.check_password = lambda user, pw: verify_password(private, user, pw)
    pane = make_pane(qtbot, desk_ctx)
    lot = pick_lot(desk_ctx, controlled=True)
    choose(pane, lot.id)
    pane.adjust_selected()
    dialog = pane.dialog
    assert isinstance(dialog, AdjustStockDialog)
    assert dialog.witness_combo.isVisible()
    qtbot.waitUntil(lambda: dialog.witness_combo.isEnabled(), timeout=10_000)
    witnesses = [dialog.witness_combo.itemText(i) for i in range(dialog.witness_combo.count())]
    assert desk_ctx.user_name not in " ".join(witnesses)  # never yourself
    dialog.count_spin.setValue(lot.quantity - 1)
    dialog.save()
    assert "witness" in dialog.errors.message("witness")
    dialog.witness_combo.setCurrentIndex(dialog.witness_combo.findData(name))
    dialog.save()  # no password typed: refused before anything is sent
    assert "password" in dialog.errors.message("witness_password")
    dialog.witness_password.setText("not her password")
    dialog.save()
    qtbot.waitUntil(lambda: bool(dialog.errors.message("witness_password")), timeout=10_000)
    assert "not right" in dialog.errors.message("witness_password")
    assert dialog.witness_password.text() == ""  # a wrong password is not kept on screen
    assert quantity(desk_ctx, lot.id) == lot.quantity
    dialog.witness_password.setText(WITNESS_PW)
    with qtbot.waitSignal(dialog.adjusted, timeout=10_000):
        dialog.save()
    assert quantity(desk_ctx, lot.id) == lot.quantity - 1
    with Session(desk_ctx.db.engine) as s:
        row = s.scalars(
            select(InventoryAdjustment)
            .where(InventoryAdjustment.inventory_id == lot.id)
            .order_by(InventoryAdjustment.created_at.desc())
        ).first()
    with desk_ctx.db.engine.connect() as conn:
        witness_id = conn.execute(
            text("SELECT id FROM users WHERE username = :n"), {"n": name}
        ).scalar()
    assert row is not None and row.witness_id == witness_id


def test_a_count_changed_elsewhere_is_shown_not_overwritten(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, desk_ctx)
    lot = pick_lot(desk_ctx, controlled=False)
    choose(pane, lot.id)
    pane.adjust_selected()
    dialog = pane.dialog
    assert isinstance(dialog, AdjustStockDialog)
    dialog.count_spin.setValue(lot.quantity + 10)
    # meanwhile another PC takes one from this lot
    other = adjust_lot(desk_ctx.desk, LotAdjustment(uuid.uuid4(), lot.id, "dose given", delta=-1))
    dialog.save()
    qtbot.waitUntil(lambda: bool(dialog.errors.message("quantity")), timeout=10_000)
    assert f"now shows {other.quantity_after}" in dialog.errors.message("quantity")
    assert dialog.isVisible() and quantity(desk_ctx, lot.id) == other.quantity_after
    assert dialog.current_label.text().startswith(f"{other.quantity_after}")
    with qtbot.waitSignal(dialog.adjusted, timeout=10_000):  # saving again, knowingly
        dialog.save()
    assert quantity(desk_ctx, lot.id) == lot.quantity + 10


def test_receive_stock_adds_a_lot(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, desk_ctx)
    lot = pick_lot(desk_ctx, controlled=False)
    choose(pane, lot.id)
    before = pane.model.rowCount()
    pane.receive_stock()
    dialog = pane.dialog
    assert isinstance(dialog, AddLotDialog)
    dialog.save()
    assert "required" in dialog.errors.message("batch")
    batch = f"T{uuid.uuid4().hex[:6].upper()}"
    qtbot.keyClicks(dialog.batch_edit, batch)
    dialog.quantity_spin.setValue(48)
    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        dialog.save()
    qtbot.waitUntil(lambda: pane.model.rowCount() == before + 1, timeout=10_000)
    new = next(row for row in pane.model.lots if row.batch_number == batch)
    assert (new.quantity, new.medication_id, new.student_id) == (48, lot.medication_id, None)
    assert pane.selected_lot() is not None and pane.selected_lot().id == new.id
    assert pane.proxy.index(0, COL_MEDICATION).data()  # the table is still populated


def _order_of(ctx: AppContext, controlled: bool) -> tuple[uuid.UUID, uuid.UUID, str]:
    """(medication id, student id, medication name) of an active order at the desk's school."""
    with Session(ctx.db.engine) as s:
        row = s.execute(
            text(
                "SELECT m.id, st.id, m.name FROM student_medications sm "
                "JOIN students st ON st.id = sm.student_id JOIN medications m "
                "ON m.id = sm.medication_id WHERE st.school_id = :s AND sm.is_active "
                "AND st.is_active AND m.is_controlled = :c AND "
                "(m.dea_schedule = 'CII' OR NOT :c) ORDER BY st.student_number LIMIT 1"
            ),
            {"s": ctx.school_id, "c": controlled},
        ).one()
    return row[0], row[1], row[2]


def _receive(qtbot, ctx: AppContext, med_id: uuid.UUID, name: str, schedule: str | None):  # noqa: ANN001, ANN202
    from medapp.ui.dialogs.adjust_stock import MedicationChoice

    choice = MedicationChoice(med_id, name, "", "TABLET", schedule is not None, schedule)
    dialog = AddLotDialog(ctx, choice)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.owner_combo.isEnabled(), timeout=10_000)
    return dialog


def test_a_cii_stimulant_cannot_be_received_as_office_stock(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    med_id, student_id, name = _order_of(desk_ctx, controlled=True)
    dialog = _receive(qtbot, desk_ctx, med_id, name, "CII")
    assert dialog.owner_combo.findText("Office stock") == -1
    assert student_id in dialog.owner_ids()[1:]  # her order: she is on the list
    dialog.owner_combo.setCurrentIndex(0)
    qtbot.keyClicks(dialog.batch_edit, "CII-1")
    dialog.save()
    assert "schedule II" in dialog.errors.message("student")
    assert dialog.isVisible()


def test_stock_a_parent_brings_in_goes_to_the_students_supply(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    med_id, student_id, name = _order_of(desk_ctx, controlled=False)
    dialog = _receive(qtbot, desk_ctx, med_id, name, None)
    assert dialog.owner_combo.currentText() == "Office stock"
    qtbot.keyClicks(dialog.brought_by_edit, "Mrs Parent")
    batch = f"P{uuid.uuid4().hex[:6].upper()}"
    qtbot.keyClicks(dialog.batch_edit, batch)
    dialog.save()  # a parent's medication with nobody chosen
    assert "own supply" in dialog.errors.message("student")
    assert dialog.select_owner(student_id)
    assert dialog.reason_combo.currentText() == "Brought in by parent or guardian"
    dialog.quantity_spin.setValue(20)
    with qtbot.waitSignal(dialog.added, timeout=10_000) as added:
        dialog.save()
    lot = added.args[0]
    assert (lot.student_id, lot.quantity, lot.batch_number) == (student_id, 20, batch)
    with Session(desk_ctx.db.engine) as s:
        line = s.scalars(
            select(InventoryAdjustment).where(InventoryAdjustment.inventory_id == lot.id)
        ).one()
    assert (line.delta, line.user_id) == (20, desk_ctx.user_id)
    assert line.reason == "Brought in by parent or guardian — brought in by Mrs Parent"


def test_supplies_dialog_letter_and_field_trip(qtbot, desk_ctx: AppContext, tmp_path) -> None:  # noqa: ANN001
    """A student's own supply of 3 school doses: listed for a refill, its letter written as a
    PDF, 2 doses signed out to a teacher and counted back (1 returned, 1 given on the trip)."""
    import datetime as dt
    import unicodedata

    from pypdf import PdfReader

    from medapp.services.inventory_admin import NewLot, add_lot
    from medapp.ui.dialogs.supplies_dialog import SuppliesDialog

    with Session(desk_ctx.db.engine) as s:
        med_id, student_id, first = s.execute(
            text(
                "SELECT sm.medication_id, st.id, st.first_name FROM student_medications sm "
                "JOIN students st ON st.id = sm.student_id "
                "JOIN medications m ON m.id = sm.medication_id "
                "WHERE st.school_id = :s AND st.is_active AND sm.is_active AND NOT sm.is_prn "
                "AND NOT m.is_controlled AND sm.administration_times IS NOT NULL "
                "AND (sm.end_date IS NULL OR sm.end_date > now()::date + 30) "
                "AND NOT EXISTS (SELECT 1 FROM medication_inventory mi WHERE "
                "mi.student_id = st.id AND mi.medication_id = sm.medication_id) "
                "ORDER BY st.student_number LIMIT 1"
            ),
            {"s": desk_ctx.school_id},
        ).one()
    lot = add_lot(
        desk_ctx.desk,
        NewLot(
            uuid.uuid4(),
            med_id,
            desk_ctx.school_id,
            f"OWN{uuid.uuid4().hex[:5]}",
            3,
            dt.date.today() + dt.timedelta(days=300),
            student_id=student_id,
            reason="Brought in by parent or guardian",
            brought_by="A Parent",
        ),
    )
    dialog = SuppliesDialog(desk_ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        dialog.show()
    refills = [i for i in dialog.attention_items if i.kind == "REFILL"]
    mine = next(i for i in refills if i.student_id == student_id)
    assert "3 left" in mine.text
    row = next(
        r
        for r in range(dialog.attention_list.count())
        if dialog.attention_list.item(r).data(Qt.ItemDataRole.UserRole) == mine
    )
    dialog.attention_list.setCurrentRow(row)
    target = tmp_path / "refill.pdf"
    with qtbot.waitSignal(dialog.letter_written, timeout=20_000):
        dialog.save_letter(target)
    words = unicodedata.normalize(
        "NFKC", " ".join(p.extract_text() for p in PdfReader(target).pages)
    )
    assert (
        "refill" in words.lower() and first in words and "3 doses left" in " ".join(words.split())
    )

    line_row = next(i for i, line in enumerate(dialog.model.lines) if lot.id in line.lot_ids)
    dialog.view.selectRow(line_row)
    dialog.trip_doses.setValue(2)
    qtbot.keyClicks(dialog.trip_name, "Science museum")
    qtbot.keyClicks(dialog.trip_teacher, "Mr. Teach")
    with qtbot.waitSignal(dialog.trip_recorded, timeout=20_000) as out:
        qtbot.mouseClick(dialog.sign_out_button, Qt.MouseButton.LeftButton)
    assert (out.args[0].direction, out.args[0].quantity_after) == ("OUT", 1)
    qtbot.waitUntil(lambda: any(t.id == out.args[0].id for t in dialog.trips), timeout=20_000)
    trip_row = next(i for i, t in enumerate(dialog.trips) if t.id == out.args[0].id)
    dialog.trips_list.setCurrentRow(trip_row)
    dialog.back_returned.setValue(1)
    dialog.back_given.setValue(1)
    qtbot.keyClicks(dialog.back_by, "Mr. Teach")
    with qtbot.waitSignal(dialog.trip_recorded, timeout=20_000) as back:
        qtbot.mouseClick(dialog.count_back_button, Qt.MouseButton.LeftButton)
    assert (back.args[0].direction, back.args[0].quantity_after) == ("BACK", 2)
    assert quantity(desk_ctx, lot.id) == 2
