"""One simulated desk: a signed-in nurse, her change listener, and the lunch-rush workload.

Why a thread per desk and not a coroutine: a desk's work is the app's own blocking calls (the
services and SQLAlchemy sessions on her one pooled connection, the listener's thread); running
them as they run in the app is the point. The desk loop ticks every :data:`TICK_S` seconds,
which is also the coalescing window for a burst of change notifications (the GUI's reminder
pane coalesces with a timer the same way).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from medapp.cache.store import Cache
from medapp.db.engine import Database
from medapp.db.notify import ChangeListener, Coalescer
from medapp.db.repositories.reminders import DayReminders, ReminderInputs, reminders_from_inputs
from medapp.domain.checks import DoseRefused
from medapp.domain.doses import DoseStatus
from medapp.services.desk import Desk
from medapp.services.doses import DoseCommand, record_dose
from medapp.services.formulary_cache import SnapshotHolder, search_formulary
from medapp.services.inventory import inventory_alerts
from medapp.services.reminders import load_school_inputs, patch_school_inputs
from medapp.services.signin import SignedIn, sign_in

TICK_S = 0.25
OVERRIDE = "lunch-rush load test (medapp loadtest)"
#: tables whose change makes a desk refresh its reminder list
REMINDER_TABLES = frozenset(
    {"medication_logs", "student_medications", "schools", "school_closures"}
)


@dataclass(frozen=True)
class Workload:
    """Seconds between a desk's operations (the issue's lunch rush by default)."""

    refresh_s: float = 60.0
    dose_s: float = 60.0
    search_s: float = 30.0
    inventory_s: float = 300.0


@dataclass(frozen=True)
class DeskSpec:
    key: str  # "d017": never a name (results are logged and printed)
    username: str
    password: str
    school_id: uuid.UUID
    #: this desk's share of its school's doses: index among the school's desks, and their number
    share: int
    shares: int
    #: the desk's clock at the start of the run (lunch time on the load's school day)
    start_at: dt.datetime
    day: dt.date


@dataclass
class DeskLog:
    """What a desk measured (picklable, sent back to the coordinator)."""

    key: str
    school_id: str
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_kinds: dict[str, int] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)
    refused: int = 0
    no_due_dose: int = 0
    #: (log id, wall time just after the commit returned) of every dose the server acknowledged
    acked: list[tuple[str, float]] = field(default_factory=list)
    #: ids of the acknowledged doses given before the rush (set-up): no other desk was listening
    #: yet, so they count for exactly-once but not for the notification lag
    before_rush: list[str] = field(default_factory=list)
    #: (log id, wall time it was first on this desk's list)
    seen: list[tuple[str, float]] = field(default_factory=list)

    def add(self, name: str, ms: float) -> None:
        self.samples.setdefault(name, []).append(ms)

    def error(self, name: str, exc: BaseException) -> None:
        self.errors[name] = self.errors.get(name, 0) + 1
        kind = f"{name}: {type(exc).__name__}"
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        if len(self.first_errors) < 3:  # the message's first line (ids at most, never a name)
            self.first_errors.append(
                f"{kind}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            )


class SimDesk:
    def __init__(
        self,
        spec: DeskSpec,
        base: Database,
        cache_dir: Path,
        words: list[str],
        workload: Workload,
        t0: Callable[[], float],
        seed: int,
    ) -> None:
        self.spec = spec
        self.base = base
        self.cache_dir = cache_dir
        self.words = words
        self.workload = workload
        self._t0 = t0
        self.rng = random.Random(seed)
        self.log = DeskLog(spec.key, str(spec.school_id))
        self.coalescer = Coalescer()
        self.signed: SignedIn | None = None
        self.desk: Desk | None = None
        self.listener: ChangeListener | None = None
        self.inputs: ReminderInputs | None = None
        self.tried: set[tuple[uuid.UUID, dt.datetime]] = set()
        self.known_logs: set[str] = set()

    # -- set-up (untimed: the desk was signed in before lunch) -----------------------------

    def clock(self) -> dt.datetime:
        return self.spec.start_at + dt.timedelta(seconds=max(0.0, time.time() - self._t0()))

    def sign_in(self) -> None:
        self.signed = sign_in(self.base, self.spec.username, self.spec.password)
        self.desk = self.signed.desk(clock=self.clock, cache=Cache(self.cache_dir))
        self.holder = SnapshotHolder(self.desk.cache)  # type: ignore[arg-type]
        self.listener = ChangeListener(self.signed.db.engine, self.coalescer.add, poll_s=0.5)
        self.listener.start()
        if not self.listener.wait_ready(30):
            raise RuntimeError("change listener did not connect")
        self.inputs = load_school_inputs(self.desk, self.spec.school_id, self.spec.day)
        self._mark_seen(self._current())
        self._morning()

    def _morning(self) -> None:
        """What the desk did before lunch: a search, a stock check, its first dose of the day
        and that dose patched into its list (timed apart as ``*_first``: the first use of each
        statement on a new sign-in compiles it, a one-time cost a desk in its lunch rush has
        long paid)."""
        self._op_search(name="search_first")
        self._op_inventory()
        self.log.samples.pop("inventory_alerts", None)
        self._op_dose(name="record_dose_first")
        if self.log.before_rush:  # its own dose back on its list, as a notification would do
            self._refresh("reminders_patch_first", [uuid.UUID(self.log.before_rush[-1])])

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        if self.signed is not None:
            self.signed.close()
        if self.desk is not None and self.desk.cache is not None:
            self.desk.cache.close()

    # -- the run -------------------------------------------------------------------------

    def run(self, until: float, stop: threading.Event) -> None:
        w = self.workload
        start = time.time()
        horizon = max(1.0, until - start)
        due = {
            "refresh": start + self.rng.uniform(0, w.refresh_s),
            "dose": start + self.rng.uniform(0, min(w.dose_s, horizon * 0.8)),
            "search": start + self.rng.uniform(0, min(w.search_s, horizon * 0.8)),
            "inventory": start + self.rng.uniform(0, min(w.inventory_s, horizon * 0.8)),
        }
        periods = {
            "refresh": w.refresh_s,
            "dose": w.dose_s,
            "search": w.search_s,
            "inventory": w.inventory_s,
        }
        while not stop.is_set() and time.time() < until:
            self._on_changes()
            now = time.time()
            for name, at in due.items():
                if now >= at:
                    due[name] = at + periods[name]
                    getattr(self, f"_op_{name}")()
            stop.wait(TICK_S)

    def _timed(self, name: str, fn: Callable[[], object]) -> object | None:
        started = time.perf_counter()
        try:
            result = fn()
        except DoseRefused:
            raise
        except Exception as exc:  # noqa: BLE001 - counted: the run must report every error
            self.log.error(name, exc)
            return None
        self.log.add(name, (time.perf_counter() - started) * 1000)
        return result

    def _current(self) -> DayReminders:
        assert self.inputs is not None
        return reminders_from_inputs(self.inputs, self.clock())

    def _mark_seen(self, reminders: DayReminders) -> None:
        now = time.time()
        for item in reminders.items:
            if item.log_id is not None:
                log_id = str(item.log_id)
                if log_id not in self.known_logs:
                    self.known_logs.add(log_id)
                    self.log.seen.append((log_id, now))

    def _on_changes(self) -> None:
        changes = [
            c
            for c in self.coalescer.drain()
            if c.table == "*"
            or (c.table in REMINDER_TABLES and c.school_id in ("*", str(self.spec.school_id)))
        ]
        if not changes:
            return
        if all(c.table == "medication_logs" and c.patchable for c in changes):
            ids = [uuid.UUID(i) for c in changes for i in c.row_ids]
            self._refresh("reminders_patch", ids)
        else:
            self._refresh("reminders_refresh", None)

    def _refresh(self, name: str, log_ids: list[uuid.UUID] | None) -> None:
        desk, inputs = self.desk, self.inputs
        assert desk is not None and inputs is not None

        def work() -> DayReminders:
            if log_ids is None:
                self.inputs = load_school_inputs(desk, self.spec.school_id, self.spec.day)
            else:
                self.inputs = patch_school_inputs(desk, inputs, log_ids)
            return self._current()

        reminders = self._timed(name, work)
        if isinstance(reminders, DayReminders):
            self._mark_seen(reminders)

    def _op_refresh(self) -> None:
        self._refresh("reminders_refresh", None)

    def _op_dose(self, name: str = "record_dose") -> None:
        desk = self.desk
        assert desk is not None
        mine = [
            item
            for item in self._current().items
            if item.status is DoseStatus.DUE
            and not item.rx.is_prn
            and item.log_id is None
            and (item.rx.prescription_id, item.scheduled_for) not in self.tried
            and zlib.crc32(item.rx.prescription_id.bytes) % self.spec.shares == self.spec.share
        ]
        if not mine:
            self.log.no_due_dose += 1
            return
        item = mine[0]
        self.tried.add((item.rx.prescription_id, item.scheduled_for))

        def command(override: str | None) -> DoseCommand:
            return DoseCommand(
                id=uuid.uuid4(),
                prescription_id=item.rx.prescription_id,
                nurse_id=desk.actor.user_id,
                status="GIVEN",
                time_given=desk.now(),
                scheduled_for=item.scheduled_for,
                override_reason=override,
            )

        for override in (None, OVERRIDE):
            try:
                result = self._timed(name, partial(_record, desk, command(override)))
            except DoseRefused:
                continue  # a nurse reads the warning and gives a reason (or does not give it)
            if result is not None:
                log_id = str(result.log_id)  # type: ignore[attr-defined]
                self.log.acked.append((log_id, time.time()))
                if name != "record_dose":
                    self.log.before_rush.append(log_id)
            return
        self.log.refused += 1

    def _op_search(self, name: str = "search") -> None:
        """One name typed as keystrokes; the GUI's debounce sends a search at each pause."""
        desk = self.desk
        assert desk is not None
        word = self.rng.choice(self.words)
        cuts = sorted({min(len(word), n) for n in (2, 4, len(word))})
        for n in cuts:
            self._timed(name, partial(search_formulary, desk, self.holder, word[:n]))

    def _op_inventory(self) -> None:
        desk = self.desk
        assert desk is not None
        self._timed(
            "inventory_alerts",
            lambda: inventory_alerts(desk, school_id=self.spec.school_id, today=self.spec.day),
        )


def _record(desk: Desk, cmd: DoseCommand) -> object:
    return record_dose(desk, cmd)
