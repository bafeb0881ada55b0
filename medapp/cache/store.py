"""A read-through cache on disk, shared by the processes of one PC user.

Rules (DESIGN.md): the cache is an optimisation — every failure (full disk, corrupt file, locked
database) is logged and treated as a miss, never raised. Entries carry one *tag* naming what
they depend on, so a change notification (``NOTIFY medapp_changes``) can drop exactly the
entries it affects: ``formulary``, ``school:<id>``, ``inventory``.

The cache holds clinical data (names on reminder lists), so it lives in the user's own cache
folder, which is private to the signed-in Windows/Linux account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import diskcache

from medapp import paths

log = logging.getLogger(__name__)

T = TypeVar("T")
_NO_VALUE_FILES = 2**30
_MISS = object()


class TTL:
    """Seconds each kind of entry may live (from the seed plan)."""

    FORMULARY = 24 * 3600
    SEARCH = 3600
    ACTIVE_PRESCRIPTIONS = 30 * 60
    INVENTORY_ALERTS = 15 * 60
    REMINDERS = 3600


class Cache:
    def __init__(self, directory: Path | None = None, *, size_limit: int = 512 * 2**20) -> None:
        self.directory = directory or (paths.cache_dir() / "diskcache")
        self.hits = 0
        self.misses = 0
        self._dc: diskcache.Cache | None
        try:
            paths.private_dir(self.directory)  # names of students: 0700, files 0600
            self._dc = diskcache.Cache(
                str(self.directory),
                size_limit=size_limit,
                tag_index=True,
                # every value inside the SQLite file (never one file per large value), whose
                # WAL and SHM files SQLite creates with the database file's mode: 0600
                disk_min_file_size=_NO_VALUE_FILES,
            )
            paths.tighten_tree(self.directory)
        except Exception as exc:  # noqa: BLE001 - no cache is still a working app
            log.warning("disk cache unavailable (%s); continuing without it", type(exc).__name__)
            self._dc = None
        self._kept: diskcache.Cache | None = None
        if self._dc is not None:
            try:
                # What must outlive expiry, eviction, tag drops and purges (the last good
                # formulary snapshot of an offline desk): its own store, never evicted.
                self._kept = diskcache.Cache(
                    str(paths.private_dir(self.directory / "kept")),
                    eviction_policy="none",
                    disk_min_file_size=_NO_VALUE_FILES,
                )
                paths.tighten_tree(self.directory)
            except Exception as exc:  # noqa: BLE001
                log.warning("kept store unavailable (%s)", type(exc).__name__)
                self._kept = None

    @property
    def enabled(self) -> bool:
        return self._dc is not None

    def get(self, key: str) -> Any:
        """The cached value, or ``None`` on a miss or any cache failure."""
        value = self._get(key)
        return None if value is _MISS else value

    def _get(self, key: str) -> Any:
        if self._dc is None:
            return _MISS
        try:
            value = self._dc.get(key, default=_MISS, retry=True)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache read failed (%s)", type(exc).__name__)
            return _MISS
        if value is _MISS:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def set(self, key: str, value: Any, ttl: float, tag: str | None = None) -> None:
        if self._dc is None:
            return
        try:
            self._dc.set(key, value, expire=ttl, tag=tag, retry=True)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache write failed (%s)", type(exc).__name__)
            return

    def get_or_compute(
        self, key: str, ttl: float, compute: Callable[[], T], tag: str | None = None
    ) -> T:
        value = self._get(key)
        if value is not _MISS:
            return value
        fresh = compute()
        self.set(key, fresh, ttl, tag)
        return fresh

    def delete(self, key: str) -> None:
        if self._dc is None:
            return
        try:
            self._dc.delete(key, retry=True)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache delete failed (%s)", type(exc).__name__)

    def evict_tag(self, tag: str) -> int:
        if self._dc is None:
            return 0
        try:
            return int(self._dc.evict(tag, retry=True))
        except Exception as exc:  # noqa: BLE001
            log.warning("cache evict failed (%s)", type(exc).__name__)
            return 0

    def clear(self) -> None:
        if self._dc is not None:
            try:
                self._dc.clear(retry=True)
            except Exception as exc:  # noqa: BLE001
                log.warning("cache clear failed (%s)", type(exc).__name__)

    def purge_student_data(self) -> int:
        """Drop every entry that holds student data (reminder lists: tagged ``school:<id>``)
        and everything expired, keeping the formulary snapshot and search results (no PHI), so
        an offline desk can still search. Called when someone signs in (what the previous user
        could see is not hers) and at the end of each day. Returns the number dropped."""
        if self._dc is None:
            return 0
        dropped = 0
        try:
            self._dc.expire(retry=True)
            for key in list(self._dc.iterkeys()):
                _value, tag = self._dc.get(key, default=None, tag=True, retry=True)
                if isinstance(tag, str) and tag.startswith("school:"):
                    dropped += int(self._dc.delete(key, retry=True))
        except Exception as exc:  # noqa: BLE001
            log.warning("cache purge failed (%s); clearing it", type(exc).__name__)
            self.clear()
        return dropped

    def keep(self, key: str, value: Any) -> None:
        """Store ``value`` until it is replaced: no expiry, no eviction, untouched by
        :meth:`evict_tag`, :meth:`clear` and :meth:`purge_student_data` (never PHI here)."""
        if self._kept is None:
            return
        try:
            self._kept.set(key, value, retry=True)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache keep failed (%s)", type(exc).__name__)

    def kept(self, key: str) -> Any:
        """The value last :meth:`keep`-ed under ``key``, or None."""
        if self._kept is None:
            return None
        try:
            return self._kept.get(key, default=None, retry=True)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache read failed (%s)", type(exc).__name__)
            return None

    def close(self) -> None:
        if self._dc is not None:
            self._dc.close()
        if self._kept is not None:
            self._kept.close()


def school_tag(school_id: object) -> str:
    return f"school:{school_id}"


FORMULARY_TAG = "formulary"
INVENTORY_TAG = "inventory"
