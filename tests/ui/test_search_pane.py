"""The search pane on the committed school demo: typed text → ranked rows on screen, stale
answers dropped, a barcode scan jumps to its product, the details show the school's lots, the
cached formulary answers when the server is gone, and "Add medication…" validates inline."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.outbox import Outbox
from medapp.cache.store import Cache
from medapp.db.engine import Database, make_engine
from medapp.db.models import Medication, MedicationPackage
from medapp.formulary.ndc import gs1_check_digit
from medapp.runtime.context import AppContext
from medapp.services.formulary_cache import SnapshotHolder, offline_caption
from medapp.ui.models.search_model import COL_CONTROLLED, COL_NAME, COL_NDC, HitRole
from medapp.ui.panes import search_pane as search_module
from medapp.ui.panes.search_pane import SearchPane


def names_on_screen(pane: SearchPane) -> list[str]:
    proxy = pane.proxy
    return [proxy.index(r, COL_NAME).data(HitRole).name for r in range(proxy.rowCount())]


def make_pane(qtbot, ctx: AppContext) -> SearchPane:  # noqa: ANN001
    pane = SearchPane(ctx)
    qtbot.addWidget(pane)
    pane.resize(1100, 700)
    pane.show()
    return pane


def type_and_wait(qtbot, pane: SearchPane, text: str) -> None:  # noqa: ANN001
    with qtbot.waitSignal(pane.results_shown, timeout=10_000):
        qtbot.keyClicks(pane.search_box, text)


def test_typing_shows_ranked_results(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, desk_ctx)
    started: list[int] = []
    pane.search_started.connect(started.append)
    type_and_wait(qtbot, pane, "albut")
    assert started == [1]  # five keys inside the debounce: one search
    names = names_on_screen(pane)
    assert {"Ventolin HFA", "ProAir HFA", "Proventil HFA"} <= set(names)
    assert pane.results_stack.currentWidget() is pane.view
    assert pane.count_label.text().endswith("results")
    assert not pane.offline_badge.isVisible()
    ventolin = names.index("Ventolin HFA")
    assert pane.proxy.index(ventolin, COL_NDC).data() == "0173-0682"
    # a controlled product shows its badge text in the Controlled column
    pane.search_box.clear()
    type_and_wait(qtbot, pane, "methylphenidate")
    badges = {pane.proxy.index(r, COL_CONTROLLED).data() for r in range(pane.proxy.rowCount())}
    assert "C-II" in badges


def test_nothing_found_and_too_short(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, desk_ctx)
    type_and_wait(qtbot, pane, "zzqqxx")
    assert pane.proxy.rowCount() == 0
    assert pane.results_stack.currentWidget() is pane.empty_label
    assert "Nothing in the formulary matches" in pane.empty_label.text()
    pane.search_box.clear()
    type_and_wait(qtbot, pane, "a")
    assert "two letters" in pane.empty_label.text()


def test_an_older_answer_never_overwrites_a_newer_one(
    qtbot,  # noqa: ANN001
    desk_ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    finished = threading.Event()
    real = search_module.search_formulary

    def slow_for_am(sessions, holder, query, **kw):  # noqa: ANN001, ANN202
        if query == "am":
            release.wait(10)
            try:
                return real(sessions, holder, query, **kw)
            finally:
                finished.set()
        return real(sessions, holder, query, **kw)

    monkeypatch.setattr(search_module, "search_formulary", slow_for_am)
    pane = make_pane(qtbot, desk_ctx)
    shown: list[int] = []
    pane.results_shown.connect(shown.append)
    pane.set_query("am")  # request 1: held back
    pane.set_query("albuterol")  # request 2
    qtbot.waitUntil(lambda: shown == [2], timeout=10_000)
    release.set()
    qtbot.waitUntil(finished.is_set, timeout=10_000)
    qtbot.wait(100)  # let the late answer reach the GUI thread (it must be dropped there)
    assert shown == [2]
    assert names_on_screen(pane) and all(
        "albuterol" in (n + " albuterol").lower() for n in names_on_screen(pane)
    )
    assert pane.outcome is not None and pane.outcome.query == "albuterol"


def ventolin_package(ctx: AppContext) -> tuple[uuid.UUID, str]:
    with Session(ctx.db.engine) as s:
        row = s.execute(
            select(Medication.id, MedicationPackage.ndc10)
            .join(MedicationPackage, MedicationPackage.medication_id == Medication.id)
            .where(Medication.name == "Ventolin HFA")
            .order_by(MedicationPackage.ndc11)
        ).first()
    assert row is not None
    body = "3" + row.ndc10
    return row.id, body + gs1_check_digit(body)


def test_a_scanned_barcode_jumps_to_its_product_and_its_stock(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    med_id, upc = ventolin_package(desk_ctx)
    pane = make_pane(qtbot, desk_ctx)
    with qtbot.waitSignal(pane.details_shown, timeout=10_000) as shown:
        qtbot.keyClicks(pane.search_box, upc)
        qtbot.keyClick(pane.search_box, Qt.Key.Key_Return)
    details = shown.args[0]
    assert details.hit.id == med_id
    assert pane.current_hit() is not None and pane.current_hit().id == med_id
    assert pane.search_box.selectedText() == upc  # the next scan replaces it
    assert pane.details.name.text() == "Ventolin HFA"
    # the demo keeps a Ventolin inhaler for a student: the school's lot is listed
    lots = pane.details.lots_model.lots
    assert lots and all(lot.medication_name == "Ventolin HFA" for lot in lots)
    assert pane.details.lots_view.isVisible()
    assert "lot" in pane.details.stock_summary.text()


def test_a_barcode_nobody_knows_says_so(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, desk_ctx)
    body = "30000000001"
    with qtbot.waitSignal(pane.results_shown, timeout=10_000):
        qtbot.keyClicks(pane.search_box, body + gs1_check_digit(body))
        qtbot.keyClick(pane.search_box, Qt.Key.Key_Return)
    assert pane.proxy.rowCount() == 0
    assert "No product in the formulary has the code" in pane.banner.text


def test_selecting_a_result_shows_details_and_enter_moves_to_the_lots(
    qtbot, desk_ctx: AppContext
) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, desk_ctx)
    type_and_wait(qtbot, pane, "ventolin")
    with qtbot.waitSignal(pane.details_shown, timeout=10_000):
        qtbot.keyClick(pane.search_box, Qt.Key.Key_Down)  # into the results, first row
    hit = pane.current_hit()
    assert hit is not None and pane.details.name.text() == hit.name
    assert pane.details.fields["manufacturer"].text() == (hit.manufacturer or "")
    if pane.details.lots_model.rowCount():
        qtbot.keyClick(pane.view, Qt.Key.Key_Return)
        assert pane.details.lots_view.hasFocus()


def test_offline_search_uses_the_cached_formulary(
    qtbot, desk_ctx: AppContext, tmp_path: Path
) -> None:  # noqa: ANN001
    SnapshotHolder(desk_ctx.cache).ensure(desk_ctx.db.sessions)  # as the desk does at start
    dead_url = "postgresql://nobody@127.0.0.1:1/none"
    engine = make_engine(dead_url)
    dead = Database(engine, sessionmaker(engine), dead_url, embedded=False)
    ctx = AppContext(
        db=dead,
        cache=desk_ctx.cache,
        outbox=Outbox(tmp_path / "outbox"),
        school_id=desk_ctx.school_id,
        school_name=desk_ctx.school_name,
        user_id=desk_ctx.user_id,
        user_name=desk_ctx.user_name,
    )
    states: list[bool] = []
    ctx.hub.connection_changed.connect(states.append)
    pane = make_pane(qtbot, ctx)
    type_and_wait(qtbot, pane, "ventolin")
    assert "Ventolin HFA" in names_on_screen(pane)
    assert pane.offline_badge.isVisible()
    snapshot = SnapshotHolder(desk_ctx.cache).get()
    assert snapshot is not None
    assert pane.offline_badge.text() == offline_caption(snapshot.built_at)
    assert pane.offline_badge.text().startswith("Offline — formulary as of ")
    assert states == [False]
    pane.search_box.clear()
    type_and_wait(qtbot, pane, "ventolim")  # a typo is forgiven offline as online
    assert "Ventolin HFA" in names_on_screen(pane)
    assert "ventolin" in pane.count_label.text()
    with qtbot.waitSignal(pane.details_shown, timeout=10_000):
        pane.view.selectRow(0)
    assert pane.details.stock_summary.text() == "Stock is not available offline."
    engine.dispose()


def test_offline_without_a_snapshot_says_so(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    dead_url = "postgresql://nobody@127.0.0.1:1/none"
    engine = make_engine(dead_url)
    ctx = AppContext(
        db=Database(engine, sessionmaker(engine), dead_url, embedded=False),
        cache=Cache(tmp_path / "empty-cache"),
        outbox=Outbox(tmp_path / "outbox"),
        school_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        user_name="Nora Nurse",
    )
    pane = make_pane(qtbot, ctx)
    type_and_wait(qtbot, pane, "ventolin")
    assert pane.proxy.rowCount() == 0 and pane.offline_badge.isVisible()
    assert "no copy of the formulary" in pane.empty_label.text()
    ctx.cache.close()
    engine.dispose()


def test_add_medication_shows_errors_inline_then_adds_and_selects(
    qtbot, desk_ctx: AppContext
) -> None:  # noqa: ANN001
    from medapp.ui.dialogs.add_medication import AddMedicationDialog

    pane = make_pane(qtbot, desk_ctx)
    name = f"Zinc Lozenge {uuid.uuid4().hex[:6]}"
    qtbot.mouseClick(pane.add_button, Qt.MouseButton.LeftButton)
    dialog = pane.dialog
    assert isinstance(dialog, AddMedicationDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.name_edit, name)
    dialog.form_combo.setEditText("Lozenge")
    qtbot.keyClicks(dialog.ndc_edit, "12345678")  # no dashes: ambiguous
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.errors.message("ndc")), timeout=10_000)
    assert "dashes" in dialog.errors.message("ndc")
    assert dialog.isVisible() and dialog.result_hit is None
    dialog.ndc_edit.clear()  # no NDC at all is fine for a school item
    with qtbot.waitSignal(pane.results_shown, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.result_hit is not None and dialog.result_hit.name == name
    qtbot.waitUntil(lambda: pane.current_hit() is not None, timeout=10_000)
    assert pane.current_hit().name == name and names_on_screen(pane)[0] == name


def test_add_medication_requires_name_and_form(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    from medapp.ui.dialogs.add_medication import AddMedicationDialog

    dialog = AddMedicationDialog(desk_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.save()
    assert dialog.errors.message("name") == "The name is required."
    qtbot.keyClicks(dialog.name_edit, "Something")
    dialog.save()
    assert "form is required" in dialog.errors.message("dosage_form")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
