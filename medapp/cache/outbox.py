"""Doses recorded while the server is unreachable: kept on disk until they land, exactly once.

Each record is keyed by its client-generated log id, so putting it twice keeps one copy, and
sending it twice inserts one row (``ON CONFLICT (id) DO NOTHING`` on the server). The store is
in the user *data* folder, not the cache folder — these are clinical records, not a cache, and
cache cleaners must not touch them. SQLite runs with ``synchronous=FULL`` so a record survives
a power cut right after the nurse pressed "Given".

Three stores, and a record is always in exactly one of them (a move writes the new place
before it removes the old one, so a crash between the two leaves a copy in both, never in
neither; :meth:`Outbox.pending` skips a pending record that is already under review):

* ``pending`` — waiting to be sent, oldest first;
* ``review`` — the server refused it for its data or its rules (a text too long for its
  column, another nurse recorded the same dose meanwhile, the order ended). It never blocks
  the records behind it; the desk lists it ("To review") until a nurse retries it (after an
  edit) or dismisses it with a reason;
* ``dismissed`` — dismissed records with who, when and why: the audit of what never reached
  the server. Nothing is ever deleted from it.

Sending holds a cross-process lock (:meth:`Outbox.sync_lock`, an OS file lock on
``sync.lock`` in the outbox folder), so two desk processes on one PC never send the same
record and never report each other's deliveries as refusals.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import diskcache

from medapp import paths

log = logging.getLogger(__name__)

#: the "to review" store's folder; the seed called it "rejected" (kept, so old records stay)
_REVIEW = "rejected"


def _durable_index(directory: Path) -> diskcache.Index:
    cache = diskcache.Cache(
        str(directory),
        eviction_policy="none",
        size_limit=2**40,
        sqlite_synchronous=2,
        disk_min_file_size=2**30,  # records stay inside SQLite: its files are 0600
    )
    return diskcache.Index.fromcache(cache)


class OutboxBusy(RuntimeError):
    """Another process (or thread) is sending this outbox right now."""


class ReviewError(ValueError):
    """A review action that cannot be done (no such record, no reason), said in a sentence."""


class _FileLock:
    """An exclusive OS lock on one file: ``flock`` on POSIX (per open file, so two threads of
    one process exclude each other too), ``msvcrt.locking`` on Windows. Released by the OS
    when the process dies, so a killed desk never leaves the outbox locked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def acquire(self, timeout: float) -> bool:
        fh = open(self.path, "a+b")  # noqa: SIM115 - held open while locked
        paths.private_file(self.path)
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            if _try_lock(fh):
                self._fh = fh
                return True
            if time.monotonic() >= deadline:
                fh.close()
                return False
            time.sleep(0.05)

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            _unlock(fh)
            fh.close()


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fh: IO[bytes]) -> bool:
        fh.seek(0)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True

    def _unlock(fh: IO[bytes]) -> None:
        fh.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]

else:
    import fcntl

    def _try_lock(fh: IO[bytes]) -> bool:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(fh: IO[bytes]) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class Outbox:
    def __init__(self, directory: Path | None = None) -> None:
        # The outbox folder (dose notes) is 0700; the data folder above it is left as it is: it
        # holds the private database folder, which PostgreSQL keeps 0700 itself, and which a
        # root-run pgserver reaches through it as its own system user.
        base = paths.private_dir(directory or (paths.data_dir() / "outbox"))
        self.directory = base
        self._pending = _durable_index(paths.private_dir(base / "pending"))
        self._review = _durable_index(paths.private_dir(base / _REVIEW))
        self._dismissed = _durable_index(paths.private_dir(base / "dismissed"))
        self._thread_lock = threading.Lock()
        paths.tighten_tree(base)

    # -- waiting to be sent ----------------------------------------------------------------

    def put(self, record: dict[str, Any]) -> None:
        key = str(record["id"])
        stored = dict(record)
        stored.setdefault("queued_at", time.time())
        self._pending.setdefault(key, stored)
        paths.tighten_tree(self.directory)  # a large record may have become a file
        log.info("dose kept in the offline outbox (%d waiting)", len(self._pending))

    def pending(self) -> Iterator[dict[str, Any]]:
        """Oldest first: insertion order is the order the nurse recorded them. A record that
        is also under review (a crash between the two writes of a move) is not sent again."""
        for key in list(self._pending.keys()):
            if key in self._review:
                self._pending.pop(key, None)
                continue
            record = self._pending.get(key)
            if record is not None:
                yield record

    def delivered(self, record_id: object) -> None:
        self._pending.pop(str(record_id), None)

    def __len__(self) -> int:
        return len(self._pending)

    @contextlib.contextmanager
    def sync_lock(self, timeout: float = 30.0) -> Iterator[None]:
        """Hold the outbox for one sending pass (raises :class:`OutboxBusy` after ``timeout``
        seconds of another process or thread holding it)."""
        if not self._thread_lock.acquire(timeout=max(timeout, 0.0)):
            raise OutboxBusy("The offline doses are being sent by another window.")
        try:
            lock = _FileLock(self.directory / "sync.lock")
            if not lock.acquire(timeout):
                raise OutboxBusy("The offline doses are being sent by another medapp window.")
            try:
                yield
            finally:
                lock.release()
        finally:
            self._thread_lock.release()

    # -- to review -------------------------------------------------------------------------

    def reject(self, record_id: object, reason: str, kind: str = "refused") -> None:
        """Move a pending record to "to review" with the server's reason (``kind``:
        "conflict" — the rules refused it, e.g. another nurse gave that dose — or "data" — the
        server refused the values). Written there before it leaves the queue."""
        key = str(record_id)
        record = self._pending.get(key)
        if record is None:
            return
        self._review[key] = {
            **record,
            "rejected_reason": reason,
            "rejected_kind": kind,
            "rejected_at": time.time(),
        }
        self._pending.pop(key, None)
        log.warning(
            "offline dose refused by the server (%s); kept for review (%d to review)",
            kind,
            len(self._review),
        )

    def rejected(self) -> list[dict[str, Any]]:
        """The records to review, oldest refusal first."""
        return [r for k in list(self._review.keys()) if (r := self._review.get(k)) is not None]

    to_review = rejected

    def review_count(self) -> int:
        return len(self._review)

    def retry(self, record_id: object, changes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Put a record under review back in the queue, with the nurse's ``changes`` (e.g. a
        shortened dose text). Its reason for review stays in ``history`` of the record."""
        key = str(record_id)
        record = self._review.get(key)
        if record is None:
            raise ReviewError("That record is no longer waiting for review.")
        history = list(record.get("review_history", ()))
        history.append(
            {
                "reason": record.get("rejected_reason"),
                "kind": record.get("rejected_kind"),
                "at": record.get("rejected_at"),
                "changed": sorted((changes or {}).keys()),
            }
        )
        fresh = {
            k: v
            for k, v in record.items()
            if k not in ("rejected_reason", "rejected_kind", "rejected_at")
        }
        fresh.update(changes or {})
        fresh["review_history"] = history
        self._pending[key] = fresh
        self._review.pop(key, None)
        return fresh

    def dismiss(self, record_id: object, reason: str, by: str) -> None:
        """Close a record under review without sending it: kept with who, when and why."""
        if len((reason or "").strip()) < 10:
            raise ReviewError("Say in a sentence why this record is not sent (10+ characters).")
        key = str(record_id)
        record = self._review.get(key)
        if record is None:
            raise ReviewError("That record is no longer waiting for review.")
        self._dismissed[key] = {
            **record,
            "dismissed_reason": reason.strip(),
            "dismissed_by": by,
            "dismissed_at": time.time(),
        }
        self._review.pop(key, None)
        log.info("offline dose under review dismissed with a reason")

    def resolve_rejected(self, record_id: object) -> None:
        """Kept for callers of the seed: a reviewed record is dismissed, never dropped."""
        self.dismiss(record_id, "resolved by the nurse after review", by="desk")

    def dismissed(self) -> list[dict[str, Any]]:
        return [
            r for k in list(self._dismissed.keys()) if (r := self._dismissed.get(k)) is not None
        ]
