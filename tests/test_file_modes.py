"""PHI on the PC: the cache (student names), the outbox (dose notes), the logs and the data
folder are the PC account's alone — folders 0700, files 0600 — whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from medapp import paths

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o000)  # the worst case: everything world-writable by default
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def assert_private(root: Path) -> None:
    for name, mode in modes(root).items():
        path = root / name
        wanted = 0o700 if path.is_dir() else 0o600
        assert mode == wanted, f"{name}: {oct(mode)}"


def test_cache_folder_and_files(tmp_path: Path, permissive_umask: None) -> None:
    from medapp.cache.store import Cache

    cache = Cache(tmp_path / "cache" / "diskcache")
    cache.set("reminders", ["Lovelace, Ada"] * 10, ttl=60)
    cache.set("big", "x" * 200_000, ttl=60)  # large values become files of their own
    cache.close()
    assert_private(tmp_path / "cache" / "diskcache")


def test_outbox_folder_and_files(tmp_path: Path, permissive_umask: None) -> None:
    from medapp.cache.outbox import Outbox

    outbox = Outbox(tmp_path / "outbox")
    outbox.put({"id": "1", "notes": "given with lunch"})
    outbox.put({"id": "2", "notes": "n" * 100_000})
    assert len(outbox) == 2
    assert_private(tmp_path / "outbox")


def test_default_outbox_is_private(
    tmp_path: Path, permissive_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from medapp.cache.outbox import Outbox

    monkeypatch.setenv("MEDAPP_DATA_DIR", str(tmp_path / "data"))
    Outbox().put({"id": "1"})
    assert_private(tmp_path / "data" / "outbox")


def test_log_file_and_rotations(tmp_path: Path, permissive_umask: None) -> None:
    from medapp.logging_setup import _PrivateRotatingFileHandler

    folder = paths.private_dir(tmp_path / "log")
    handler = _PrivateRotatingFileHandler(folder / "medapp.log", maxBytes=200, backupCount=2)
    logger = logging.getLogger("medapp.test.modes")
    logger.addHandler(handler)
    try:
        for i in range(20):
            logger.warning("line %d of the log, long enough to rotate", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert (folder / "medapp.log.1").exists()
    assert_private(folder)


def test_private_dir_tightens_an_existing_folder(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    os.chmod(loose, 0o777)
    (loose / "old.txt").write_text("x")
    os.chmod(loose / "old.txt", 0o666)
    paths.private_dir(loose)
    paths.tighten_tree(loose)
    assert_private(loose)


def test_the_app_runs_with_a_private_umask() -> None:
    old = os.umask(0o022)
    try:
        paths.use_private_umask()
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(old)


def test_log_lines_lose_database_passwords(tmp_path: Path) -> None:
    from medapp.logging_setup import _RedactPasswords

    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "connecting to %s", ("postgresql://u:hunter2pw@h/db",), None
    )
    assert _RedactPasswords().filter(record)
    assert "hunter2pw" not in record.getMessage() and "u:***@h" in record.getMessage()
