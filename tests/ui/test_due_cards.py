"""Due-dose notification cards: the card widget's buttons (Give / Open / Snooze) on a controlled
clock, and the cards in the desk window on the committed school demo at 12:05 — Give opens that
dose's dialog, Open selects it in Reminders, a locked desk names nobody."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QSettings, Qt

from medapp.domain.due_cards import DueDose
from medapp.jobs.scheduler import DeskJobs
from medapp.jobs.watchers import open_doses
from medapp.runtime.context import AppContext
from medapp.ui.app import connect_jobs
from medapp.ui.main_window import MainWindow
from medapp.ui.panes.reminders_pane import RemindersPane
from medapp.ui.widgets.due_cards import MAX_CARDS, DueCardStack
from tests.ui.test_dose_dialog import lunchtime_on_a_school_day

NY = ZoneInfo("America/New_York")


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def dose(n: int, hour: int = 10, minute: int = 30) -> DueDose:
    when = dt.datetime(2026, 11, 2, hour, minute, tzinfo=NY)
    return DueDose(uuid.UUID(int=n), when, f"Kid{n} B.")


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 2, 10, 31, tzinfo=NY))


def make_stack(qtbot, clock: Clock, *, started_early: bool = True) -> DueCardStack:  # noqa: ANN001
    """The stack of a desk that started before these doses fell due (a first, empty feed)
    unless ``started_early`` is False."""
    stack = DueCardStack(clock, "America/New_York")
    qtbot.addWidget(stack)
    if started_early:
        with qtbot.assertNotEmitted(stack.alert):
            stack.set_doses(())
    return stack


def test_at_start_up_the_doses_already_due_show_silently(qtbot, clock: Clock) -> None:  # noqa: ANN001
    """One beep and one tray message for every dose due at a lunchtime start-up said nothing the
    cards do not: the first feed primes; a dose that falls due later alerts."""
    stack = make_stack(qtbot, clock, started_early=False)
    with qtbot.assertNotEmitted(stack.alert):
        fresh = stack.set_doses((dose(1), dose(2)), (dt.time(8), dt.time(15)))
    assert fresh == [] and [c.dose.key for c in stack.cards] == [dose(1).key, dose(2).key]
    assert stack.header.text() == "2 doses due" and not stack.isHidden()
    clock.now = dt.datetime(2026, 11, 2, 10, 45, tzinfo=NY)
    with qtbot.waitSignal(stack.alert) as alerted:
        stack.set_doses((dose(1), dose(2), dose(3, 10, 45)))
    assert [d.key for d in alerted.args[0]] == [dose(3, 10, 45).key]
    assert len(stack.cards) == 3


def test_cards_stack_and_their_buttons_ask_for_the_dose(qtbot, clock: Clock) -> None:  # noqa: ANN001
    stack = make_stack(qtbot, clock)
    with qtbot.waitSignal(stack.alert) as alerted:
        stack.set_doses((dose(2, 10, 45), dose(1)), (dt.time(8), dt.time(15)))
    assert [d.prescription_id.int for d in alerted.args[0]] == [1, 2]
    assert stack.isVisibleTo(None) or not stack.isHidden()
    assert stack.header.text() == "2 doses due"
    assert [c.title.text() for c in stack.cards] == ["Due 10:30", "Due 10:45"]
    assert stack.cards[0].body.text() == "Kid1 B."
    # the same doses a minute later: no second card, no second alert
    with qtbot.assertNotEmitted(stack.alert):
        stack.set_doses((dose(1), dose(2, 10, 45)))
    assert len(stack.cards) == 2

    card = stack.card_for(*dose(1).key)
    assert card is not None
    with qtbot.waitSignal(stack.give_requested) as give:
        qtbot.mouseClick(card.give_button, Qt.MouseButton.LeftButton)
    assert tuple(give.args) == dose(1).key
    with qtbot.waitSignal(stack.open_requested) as opened:
        qtbot.mouseClick(card.open_button, Qt.MouseButton.LeftButton)
    assert tuple(opened.args) == dose(1).key


def test_snooze_hides_the_card_until_the_clock_says(qtbot, clock: Clock) -> None:  # noqa: ANN001
    stack = make_stack(qtbot, clock)
    stack.set_doses((dose(1),), (dt.time(8), dt.time(15)))
    card = stack.card_for(*dose(1).key)
    assert card is not None
    qtbot.mouseClick(card.snooze_buttons[5], Qt.MouseButton.LeftButton)
    assert stack.cards == [] and stack.isHidden()
    assert stack._wake.isActive()  # noqa: SLF001 - the wake-up is armed for the snooze's end
    clock.now += dt.timedelta(minutes=4)
    stack.wake_now()
    assert stack.cards == []
    clock.now += dt.timedelta(minutes=1)
    with qtbot.waitSignal(stack.alert):
        stack.wake_now()
    assert [c.dose.key for c in stack.cards] == [dose(1).key]
    qtbot.mouseClick(stack.cards[0].snooze_buttons[10], Qt.MouseButton.LeftButton)
    clock.now += dt.timedelta(minutes=9)
    stack.set_doses((dose(1),))  # a check during the snooze does not bring it back
    assert stack.cards == []
    clock.now += dt.timedelta(minutes=1)
    stack.set_doses((dose(1),))
    assert len(stack.cards) == 1


def test_many_doses_show_a_few_cards_and_a_count(qtbot, clock: Clock) -> None:  # noqa: ANN001
    stack = make_stack(qtbot, clock)
    stack.set_doses(tuple(dose(i) for i in range(MAX_CARDS + 3)))
    assert len(stack.cards) == MAX_CARDS
    assert stack.header.text() == f"{MAX_CARDS + 3} doses due"
    assert stack.more.text() == "+ 3 more in Reminders"
    # lunchtime: one click puts every card off for five minutes
    qtbot.mouseClick(stack.snooze_all_button, Qt.MouseButton.LeftButton)
    assert stack.cards == [] and stack.isHidden()
    clock.now += dt.timedelta(minutes=5)
    stack.wake_now()
    assert len(stack.cards) == MAX_CARDS and stack.header.text() == f"{MAX_CARDS + 3} doses due"


def test_quiet_outside_school_hours_and_nameless_when_locked(qtbot, clock: Clock) -> None:  # noqa: ANN001
    clock.now = dt.datetime(2026, 11, 2, 15, 30, tzinfo=NY)
    stack = make_stack(qtbot, clock)
    with qtbot.assertNotEmitted(stack.alert):
        stack.set_doses((dose(1, 15, 0),), (dt.time(8), dt.time(15)))
    assert len(stack.cards) == 1  # shown, silently
    stack.set_locked(True)
    card = stack.cards[0]
    assert "Kid1" not in card.body.text() + card.title.text() + card.accessibleName()
    assert not card.give_button.isEnabled() and not card.open_button.isEnabled()
    stack.set_locked(False)
    assert stack.cards[0].body.text() == "Kid1 B." and stack.cards[0].give_button.isEnabled()


# -- in the desk window ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    QSettings().clear()
    QSettings().setValue("notifications/sound", False)  # no bell in the test run
    yield
    QSettings().clear()


def ready_window(qtbot, ctx: AppContext) -> MainWindow:  # noqa: ANN001
    lunchtime_on_a_school_day(ctx)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)
    return window


def test_give_opens_that_dose_and_open_selects_it(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    window = ready_window(qtbot, desk_ctx)
    pane = window.reminders_pane
    assert isinstance(pane, RemindersPane) and pane.reminders is not None
    doses = open_doses(pane.reminders)
    due = [d for d in doses if not d.overdue]
    assert due, "the demo has doses due at 12:05"
    window.show_due_doses((), (dt.time(8), dt.time(15)))  # the desk's first check, before noon
    window.show_due_doses(doses, (dt.time(8), dt.time(15)))
    stack = window.due_cards
    assert stack.isVisible() and len(stack.cards) == min(len(due), MAX_CARDS)
    first = stack.cards[0]
    target = first.dose
    assert target in due and first.body.text() == target.student
    assert window.last_notification is not None and target.student in window.last_notification[1]
    # the stack sits at the window's top-right, inside it
    central = window.centralWidget()
    assert central is not None and central.rect().contains(stack.geometry())
    assert stack.geometry().right() > central.width() * 0.6

    with qtbot.waitSignal(pane.dialog_opened, timeout=5000) as opened:
        qtbot.mouseClick(first.give_button, Qt.MouseButton.LeftButton)
    dialog = opened.args[0]
    assert (dialog.prescription_id, dialog.scheduled_for) == target.key
    assert window.current_pane() is pane
    assert stack.card_for(*target.key) is None  # stepped aside while the dialog is open
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: pane.dose_dialog is None)
    assert stack.card_for(*target.key) is not None  # cancelled: the card is back

    pane.filter_edit.setText("zzz-no-such-student")
    window.show_pane(0)
    card = stack.card_for(*target.key)
    assert card is not None
    qtbot.mouseClick(card.open_button, Qt.MouseButton.LeftButton)
    assert window.current_pane() is pane and pane.filter_edit.text() == ""
    item = pane.selected_item()
    assert item is not None and (item.rx.prescription_id, item.scheduled_for) == target.key
    assert stack.card_for(*target.key) is None
    # never again for that dose, however often the jobs report it
    window.show_due_doses(doses, (dt.time(8), dt.time(15)))
    assert stack.card_for(*target.key) is None

    window._gate_desk(locked=True)  # noqa: SLF001 - as the idle lock does (no actor here)
    assert window.locked and stack.cards
    assert all(not c.give_button.isEnabled() for c in stack.cards)
    assert all(d.student not in c.body.text() for c in stack.cards for d in due)


def test_the_dose_job_puts_cards_up_and_a_recorded_dose_takes_its_card(
    qtbot,  # noqa: ANN001
    desk_ctx: AppContext,
) -> None:
    window = ready_window(qtbot, desk_ctx)
    jobs = DeskJobs(desk_ctx, reminder_seconds=3600, outbox_seconds=3600, alert_view_minutes=60)
    connect_jobs(jobs, window)
    alerts: list[object] = []
    window.due_cards.alert.connect(alerts.append)
    with qtbot.waitSignal(jobs.signals.due, timeout=10_000) as due:
        jobs.check_doses()  # on this thread: the signal is delivered at once
    doses, hours = due.args
    assert hours is not None and hours[0] < dt.time(12, 5) < hours[1]
    assert doses and all(d.student.endswith(".") and "," not in d.student for d in doses)
    stack = window.due_cards
    assert stack.cards and not stack.isHidden()
    # the desk's first check: the doses already due show, with no bell or tray message
    assert alerts == []
    # the "due" notice does not also go to the status bar / tray: the cards said it
    assert "due now" not in window.statusBar().currentMessage()

    pane = window.reminders_pane
    assert isinstance(pane, RemindersPane)
    target = stack.cards[0].dose
    with qtbot.waitSignal(pane.dialog_opened, timeout=5000) as opened:
        qtbot.mouseClick(stack.cards[0].give_button, Qt.MouseButton.LeftButton)
    dialog = opened.args[0]
    qtbot.waitUntil(lambda: dialog.sheet is not None and dialog.preview is not None, timeout=10_000)
    with qtbot.waitSignal(dialog.recorded, timeout=10_000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.dose_dialog is None, timeout=5000)
    assert stack.card_for(*target.key) is None
    # the next check no longer lists it (documented), and it never comes back
    desk_ctx.cache.clear()
    with qtbot.waitSignal(jobs.signals.due, timeout=10_000) as again:
        jobs.check_doses()
    assert target.key not in {d.key for d in again.args[0]}
    assert stack.card_for(*target.key) is None and stack.cards
    jobs.stop()
