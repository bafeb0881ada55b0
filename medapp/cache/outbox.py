"""Doses recorded while the server is unreachable: kept on disk until they land, exactly once.

Each record is keyed by its client-generated log id, so putting it twice keeps one copy, and
sending it twice inserts one row (``ON CONFLICT (id) DO NOTHING`` on the server). The store is
in the user *data* folder, not the cache folder — these are clinical records, not a cache, and
cache cleaners must not touch them. SQLite runs with ``synchronous=FULL`` so a record survives
a power cut right after the nurse pressed "Given".

A record the server refuses when it finally arrives (the rules say no: another nurse recorded
the same dose meanwhile, the authorization expired) is never dropped: it moves to ``rejected``
with the reason, and the desk shows it until a nurse resolves it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache

from medapp import paths

log = logging.getLogger(__name__)


def _durable_index(directory: Path) -> diskcache.Index:
    cache = diskcache.Cache(
        str(directory),
        eviction_policy="none",
        size_limit=2**40,
        sqlite_synchronous=2,
        disk_min_file_size=2**30,  # records stay inside SQLite: its files are 0600
    )
    return diskcache.Index.fromcache(cache)


class Outbox:
    def __init__(self, directory: Path | None = None) -> None:
        # The outbox folder (dose notes) is 0700; the data folder above it is left as it is: it
        # holds the private database folder, which PostgreSQL keeps 0700 itself, and which a
        # root-run pgserver reaches through it as its own system user.
        base = paths.private_dir(directory or (paths.data_dir() / "outbox"))
        self.directory = base
        self._pending = _durable_index(paths.private_dir(base / "pending"))
        self._rejected = _durable_index(paths.private_dir(base / "rejected"))
        paths.tighten_tree(base)

    def put(self, record: dict[str, Any]) -> None:
        key = str(record["id"])
        stored = dict(record)
        stored.setdefault("queued_at", time.time())
        self._pending.setdefault(key, stored)
        paths.tighten_tree(
            self.directory
        )  # a large record may have become a file        log.info("dose kept in the offline outbox (%d waiting)", len(self._pending))

    def pending(self) -> Iterator[dict[str, Any]]:
        """Oldest first: insertion order is the order the nurse recorded them."""
        for key in list(self._pending.keys()):
            record = self._pending.get(key)
            if record is not None:
                yield record

    def delivered(self, record_id: object) -> None:
        self._pending.pop(str(record_id), None)

    def reject(self, record_id: object, reason: str) -> None:
        key = str(record_id)
        record = self._pending.get(key)
        if record is None:
            return
        self._rejected[key] = {**record, "rejected_reason": reason, "rejected_at": time.time()}
        del self._pending[key]
        log.warning(
            "offline dose refused by the server; kept for review (%d to review)",
            len(self._rejected),
        )

    def rejected(self) -> list[dict[str, Any]]:
        return [self._rejected[k] for k in list(self._rejected.keys()) if k in self._rejected]

    def resolve_rejected(self, record_id: object) -> None:
        """A nurse has reviewed a refused record (and recorded what really happened)."""
        self._rejected.pop(str(record_id), None)

    def __len__(self) -> int:
        return len(self._pending)
