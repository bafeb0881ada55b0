"""History… on a dose row (order and student) and on a lot, for the people who review: a lead
nurse sees who recorded what; a nurse is not offered it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from medapp.runtime.context import AppContext
from medapp.services.desk import Actor, Role
from medapp.services.doses import DoseCommand
from medapp.ui.dialogs.history_dialog import HistoryDialog
from medapp.ui.models.reminders_model import ItemRole
from medapp.ui.panes.reminders_pane import RemindersPane
from tests.ui.test_dose_dialog import find_rx, lunchtime_on_a_school_day, other_nurse, record_as
from tests.ui.test_reminders_pane import make_pane


@pytest.fixture
def ctx(desk_ctx: AppContext) -> AppContext:
    lunchtime_on_a_school_day(desk_ctx)
    return desk_ctx


def as_role(ctx: AppContext, role: Role) -> None:
    first, _, last = ctx.user_name.partition(" ")
    schools = frozenset({ctx.school_id}) if ctx.school_id else frozenset()
    ctx.actor = Actor(ctx.user_id, "someone", first, last, role, schools)  # type: ignore[arg-type]


def first_item(pane: RemindersPane, student: str):  # noqa: ANN201
    model = pane.model
    for s in range(model.rowCount()):
        section = model.index(s, 0)
        for r in range(model.rowCount(section)):
            item = model.index(r, 0, section).data(ItemRole)
            if item is not None and item.rx.student_name == student:
                return item
    raise AssertionError(f"no row for {student}")


def test_a_lead_nurse_reads_who_recorded_a_dose(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    as_role(ctx, Role.LEAD_NURSE)
    rx = find_rx(ctx, "Yamamoto", "Methylphenidate")
    nurse_id, _name = other_nurse(ctx)
    pane = make_pane(qtbot, ctx)
    item = first_item(pane, "Yamamoto, Logan")
    record_as(
        ctx,
        DoseCommand(
            uuid.uuid4(),
            rx.id,
            nurse_id,
            "GIVEN",
            item.scheduled_for + dt.timedelta(minutes=5),
            scheduled_for=item.scheduled_for,
        ),
    )
    menu = pane.menu_for(item)
    names = {a.objectName() for a in menu.actions()}
    assert {"menuOrderHistory", "menuStudentHistory"} <= names
    order = next(a for a in menu.actions() if a.objectName() == "menuOrderHistory")
    order.trigger()
    dialog = pane.findChild(HistoryDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=10_000)
    summaries = [
        dialog.model.data(dialog.model.index(r, 2)) for r in range(dialog.model.rowCount())
    ]
    assert "dose record added" in summaries
    who = {dialog.model.data(dialog.model.index(r, 1)) for r in range(dialog.model.rowCount())}
    assert who  # the acting database role, or the user's name when the role is a user
    dialog.close()


def test_a_nurse_is_not_offered_the_history(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    as_role(ctx, Role.NURSE)
    pane = make_pane(qtbot, ctx)
    item = first_item(pane, "Yamamoto, Logan")
    names = {a.objectName() for a in pane.menu_for(item).actions()}
    assert "menuOrderHistory" not in names and "menuStudentHistory" not in names
