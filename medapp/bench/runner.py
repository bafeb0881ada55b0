"""``medapp bench``: per-operation latencies on district-scale data, against the seed's "before".

Every operation is timed through the same service the GUI calls, with the disk cache cold (the
number is what the database path costs); ``<name>_warm`` rows repeat it through the cache.
Timings are wall clock around the call, including the round trip to PostgreSQL. The "before"
column runs the seed plan's algorithms (``medapp.bench.before``) on the same database.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from medapp.bench import before
from medapp.cache.store import TTL, Cache
from medapp.db.engine import Database, make_engine
from medapp.db.models import (
    Medication,
    School,
    StudentMedication,
    User,
    UserSchool,
)
from medapp.db.repositories.schedule import schedule_page
from medapp.domain.checks import DoseRefused
from medapp.formulary.ndc import NdcError, interpret_ndc
from medapp.formulary.search import autocomplete, search_medications
from medapp.formulary.text import query_tokens
from medapp.services.desk import Actor, Desk, Role, utc_now
from medapp.services.doses import DoseCommand, record_dose
from medapp.services.inventory import inventory_alerts, refresh_alert_view
from medapp.services.reactions import ReactionCommand, report_adverse_reaction
from medapp.services.reminders import reminders_for_district, reminders_for_school

COUNTED_TABLES = (
    "schools",
    "users",
    "students",
    "allergies",
    "medications",
    "medication_packages",
    "student_medications",
    "medication_logs",
    "medication_inventory",
    "incident_reports",
    "adverse_reactions",
)


@dataclass
class Row:
    name: str
    samples_ms: list[float]
    before_ms: list[float] | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        p95 = percentile(self.samples_ms, 95)
        before_p95 = percentile(self.before_ms, 95) if self.before_ms else None
        return {
            "name": self.name,
            "runs": len(self.samples_ms),
            "p50_ms": round(percentile(self.samples_ms, 50), 3),
            "p95_ms": round(p95, 3),
            "max_ms": round(max(self.samples_ms), 3),
            "before_p95_ms": round(before_p95, 3) if before_p95 is not None else None,
            "speedup": round(before_p95 / p95, 1) if before_p95 and p95 > 0 else None,
            **({"note": self.note} if self.note else {}),
        }


def percentile(samples: Sequence[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def run_many(fns: Sequence[Callable[[], object]]) -> list[float]:
    return [timed(fn) for fn in fns]


def table_counts(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    with db.engine.connect() as conn:
        for table in COUNTED_TABLES:
            exists = conn.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar()
            if exists:
                counts[table] = int(
                    conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                )
    return counts


def _last_school_day(today: dt.date) -> dt.date:
    day = today
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


class Bench:
    def __init__(
        self,
        db: Database,
        *,
        seed: int = 1,
        runs: int = 200,
        slow_runs: int = 20,
        with_before: bool = True,
        progress: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.db = db
        self.rng = random.Random(seed)
        self.runs = runs
        self.slow_runs = slow_runs
        self.with_before = with_before
        self.progress = progress
        self.rows: list[Row] = []
        self.cache = Cache(Path(tempfile.mkdtemp(prefix="medapp-bench-cache-")))
        authorized = or_(
            StudentMedication.authorization_expires.is_(None),
            StudentMedication.authorization_expires >= dt.date.today(),
        )
        with db.sessions() as s:
            # The same query mix and picks on every run of one seed (random() follows setseed).
            s.execute(text("SELECT setseed(:x)"), {"x": (seed % 997) / 997})
            self.schools = s.execute(select(School.id, School.timezone).order_by(School.code)).all()
            self.nurses = list(s.scalars(select(User.id).where(User.role == "NURSE")))
            self.names = list(s.scalars(select(Medication.name).order_by(func.random()).limit(400)))
            self.ndcs = list(
                s.scalars(
                    select(Medication.ndc)
                    .where(Medication.ndc.is_not(None))
                    .order_by(func.random())
                    .limit(100)
                )
            )
            self.package_ndcs: list[str] = []
            if s.execute(text("SELECT to_regclass('medication_packages')")).scalar():
                self.package_ndcs = list(
                    s.scalars(
                        text("SELECT ndc11 FROM medication_packages ORDER BY random() LIMIT 100")
                    )
                )
            self.scheduled_rx = (
                s.execute(
                    select(StudentMedication.id)
                    .where(StudentMedication.is_active, ~StudentMedication.is_prn, authorized)
                    .order_by(func.random())
                    .limit(runs)
                )
                .scalars()
                .all()
            )
            self.prn_rx = (
                s.execute(
                    select(StudentMedication.id)
                    .where(StudentMedication.is_active, StudentMedication.is_prn, authorized)
                    .order_by(func.random())
                    .limit(runs)
                )
                .scalars()
                .all()
            )
            self.student_meds = s.execute(
                select(StudentMedication.student_id, StudentMedication.medication_id)
                .order_by(func.random())
                .limit(runs)
            ).all()
            self.today = dt.date.today()
            # The most recent day with scheduled doses on record: a real school day with logs
            # (today may be a weekend or holiday, and the demo's history ends yesterday).
            last = s.execute(
                text(
                    "SELECT max(scheduled_for) FROM medication_logs "
                    "WHERE scheduled_for IS NOT NULL AND scheduled_for < now()"
                )
            ).scalar()
        self.day = last.date() if last is not None else _last_school_day(self.today)
        # As the desk does after start-up: long-lived objects leave the collector's generations,
        # so a full collection does not walk them in the middle of a timed call.
        gc.collect()
        gc.freeze()

    # -- query mixes ------------------------------------------------------------------------
    def search_queries(self) -> list[str]:
        queries: list[str] = []
        for name in self.names:
            word = name.split()[0].lower()
            kind = len(queries) % 4
            if kind == 0:
                queries.append(name.lower())
            elif kind == 1:
                queries.append(word[: max(3, min(6, len(word) - 1))])
            elif kind == 2 and len(word) > 5:
                i = self.rng.randrange(1, len(word) - 1)
                queries.append(word[:i] + word[i + 1 :])  # a dropped letter: "amoxicilin"
            else:
                pool = self.ndcs + self.package_ndcs
                queries.append(str(self.rng.choice(pool)) if pool else word)
            if len(queries) >= self.runs:
                break
        return queries

    # -- operations -------------------------------------------------------------------------
    def run(self) -> list[Row]:
        steps = [
            self.bench_search,
            self.bench_autocomplete,
            self.bench_schedule,
            self.bench_reminders_school,
            self.bench_reminders_district,
            self.bench_inventory,
            self.bench_record_dose,
            self.bench_adverse_reaction,
        ]
        for step in steps:
            self.progress(step.__name__.removeprefix("bench_"))
            step()
        return self.rows

    def bench_search(self) -> None:
        queries = self.search_queries()
        with self.db.sessions() as s:
            search_medications(s, "warm up")  # builds the per-process typo vocabulary once
            after = run_many([partial(search_medications, s, q) for q in queries])
            prior = (
                run_many([partial(before.search_before, s, q) for q in queries])
                if self.with_before
                else None
            )
        self.rows.append(Row("search", after, prior))
        with self.db.sessions() as s:
            floor = run_many([partial(_raw_floor, s, q) for q in queries])
        self.rows.append(
            Row(
                "search_floor",
                floor,
                note="one raw statement per query (GIN prefix match or NDC index, 25 rows, "
                "no ranking, no grouping): what no search can beat",
            )
        )
        for q in queries:
            self._cached_search(q)
        warm = run_many([partial(self._cached_search, q) for q in queries])
        self.rows.append(Row("search_warm", warm, prior))

    def _cached_search(self, q: str) -> object:
        def compute() -> object:
            with self.db.sessions() as s:
                return search_medications(s, q)

        return self.cache.get_or_compute(f"search:{q}", TTL.SEARCH, compute, tag="formulary")

    def bench_autocomplete(self) -> None:
        prefixes = [n[: 2 + i % 4].lower() for i, n in enumerate(self.names[: self.runs])]
        with self.db.sessions() as s:
            after = run_many([partial(autocomplete, s, p) for p in prefixes])
            prior = (
                run_many([partial(before.search_before, s, p, 10) for p in prefixes])
                if self.with_before
                else None
            )
        self.rows.append(Row("autocomplete", after, prior))

    def bench_schedule(self) -> None:
        monday = self.day - dt.timedelta(days=self.day.weekday() + 7)
        friday = monday + dt.timedelta(days=4)
        picks = [self.rng.choice(self.schools) for _ in range(self.slow_runs)]
        after, prior = [], []
        for school_id, tz in picks:
            zone = ZoneInfo(tz)
            with self.db.sessions() as s:
                after.append(
                    timed(partial(schedule_page, s, monday, friday, tz=zone, school_id=school_id))
                )
            if self.with_before:
                with self.db.sessions() as s:
                    prior.append(
                        timed(partial(before.schedule_before, s, monday, friday, school_id, zone))
                    )
        self.rows.append(Row("schedule_school_week", after, prior or None))

    def bench_reminders_school(self) -> None:
        picks = [self.rng.choice(self.schools) for _ in range(self.slow_runs)]
        nurses = self._school_nurses()
        picks = [p for p in picks if p.id in nurses] or picks
        after, first = [], []
        with self._nurse_connection() as take:
            # The day's first load of each school (its day plans are computed, then kept per
            # order version and day), as a desk does when it opens in the morning…
            for sid in dict.fromkeys(sid for sid, _ in picks):
                desk = take(nurses[sid]) if sid in nurses else self.reader
                first.append(timed(partial(reminders_for_school, desk, sid, self.day)))
            # …then what every refresh of the day costs: all three statements again, as the
            # nurse (row-level security on), the disk cache bypassed.
            for sid, _ in picks:
                desk = take(nurses[sid]) if sid in nurses else self.reader
                after.append(timed(partial(reminders_for_school, desk, sid, self.day)))
        prior = []
        if self.with_before:
            for sid, tz in picks:
                with self.db.sessions() as s:
                    prior.append(
                        timed(partial(before.reminders_before, s, self.day, sid, ZoneInfo(tz)))
                    )
        self.rows.append(
            Row(
                "reminders_school_day",
                after,
                prior or None,
                "a refresh: as the school's nurse (RLS on), no disk cache",
            )
        )
        self.rows.append(
            Row(
                "reminders_school_day_first",
                first,
                prior or None,
                "the day's first load of a school (day plans computed)",
            )
        )
        for sid, _ in picks:
            reminders_for_school(self.warm_reader, sid, self.day)
        warm = [
            timed(partial(reminders_for_school, self.warm_reader, sid, self.day))
            for sid, _ in picks
        ]
        self.rows.append(Row("reminders_school_day_warm", warm, prior or None))

    def _school_nurses(self) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
        """One nurse (id, login role) per school that has one."""
        with self.db.sessions() as s:
            rows = s.execute(
                select(UserSchool.school_id, User.id, User.username)
                .join(User, User.id == UserSchool.user_id)
                .where(User.role == "NURSE", User.is_active)
                .order_by(User.username)
            ).all()
        nurses: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
        for school_id, user_id, username in rows:
            nurses.setdefault(school_id, (user_id, username))
        return nurses

    @contextmanager
    def _nurse_connection(self) -> Iterator[Callable[[tuple[uuid.UUID, str]], Desk]]:
        """A one-connection engine that takes a nurse's role (``SET ROLE``, session level, as
        the signed-in desk does on connect) before each timed call, outside the timing."""
        engine = make_engine(self.db.url, pool_size=1, max_overflow=0)
        sessions = sessionmaker(engine, expire_on_commit=False)

        def take(nurse: tuple[uuid.UUID, str]) -> Desk:
            user_id, username = nurse
            with engine.connect() as conn:
                conn.exec_driver_sql("RESET ROLE")
                conn.execute(text("SELECT set_config('role', :r, false)"), {"r": username})
                conn.commit()
                schools = frozenset(
                    uuid.UUID(str(s))
                    for s in conn.execute(
                        text("SELECT school_id FROM user_schools WHERE user_id = :u"),
                        {"u": user_id},
                    ).scalars()
                )
                conn.rollback()
            actor = Actor(user_id, username, "Bench", "Nurse", Role.NURSE, schools)
            return Desk(sessions, actor, utc_now, None)

        try:
            yield take
        finally:
            engine.dispose()

    def bench_reminders_district(self) -> None:
        # Untimed first: the district's day plans computed once, as by the day's first load;
        # the rows time what every later load of the day costs.
        reminders_for_district(self.reader, self.day)
        after = [
            timed(lambda: reminders_for_district(self.reader, self.day))
            for _ in range(self.slow_runs)
        ]
        prior = []
        if self.with_before:
            zone = ZoneInfo(self.schools[0].timezone)
            for _ in range(max(3, self.slow_runs // 4)):
                with self.db.sessions() as s:
                    prior.append(timed(lambda: before.reminders_before(s, self.day, None, zone)))
        self.rows.append(Row("reminders_district_day", after, prior or None))

    def bench_inventory(self) -> None:
        refresh_alert_view(self.db.engine)
        picks = [self.rng.choice(self.schools).id for _ in range(self.runs)]
        after = run_many(
            [
                partial(inventory_alerts, self.reader, school_id=sid, today=self.today)
                for sid in picks
            ]
        )
        prior = None
        if self.with_before:
            with self.db.sessions() as s:
                prior = run_many(
                    [
                        lambda: before.inventory_before(s, self.today)
                        for _ in range(max(10, self.slow_runs))
                    ]
                )
        self.rows.append(Row("inventory_alerts", after, prior))

    def _desk(
        self, nurse: uuid.UUID, now: dt.datetime | None = None, cache: Cache | None = None
    ) -> Desk:
        """The bench acts as a lead nurse of every school (the services check the actor)."""
        schools = frozenset(school.id for school in self.schools)
        actor = Actor(nurse, "bench", "Bench", "Nurse", Role.LEAD_NURSE, schools)
        clock = (lambda: now) if now is not None else utc_now
        return Desk(self.db.sessions, actor, clock, cache)

    @property
    def reader(self) -> Desk:
        """A lead nurse of every school reading without the disk cache (the cold rows)."""
        return self._desk(uuid.UUID(int=0))

    @property
    def warm_reader(self) -> Desk:
        return self._desk(uuid.UUID(int=0), cache=self.cache)

    def bench_record_dose(self) -> None:
        now = dt.datetime.now(dt.UTC)
        nurse = self.nurses[0]
        commands = []
        for i in range(self.runs):
            if i % 2 == 0 and self.prn_rx:
                rx = self.prn_rx[(i // 2) % len(self.prn_rx)]
                commands.append(
                    DoseCommand(
                        id=uuid.uuid4(),
                        prescription_id=rx,
                        nurse_id=nurse,
                        status="GIVEN",
                        time_given=now - dt.timedelta(minutes=1),
                        override_reason="benchmark run",
                    )
                )
            else:
                rx = self.scheduled_rx[(i // 2) % len(self.scheduled_rx)]
                commands.append(
                    DoseCommand(
                        id=uuid.uuid4(),
                        prescription_id=rx,
                        nurse_id=nurse,
                        status="NOT_GIVEN",
                        reason="HELD",
                        notes="benchmark run",
                        time_given=now - dt.timedelta(minutes=1),
                    )
                )
        desk = self._desk(nurse, now)
        after = run_many([partial(_record_or_refused, desk, c) for c in commands])
        self.rows.append(Row("record_dose", after))

    def bench_adverse_reaction(self) -> None:
        nurse = self.nurses[0]
        now = dt.datetime.now(dt.UTC)
        commands = [
            ReactionCommand(
                id=uuid.uuid4(),
                student_id=st,
                medication_id=med,
                reported_by_id=nurse,
                severity="SEVERE" if i % 4 == 0 else "MILD",
                reaction="benchmark: rash",
                occurred_at=now - dt.timedelta(minutes=5),
                action_taken="observed",
            )
            for i, (st, med) in enumerate(self.student_meds)
        ]
        desk = self._desk(nurse, now)
        refused: list[int] = []
        after = run_many([partial(_report_or_refused, desk, c, refused) for c in commands])
        note = (
            f"{len(refused)} refused by the database (severe, product without ingredients)"
            if refused
            else ""
        )
        self.rows.append(Row("adverse_reaction", after, note=note))


def _raw_floor(session: Any, query: str) -> object:
    """The cheapest statement that answers ``query`` at all (no ranking, grouping or typo
    handling): the floor the ranked search is compared with."""
    ndc = _ndc_or_none(query)
    if ndc is not None:
        params: dict[str, Any]
        if ndc.digits_prefix is not None:
            sql, params = "ndc_digits LIKE :p", {"p": f"{ndc.digits_prefix}%"}
        elif ndc.ndc11 or ndc.ndc10:
            sql = (
                "id IN (SELECT medication_id FROM medication_packages "
                "WHERE ndc11 = ANY(:a) OR ndc10 = ANY(:b))"
            )
            params = {"a": list(ndc.ndc11), "b": list(ndc.ndc10)}
        else:
            sql, params = "ndc_digits = ANY(:d)", {"d": list(ndc.product_digits)}
        return session.execute(
            text(f"SELECT id, name FROM medications WHERE {sql} LIMIT 25"), params
        ).all()
    words = query_tokens(query)
    tsquery = " & ".join(f"'{w}':*" for w in words) or "''"
    return session.execute(
        text(
            "SELECT id, name FROM medications WHERE search_keys @@ to_tsquery('simple', :q) LIMIT 25"
        ),
        {"q": tsquery},
    ).all()


def _ndc_or_none(query: str) -> Any:
    try:
        return interpret_ndc(query)
    except NdcError:
        return None


def _record_or_refused(desk: Desk, cmd: DoseCommand) -> None:
    """One dose through every rule; a refusal (the order's dose already recorded) is timed too."""
    try:
        record_dose(desk, cmd)
    except DoseRefused:
        pass


def _report_or_refused(desk: Desk, cmd: ReactionCommand, refused: list[int]) -> None:
    """A severe reaction to a product with no recorded ingredient has no allergy to stand on;
    the server's check refuses it (a known gap of the reactions service, counted, not hidden)."""
    try:
        report_adverse_reaction(desk, cmd)
    except IntegrityError:
        refused.append(1)


def domain_rows() -> list[dict[str, Any]]:
    from medapp.bench.domain_bench import run_domain_bench

    rows = run_domain_bench()
    for row in rows:
        row.setdefault("before_p95_ms", None)
        row.setdefault("speedup", None)
    return rows


def _ms(value: float) -> str:
    return f"{value:.4f}" if value < 0.1 else f"{value:.3f}"


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    header = f"{'operation':<30}{'runs':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'before p95':>12}{'speed-up':>10}"
    lines = [header, "-" * len(header)]
    for r in rows:
        before_p95 = f"{r['before_p95_ms']:.2f}" if r.get("before_p95_ms") is not None else "—"
        speedup = f"{r['speedup']:.0f}x" if r.get("speedup") is not None else "—"
        lines.append(
            f"{r['name']:<30}{r['runs']:>6}{_ms(r['p50_ms']):>10}{_ms(r['p95_ms']):>10}{_ms(r['max_ms']):>10}"
            f"{before_p95:>12}{speedup:>10}"
        )
    return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
