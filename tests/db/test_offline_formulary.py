"""The formulary on the PC for an offline desk: the last good snapshot never expires while the
server cannot be reached, says how old it is, is replaced when the server answers, and forgives
typos as the online search does."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.store import FORMULARY_TAG, Cache
from medapp.db.engine import Database, make_engine
from medapp.db.models import Medication
from medapp.formulary.search import invalidate_vocabulary, search_medications
from medapp.services.formulary_cache import (
    SnapshotHolder,
    build_snapshot,
    ensure_snapshot,
    load_snapshot,
    offline_caption,
    search_formulary,
    store_snapshot,
)
from tests.db.desks import reader_desk

PRODUCTS = [
    ("Ibuprofen", "ibuprofen", "200 mg", "TABLET"),
    ("Motrin IB", "ibuprofen", "200 mg", "TABLET"),
    ("Amoxicillin", "amoxicillin", "500 mg", "CAPSULE"),
    ("Sertraline Hydrochloride", "sertraline hydrochloride", "50 mg", "TABLET"),
    ("Ventolin HFA", "albuterol sulfate", "90 ug/1", "AEROSOL, METERED"),
]


@pytest.fixture
def formulary(committed_db: Database) -> Database:
    with Session(committed_db.engine) as s:
        for name, generic, strength, form in PRODUCTS:
            s.add(
                Medication(
                    name=name,
                    generic_name=generic,
                    strength=strength,
                    dosage_form=form,
                    ndc=None,
                    is_controlled=False,
                )
            )
        s.commit()
    invalidate_vocabulary()
    return committed_db


@pytest.fixture
def dead() -> Iterator[sessionmaker[Session]]:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")  # a closed port
    yield sessionmaker(engine)
    engine.dispose()


def test_the_last_good_snapshot_outlives_any_age_while_the_server_is_away(
    formulary: Database, dead: sessionmaker[Session], tmp_path: Path
) -> None:
    cache = Cache(tmp_path / "cache")
    try:
        three_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
        old = dataclasses.replace(build_snapshot(formulary.sessions), built_at=three_days_ago)
        store_snapshot(cache, old)
        cache.evict_tag(FORMULARY_TAG)
        cache.purge_student_data()
        cache.clear()  # even a cleared cache keeps it
        # the desk starts offline: the old snapshot is used as it is, not dropped
        kept = ensure_snapshot(dead, cache)
        assert kept.built_at == three_days_ago and len(kept) == len(old)
        holder = SnapshotHolder(cache)
        found = search_formulary(reader_desk(dead), holder, "amoxicillin")
        assert found.offline and [h.name for h in found.hits] == ["Amoxicillin"]
        assert found.snapshot_built_at == three_days_ago
        # the server answers again: a newer snapshot replaces it
        fresh = ensure_snapshot(formulary.sessions, cache)
        assert fresh.built_at > three_days_ago
        reloaded = load_snapshot(Cache(tmp_path / "cache"))
        assert reloaded is not None and reloaded.built_at == fresh.built_at
    finally:
        cache.close()


def test_offline_search_forgives_typos_as_online_search_does(
    formulary: Database, dead: sessionmaker[Session], tmp_path: Path
) -> None:
    cache = Cache(tmp_path / "cache")
    try:
        holder = SnapshotHolder(cache)
        holder.ensure(formulary.sessions)
        for typo, want in (("ibuprofin", "Ibuprofen"), ("sertaline", "Sertraline Hydrochloride")):
            offline = search_formulary(reader_desk(dead), holder, typo)
            assert offline.offline and offline.hits, typo
            assert offline.hits[0].name == want
            assert offline.corrected is not None and offline.corrected in want.lower()
            with formulary.sessions() as s:
                online = search_medications(s, typo)
            assert want in {h.name for h in online.items}  # the same answer online
            assert {h.name for h in offline.hits} <= {h.name for h in online.items}
        nothing = search_formulary(reader_desk(dead), holder, "zzqxvw")
        assert nothing.offline and nothing.hits == () and nothing.corrected is None
    finally:
        cache.close()


def test_the_offline_caption_names_the_snapshot_date() -> None:
    built = dt.datetime(2026, 11, 30, 19, 5, tzinfo=dt.UTC)
    caption = offline_caption(built, ZoneInfo("America/New_York"))
    assert caption == "Offline — formulary as of 30 Nov 14:05"
    assert offline_caption(None) == "Offline — no formulary on this PC"
