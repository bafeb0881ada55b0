"""Shared pieces of the demo generator: the error, seeded randomness, ids, progress."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

Progress = Callable[[str], None]


class DemoError(Exception):
    """The demo data cannot be loaded here (the message says why and what to do instead)."""


def make_rng(seed: int, part: str) -> random.Random:
    """An independent, reproducible random stream for one part of the generator.

    Each part (students, prescriptions, logs, ...) draws from its own stream, so changing how
    one part is generated does not reshuffle the others. String seeds are hashed with SHA-512
    by :mod:`random`, so the streams do not depend on PYTHONHASHSEED.
    """
    return random.Random(f"medapp-demo/{seed}/{part}")


class UuidSource:
    """Version-4 UUIDs drawn from a seeded stream: same seed, same ids."""

    __slots__ = ("_bits",)

    def __init__(self, rng: random.Random) -> None:
        self._bits = rng.getrandbits

    def __call__(self) -> uuid.UUID:
        return uuid.UUID(int=self._bits(128), version=4)


def utc(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def days(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last`` inclusive."""
    return [first + timedelta(n) for n in range((last - first).days + 1)]


class Stopwatch:
    """Elapsed-time notes for the progress callback."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._started = time.perf_counter()
        self._last = self._started

    def say(self, message: str) -> None:
        now = time.perf_counter()
        if self._progress is not None:
            self._progress(f"{message} ({now - self._last:.1f} s)")
        self._last = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self._started
