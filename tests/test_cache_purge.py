"""The PC keeps no student data longer than it must: signing in and the end of the day drop the
cached reminder lists (student names), and keep the formulary that offline search needs."""

from __future__ import annotations

import time
from pathlib import Path

from medapp.cache.store import FORMULARY_TAG, Cache, school_tag


def test_purge_drops_student_entries_and_keeps_the_formulary(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    try:
        cache.set("reminders:s1:2026-11-30", {"names": ["Lovelace, Ada"]}, 3600, school_tag("s1"))
        cache.set("reminders:s2:2026-11-30", {"names": ["Other, Bo"]}, 3600, school_tag("s2"))
        cache.set("formulary:snapshot", ["amoxicillin"], 86400, FORMULARY_TAG)
        cache.set("search:amox", ["hit"], 3600)
        cache.set("reminders:s1:old", {"names": ["Gone, Al"]}, 0.01, school_tag("s1"))
        time.sleep(0.05)
        assert cache.purge_student_data() == 2
        assert cache.get("reminders:s1:2026-11-30") is None
        assert cache.get("reminders:s2:2026-11-30") is None
        assert cache.get("formulary:snapshot") == ["amoxicillin"]
        assert cache.get("search:amox") == ["hit"]
        assert cache.purge_student_data() == 0  # nothing left to drop
    finally:
        cache.close()
