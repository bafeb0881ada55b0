"""The formulary kept on this PC, so the search box still answers when the server does not.

A compact snapshot — per product ``(id, name, generic, strength, form, manufacturer, ndc,
is_controlled)`` — is the *last good snapshot*: kept on disk under :data:`SNAPSHOT_KEY` in the
cache's never-evicted store (:meth:`Cache.keep`), with the time it was built. It never expires
while the server cannot be reached (an offline desk keeps searching for days); it is replaced
only by a newer one: :func:`ensure_snapshot` rebuilds it when it is older than a day
(``TTL.FORMULARY``) or a formulary change was notified, and if the server does not answer,
the old one stays. The desk builds it off the GUI thread at start, and searches it in memory
when the database cannot be reached (:meth:`FormularySnapshot.search`): every typed word must
start a word of the name, generic name, strength, form or manufacturer (or the whole entry
appear inside the name); when that finds little, misspelt words are corrected with the online
search's own code and vocabulary rules (:func:`medapp.formulary.search.spelling_alternatives`:
"ibuprofin" finds ibuprofen offline too); an NDC or scanned barcode is read as online
(:func:`medapp.formulary.ndc.interpret_ndc`) and matched on the product NDC. Results are
:class:`MedicationHit` rows, grouped by name, strength and form like the online search, so the
same table shows both, and the pane says how old the snapshot is ("Offline — formulary as of
30 Nov 14:05").

The search box calls :func:`search_formulary` / :func:`lookup_code`: the database's answer
(kept in the disk cache for an hour, ``TTL.SEARCH``, dropped with the formulary tag),
or — when the database cannot be reached (:func:`is_connection_error`) or the desk already
knows it is offline — the snapshot's, marked ``offline``. :class:`SnapshotHolder` keeps one
in-memory copy per desk, shared by worker threads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.store import FORMULARY_TAG, TTL, Cache
from medapp.db.errors import DatabaseUnavailable
from medapp.db.models import Medication
from medapp.formulary.ndc import NdcError, interpret_ndc
from medapp.formulary.search import (
    FUZZY_BELOW,
    MedicationHit,
    group_members,
    lookup_ndc,
    make_vocabulary,
    search_medications,
    spelling_alternatives,
    warm_up,
)
from medapp.formulary.text import query_tokens, search_key
from medapp.services.desk import Desk

log = logging.getLogger(__name__)

SNAPSHOT_KEY = "formulary:snapshot"
SNAPSHOT_VERSION = 1

# (id, name, generic, strength, form, manufacturer, ndc, is_controlled)
SnapshotRow = tuple[str, str, str | None, str, str, str | None, str | None, bool]


@dataclass
class FormularySnapshot:
    rows: list[SnapshotRow]
    built_at: dt.datetime
    _index: list[tuple[str, str, str, str]] | None = field(default=None, repr=False)
    _vocab: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.rows)

    def to_record(self) -> dict[str, object]:
        return {"version": SNAPSHOT_VERSION, "built_at": self.built_at, "rows": self.rows}

    @classmethod
    def from_record(cls, record: object) -> FormularySnapshot | None:
        if not isinstance(record, dict) or record.get("version") != SNAPSHOT_VERSION:
            return None
        rows = record.get("rows")
        built = record.get("built_at")
        if not isinstance(rows, list) or not isinstance(built, dt.datetime):
            return None
        return cls(rows, built)

    def prepare(self) -> FormularySnapshot:
        """Build the in-memory match index now (call it off the GUI thread)."""
        self._keys()
        self._vocabulary()
        return self

    def _vocabulary(self) -> Any:
        """The typo vocabulary of these rows, built like the database's (words of names and
        generic names, counted per product; every other word known as a prefix target)."""
        if self._vocab is None:
            counts: dict[str, int] = {}
            other: set[str] = set()
            for _id, name, generic, strength, form, maker, _ndc, _c in self.rows:
                for word in set(search_key(name).split()) | set(search_key(generic).split()):
                    counts[word] = counts.get(word, 0) + 1
                for value in (strength, form, maker):
                    other.update(search_key(value).split())
            self._vocab = make_vocabulary(counts, other)
        return self._vocab

    def _keys(self) -> list[tuple[str, str, str, str]]:
        """Per row: name key, " words " of every field, NDC digits, group key (built once)."""
        if self._index is None:
            index = []
            for _id, name, generic, strength, form, maker, ndc, _c in self.rows:
                name_key = search_key(name)
                words = " ".join(search_key(x) for x in (name, generic, strength, form, maker) if x)
                index.append(
                    (
                        name_key,
                        f" {words} ",
                        (ndc or "").replace("-", ""),
                        f"{name_key}|{strength}|{form}",
                    )
                )
            self._index = index
        return self._index

    def search(self, query: str, limit: int = 50) -> tuple[list[MedicationHit], int]:
        """Matching products (grouped) and how many groups matched in all."""
        hits, total, _corrected = self.search_corrected(query, limit)
        return hits, total

    def search_corrected(
        self, query: str, limit: int = 50
    ) -> tuple[list[MedicationHit], int, str | None]:
        """As :meth:`search`, and the corrected words searched when a typo was forgiven."""
        raw = (query or "").strip()[:500]
        keys = self._keys()
        scored: list[tuple[int, int]] = []  # (rank, row)
        try:
            ndc_query = interpret_ndc(raw)
        except NdcError:
            return [], 0, None
        corrected = None
        if ndc_query is not None:
            exact = set(ndc_query.product_digits)
            prefix = ndc_query.digits_prefix
            for i, (_n, _w, ndc, _g) in enumerate(keys):
                if ndc and (ndc in exact or (prefix is not None and ndc.startswith(prefix))):
                    scored.append((0, i))
        else:
            tokens = query_tokens(raw)
            if not tokens or len("".join(tokens)) < 2:
                return [], 0, None
            scored = self._text_matches([(t,) for t in tokens])
            if len(self._groups_of(scored)) < FUZZY_BELOW:
                alternatives = spelling_alternatives(tokens, self._vocabulary())
                if alternatives is not None:
                    options = [(t, *alts) for t, alts in zip(tokens, alternatives, strict=True)]
                    fixed = [(rank + 10, i) for rank, i in self._text_matches(options)]
                    seen = {i for _r, i in scored}
                    if len(self._groups_of(scored + fixed)) > len(self._groups_of(scored)):
                        scored += [(r, i) for r, i in fixed if i not in seen]
                        best = [
                            alts[0] if alts else t
                            for t, alts in zip(tokens, alternatives, strict=True)
                        ]
                        corrected = " ".join(best)
        scored.sort(key=lambda r: (r[0], keys[r[1]][0], self.rows[r[1]][3], r[1]))
        groups = self._groups_of(scored)
        hits = [self._hit(members[0], len(members)) for members in groups.values()]
        return hits[:limit], len(hits), corrected

    def _groups_of(self, scored: list[tuple[int, int]]) -> dict[str, list[int]]:
        keys = self._keys()
        groups: dict[str, list[int]] = {}
        for _rank, i in scored:
            groups.setdefault(keys[i][3], []).append(i)
        return groups

    def _text_matches(self, options: list[tuple[str, ...]]) -> list[tuple[int, int]]:
        """(rank, row) of rows where, per typed word, one of its ``options`` starts a word."""
        keys = self._keys()
        phrases = {" ".join(choice) for choice in _product(options, 16)}
        needles = [tuple(f" {o}" for o in opts) for opts in options]
        scored: list[tuple[int, int]] = []
        for i, (name_key, words, _ndc, _g) in enumerate(keys):
            if not all(any(n in words for n in group) for group in needles):
                if any(p in name_key for p in phrases):
                    scored.append((5, i))
                continue
            if name_key in phrases:
                rank = 0
            elif any(name_key.startswith(p) for p in phrases):
                rank = 1
            elif any(f" {p}" in f" {name_key}" for p in phrases):
                rank = 2
            else:
                rank = 3
            scored.append((rank, i))
        return scored

    def _hit(self, i: int, group_size: int) -> MedicationHit:
        rid, name, generic, strength, form, maker, ndc, controlled = self.rows[i]
        return MedicationHit(
            id=uuid.UUID(rid),
            name=name,
            generic_name=generic,
            strength=strength,
            dosage_form=form,
            route=None,
            manufacturer=maker,
            ndc=ndc,
            is_controlled=controlled,
            dea_schedule=None,
            is_otc=False,
            is_active=True,
            group_size=group_size,
        )


def _product(options: list[tuple[str, ...]], cap: int) -> list[tuple[str, ...]]:
    """The combinations of one option per word (at most ``cap``, the typed words first)."""
    combos: list[tuple[str, ...]] = [()]
    for opts in options:
        combos = [(*c, o) for c in combos for o in opts][:cap]
    return combos


def build_snapshot(sessions: sessionmaker[Session]) -> FormularySnapshot:
    """Read the formulary's compact columns (one query, no ORM objects kept)."""
    query = select(
        Medication.id,
        Medication.name,
        Medication.generic_name,
        Medication.strength,
        Medication.dosage_form,
        Medication.manufacturer,
        Medication.ndc,
        Medication.is_controlled,
    ).order_by(Medication.name_key, Medication.strength, Medication.ndc)
    with sessions() as s:
        rows: list[SnapshotRow] = [
            (str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in s.execute(query)
        ]
    return FormularySnapshot(rows, dt.datetime.now(dt.UTC))


def load_snapshot(cache: Cache) -> FormularySnapshot | None:
    """The last good snapshot on this PC, or None (never built, or unreadable)."""
    snapshot = FormularySnapshot.from_record(cache.kept(SNAPSHOT_KEY))
    if snapshot is None:  # one stored by an older desk in the expiring cache
        snapshot = FormularySnapshot.from_record(cache.get(SNAPSHOT_KEY))
    return snapshot


def store_snapshot(cache: Cache, snapshot: FormularySnapshot) -> None:
    """Replace the last good snapshot (kept until replaced: never expires, never evicted)."""
    cache.keep(SNAPSHOT_KEY, snapshot.to_record())


def snapshot_is_fresh(snapshot: FormularySnapshot, now: dt.datetime | None = None) -> bool:
    """Built within ``TTL.FORMULARY``: no need to ask the server for a newer one yet."""
    age = (now or dt.datetime.now(dt.UTC)) - snapshot.built_at
    return age.total_seconds() < TTL.FORMULARY


def ensure_snapshot(
    sessions: sessionmaker[Session], cache: Cache, *, refresh: bool = False
) -> FormularySnapshot:
    """The snapshot on this PC; rebuilt from the database when there is none, when it is older
    than a day, or when ``refresh`` (a formulary change). When the database cannot be reached
    the old snapshot is returned as it is (the last good one); with none, the error is raised."""
    old = load_snapshot(cache)
    if old is not None and not refresh and snapshot_is_fresh(old):
        return old
    try:
        snapshot = build_snapshot(sessions)
    except Exception as exc:
        if old is None or not is_connection_error(exc):
            raise
        log.info("formulary snapshot kept as it is: the server cannot be reached")
        return old
    store_snapshot(cache, snapshot)
    log.info("formulary snapshot stored (%d products)", len(snapshot))
    return snapshot


class SnapshotHolder:
    """The snapshot in memory for one desk (thread-safe): loaded from the disk cache on first
    use, replaced when rebuilt, forgotten when the formulary changes."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._lock = threading.Lock()
        self._snapshot: FormularySnapshot | None = None

    def get(self) -> FormularySnapshot | None:
        with self._lock:
            if self._snapshot is None:
                loaded = load_snapshot(self.cache)
                self._snapshot = loaded.prepare() if loaded is not None else None
            return self._snapshot

    def ensure(
        self, sessions: sessionmaker[Session], *, refresh: bool = False
    ) -> FormularySnapshot:
        """Make sure a snapshot is on disk and in memory (indexed); returns it."""
        snapshot = ensure_snapshot(sessions, self.cache, refresh=refresh).prepare()
        with self._lock:
            self._snapshot = snapshot
        return snapshot

    def forget(self) -> None:
        with self._lock:
            self._snapshot = None


@dataclass(frozen=True)
class SearchOutcome:
    """What the search box shows: the database's answer, or the snapshot's when offline."""

    query: str
    hits: tuple[MedicationHit, ...]
    total: int
    kind: str  # "ndc" | "text" | "fuzzy" | "empty" | "offline"
    corrected: str | None = None
    message: str | None = None
    offline: bool = False
    snapshot_size: int | None = None  # offline: products in the snapshot (None: no snapshot)
    snapshot_built_at: dt.datetime | None = None  # offline: when the snapshot was made (UTC)


def offline_caption(built_at: dt.datetime | None, tz: dt.tzinfo | None = None) -> str:
    """What the search pane says offline: "Offline — formulary as of 30 Nov 14:05" (local
    time of this PC, or ``tz``)."""
    if built_at is None:
        return "Offline — no formulary on this PC"
    local = built_at.astimezone(tz)
    return f"Offline — formulary as of {local.day} {local:%b %H:%M}"


def is_connection_error(exc: BaseException) -> bool:
    """The database could not be reached (as opposed to a refused or wrong request)."""
    if isinstance(exc, IntegrityError):
        return False
    return isinstance(
        exc, OperationalError | InterfaceError | DatabaseUnavailable | psycopg.OperationalError
    )


def _offline(holder: SnapshotHolder, query: str, limit: int) -> SearchOutcome:
    snapshot = holder.get()
    if snapshot is None:
        return SearchOutcome(query, (), 0, "offline", offline=True)
    hits, total, corrected = snapshot.search_corrected(query, limit)
    return SearchOutcome(
        query,
        tuple(hits),
        total,
        "offline",
        corrected,
        offline=True,
        snapshot_size=len(snapshot),
        snapshot_built_at=snapshot.built_at,
    )


def search_formulary(
    desk: Desk,
    holder: SnapshotHolder,
    query: str,
    *,
    limit: int = 100,
    offline: bool = False,
) -> SearchOutcome:
    """Search the database (answers kept an hour in the disk cache, dropped with any formulary
    change); when it cannot be reached (or ``offline``), the snapshot. Any active user may
    search the formulary (it holds no student data)."""
    desk.actor.require_active()
    if offline:
        return _offline(holder, query, limit)
    key = _search_key(query, limit)
    cached = holder.cache.get(key)
    if isinstance(cached, SearchOutcome):
        return dataclasses.replace(cached, query=query)
    try:
        with desk.sessions() as s:
            page = search_medications(s, query, limit=limit)
    except Exception as exc:
        if not is_connection_error(exc):
            raise
        log.info("search falls back to the cached formulary (%s)", type(exc).__name__)
        return _offline(holder, query, limit)
    outcome = SearchOutcome(
        query, page.items, page.total, page.query_kind, page.corrected, page.message
    )
    if outcome.kind != "empty":
        holder.cache.set(key, outcome, TTL.SEARCH, tag=FORMULARY_TAG)
    return outcome


def _search_key(query: str, limit: int) -> str:
    """Cache key of a search: the same words (any case or spacing) share one entry."""
    return f"search:{limit}:{' '.join(query.lower().split())[:200]}"


def lookup_code(
    desk: Desk, holder: SnapshotHolder, code: str, *, offline: bool = False
) -> SearchOutcome:
    """A scanned or typed barcode / NDC: the one product it names (snapshot when offline)."""
    desk.actor.require_active()
    if not offline:
        try:
            with desk.sessions() as s:
                hit = lookup_ndc(s, code)
        except Exception as exc:
            if not is_connection_error(exc):
                raise
        else:
            return SearchOutcome(code, (hit,) if hit else (), 1 if hit else 0, "ndc")
    outcome = _offline(holder, code, 5)
    return outcome


def product_group(desk: Desk, hit: MedicationHit) -> tuple[MedicationHit, ...]:
    """Every product collapsed into one search hit (same name, strength and form)."""
    if hit.group_size <= 1:
        return (hit,)
    with desk.sessions() as s:
        return tuple(group_members(s, hit))


def warm_search(sessions: sessionmaker[Session]) -> None:
    """Prepare the typo vocabulary of formulary search (start-up housekeeping)."""
    with sessions() as s:
        warm_up(s)
