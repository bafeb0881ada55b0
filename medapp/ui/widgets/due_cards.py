"""Notification cards for due doses, stacked at the window's top-right until the nurse acts.

The rules (one card per dose, never repeated, snooze, quiet hours, what a card may say) are in
:mod:`medapp.domain.due_cards`; this module only draws them and turns clicks into the window's
actions: Give (the dose dialog), Open (the dose selected in Reminders), Snooze 5 / 10 min.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from medapp.domain.due_cards import (
    SNOOZE_MINUTES,
    DoseKey,
    DueCards,
    DueDose,
    card_text,
    stack_title,
)
from medapp.ui.dialogs.dose_dialog import set_tone

#: at most this many cards are drawn; the rest are counted ("+ 3 more in Reminders")
MAX_CARDS = 3
#: QSettings key: beep when a card appears (school hours only)
SOUND_SETTING = "notifications/sound"


def sound_enabled() -> bool:
    value = QSettings().value(SOUND_SETTING, True)
    return value not in (False, "false", "0", 0)


class DoseCard(QFrame):
    """One due dose: its time, the student's first name and last initial, and four buttons."""

    give = Signal(object)  # DoseKey
    open = Signal(object)
    snooze = Signal(object, int)

    def __init__(self, dose: DueDose, tz: dt.tzinfo, *, locked: bool, parent: QWidget) -> None:
        super().__init__(parent)
        self.dose = dose
        self.setObjectName("doseCard")
        self.setProperty("card", True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        text = card_text(dose, tz, locked=locked)
        self.setAccessibleName(f"{text.title}: {text.body}")
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 8, 10, 8)
        box.setSpacing(4)
        self.title = QLabel(text.title)
        self.title.setObjectName("doseCardTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        set_tone(self.title, "missed" if dose.overdue else "due")
        self.body = QLabel(text.body)
        self.body.setObjectName("doseCardBody")
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        line = QHBoxLayout()
        line.setSpacing(8)
        line.addWidget(self.title)
        line.addWidget(self.body, 1)
        box.addLayout(line)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.give_button = self._button("Give…", "doseCardGive", "Open the dose to record it")
        self.give_button.clicked.connect(lambda: self.give.emit(dose.key))
        self.open_button = self._button("Open", "doseCardOpen", "Show the dose in Reminders")
        self.open_button.clicked.connect(lambda: self.open.emit(dose.key))
        self.give_button.setEnabled(not locked)
        self.open_button.setEnabled(not locked)
        row.addWidget(self.give_button)
        row.addWidget(self.open_button)
        row.addStretch(1)
        self.snooze_buttons: dict[int, QPushButton] = {}
        for minutes in SNOOZE_MINUTES:
            b = self._button(
                f"{minutes} min", f"doseCardSnooze{minutes}", f"Remind me in {minutes} minutes"
            )
            b.setAccessibleName(f"Snooze {minutes} minutes")
            b.clicked.connect(lambda _=False, m=minutes: self.snooze.emit(dose.key, m))
            row.addWidget(b)
            self.snooze_buttons[minutes] = b
        box.addLayout(row)

    def _button(self, label: str, name: str, tip: str) -> QPushButton:
        b = QPushButton(label)
        b.setObjectName(name)
        b.setToolTip(tip)
        b.setAutoDefault(False)
        return b


class DueCardStack(QFrame):
    """The stack of cards (an overlay the window places at its top-right).

    ``now`` is the desk's clock (tests stand on a controlled one); ``wake_now()`` re-checks the
    snoozes (a timer calls it when the next snooze ends)."""

    give_requested = Signal(object, object)  # prescription id, scheduled_for
    open_requested = Signal(object, object)
    #: new cards (or cards back from a snooze), in school hours: sound and tray
    alert = Signal(object)  # list[DueDose]
    changed = Signal()

    def __init__(
        self, now: Callable[[], dt.datetime], tz: str = "UTC", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dueCards")
        self.setAccessibleName("Doses due")
        self._now = now
        self.model = DueCards(_zone(tz))
        self.locked = False
        self.cards: list[DoseCard] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.setSpacing(6)
        head = QHBoxLayout()
        head.setSpacing(6)
        self.header = QLabel()
        self.header.setObjectName("dueCardsTitle")
        head.addWidget(self.header)
        head.addStretch(1)
        self.snooze_all_button = QPushButton(f"All: {SNOOZE_MINUTES[0]} min")
        self.snooze_all_button.setObjectName("dueCardsSnoozeAll")
        self.snooze_all_button.setToolTip(
            f"Remind me of every dose shown in {SNOOZE_MINUTES[0]} minutes"
        )
        self.snooze_all_button.setAccessibleName(f"Snooze all {SNOOZE_MINUTES[0]} minutes")
        self.snooze_all_button.setAutoDefault(False)
        self.snooze_all_button.clicked.connect(lambda: self.snooze_all(SNOOZE_MINUTES[0]))
        head.addWidget(self.snooze_all_button)
        self._layout.addLayout(head)
        self.more = QLabel()
        self.more.setObjectName("dueCardsMore")
        set_tone(self.more, "muted")
        self._wake = QTimer(self)
        self._wake.setSingleShot(True)
        self._wake.timeout.connect(self.wake_now)
        self.hide()

    # -- feeding ------------------------------------------------------------------------------

    def set_doses(
        self,
        doses: tuple[DueDose, ...],
        hours: tuple[dt.time, dt.time] | None = None,
        tz: str | None = None,
    ) -> list[DueDose]:
        """The jobs' latest open doses; returns (and alerts) the new cards — none on the first
        feed (or after a change of time zone): the doses already due then show, silently."""
        if tz is not None and _zone(tz) != self.model.tz:
            self.model = DueCards(_zone(tz))
        if hours is not None:
            self.model.day_start, self.model.day_end = hours
        now = self._now()
        fresh = self.model.update(doses, now) + self.model.wake(now)
        self._render()
        if fresh and not self.model.quiet(now):
            self.alert.emit(fresh)
        return fresh

    def wake_now(self) -> None:
        now = self._now()
        woken = self.model.wake(now)
        self._render()
        if woken and not self.model.quiet(now):
            self.alert.emit(woken)

    def set_locked(self, locked: bool) -> None:
        if locked != self.locked:
            self.locked = locked
            self._render()

    # -- actions ------------------------------------------------------------------------------

    def snooze(self, key: DoseKey, minutes: int) -> None:
        self.model.snooze(key, minutes, self._now())
        self._render()

    def snooze_all(self, minutes: int) -> None:
        """Lunchtime: forty doses due at once — one click puts every card off."""
        now = self._now()
        for dose in self.model.visible(now):
            self.model.snooze(dose.key, minutes, now)
        self._render()

    def take(self, key: DoseKey) -> None:
        self.model.take(key)
        self._render()

    def release(self, key: DoseKey) -> None:
        self.model.release(key)
        self._render()

    def dismiss(self, key: DoseKey) -> None:
        self.model.dismiss(key)
        self._render()

    def _give(self, key: DoseKey) -> None:
        self.give_requested.emit(key[0], key[1])

    def _open(self, key: DoseKey) -> None:
        self.open_requested.emit(key[0], key[1])

    # -- drawing ------------------------------------------------------------------------------

    def card_for(self, prescription_id: uuid.UUID, scheduled_for: dt.datetime) -> DoseCard | None:
        return next((c for c in self.cards if c.dose.key == (prescription_id, scheduled_for)), None)

    def _render(self) -> None:
        for card in self.cards:
            self._layout.removeWidget(card)
            card.deleteLater()
        self.cards = []
        self._layout.removeWidget(self.more)
        shown = self.model.visible(self._now())
        self.header.setText(stack_title(len(shown)))
        for dose in shown[:MAX_CARDS]:
            card = DoseCard(dose, self.model.tz, locked=self.locked, parent=self)
            card.give.connect(self._give)
            card.open.connect(self._open)
            card.snooze.connect(self.snooze)
            self._layout.addWidget(card)
            self.cards.append(card)
        extra = len(shown) - MAX_CARDS
        self.more.setVisible(extra > 0)
        if extra > 0:
            self.more.setText(f"+ {extra} more in Reminders")
            self._layout.addWidget(self.more)
        self._arm_wake()
        self.setVisible(bool(shown))
        if shown:
            self.adjustSize()
            self.raise_()
        self.changed.emit()

    def _arm_wake(self) -> None:
        when = self.model.next_wake()
        if when is None:
            self._wake.stop()
            return
        ms = max(0, int((when - self._now()).total_seconds() * 1000))
        self._wake.start(min(ms, 2**31 - 1))


def beep() -> None:
    """The card's sound: the desktop's own bell (no audio library to bundle)."""
    QApplication.beep()


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - a bad setting must not stop the cards
        return ZoneInfo("UTC")


__all__ = ["MAX_CARDS", "SOUND_SETTING", "DoseCard", "DueCardStack", "beep", "sound_enabled"]
