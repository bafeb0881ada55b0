"""The spec's data mappings (packaging/bundle_data.py), checked without building: the Windows
bundle's PostgreSQL time zones come from the tzdata package, which is installed everywhere
(medapp depends on it), so the mapping is tested here on Linux against a real PostgreSQL."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pgserver
import pytest
import tzdata
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
PGINSTALL = Path(pgserver.__file__).parent / "pginstall"
ZONEINFO = Path(tzdata.__file__).parent / "zoneinfo"


def _bundle_data() -> ModuleType:
    """Loaded by path: ``packaging`` is also the name of a PyPI library."""
    spec = importlib.util.spec_from_file_location(
        "medapp_bundle_data", ROOT / "packaging" / "bundle_data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle_data = _bundle_data()


def test_zone_files_keep_their_names_and_leave_the_package_files_out() -> None:
    pairs = bundle_data.timezone_datas(ZONEINFO, "pgserver/pginstall/share/timezone")
    by_name = {
        f"{folder.removeprefix('pgserver/pginstall/share/timezone').strip('/')}/{Path(src).name}".lstrip(
            "/"
        ): src
        for src, folder in pairs
    }
    assert Path(by_name["America/New_York"]) == ZONEINFO / "America" / "New_York"
    assert Path(by_name["UTC"]) == ZONEINFO / "UTC"
    assert "America/Argentina/Buenos_Aires" in by_name  # nested folders too
    assert not [n for n in by_name if n.endswith((".py", ".zi", ".tab")) or "__" in n]
    assert all(Path(src).read_bytes()[:4] == b"TZif" for src in by_name.values())
    assert len(pairs) > 300


def test_linux_postgresql_brings_its_own_zones_so_nothing_is_added() -> None:
    share = bundle_data.pg_share_dir(PGINSTALL)
    assert (PGINSTALL / share / "postgres.bki").is_file()
    assert (PGINSTALL / share / "timezone").is_dir()
    assert bundle_data.pg_timezone_datas(PGINSTALL) == []


def test_a_postgresql_without_zones_gets_the_tzdata_ones(tmp_path: Path) -> None:
    install = tmp_path / "pginstall"
    (install / "share").mkdir(parents=True)
    (install / "share" / "postgres.bki").write_text("", encoding="utf-8")  # a Windows layout
    pairs = bundle_data.pg_timezone_datas(install)
    assert ("pgserver/pginstall/share/timezone/America", "New_York") in {
        (folder, Path(src).name) for src, folder in pairs
    }
    with pytest.raises(FileNotFoundError):
        bundle_data.pg_share_dir(tmp_path / "empty")


def _copy_pairs(pairs: list[tuple[str, str]], into: Path, prefix: str) -> None:
    for src, folder in pairs:
        target = into / Path(folder).relative_to(prefix)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def test_postgresql_reads_the_tzdata_zone_files() -> None:
    """A real PostgreSQL whose ``timezone`` folder holds only what the mapping copies (the
    Windows situation, rebuilt on Linux): ``AT TIME ZONE 'America/New_York'`` and a session time
    zone work, daylight saving time included."""
    work = Path(tempfile.mkdtemp(prefix="medapp-tz-"))  # reachable by pgserver's user as root
    try:
        install = work / "pgserver" / "pginstall"  # the programs find ../../../pgserver.libs
        shutil.copytree(PGINSTALL, install, symlinks=True, ignore=shutil.ignore_patterns("include"))
        shutil.copytree(PGINSTALL.parent.parent / "pgserver.libs", work / "pgserver.libs")
        share = install / bundle_data.pg_share_dir(install)
        shutil.rmtree(share / "timezone")
        _copy_pairs(bundle_data.pg_timezone_datas(install, "pg"), install, "pg")
        assert (share / "timezone" / "America" / "New_York").is_file()
        winter, summer, session = _zones_seen_by(install, work / "pgdata")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert winter == "2026-01-15 07:00:00"  # EST, UTC-5
    assert summer == "2026-07-15 08:00:00"  # EDT, UTC-4
    assert session == "America/Chicago"


def _zones_seen_by(install: Path, pgdata: Path) -> tuple[str, str, str]:
    """initdb, start on a Unix socket in ``pgdata``, ask, stop (as pgserver's own system user
    when the tests run as root: PostgreSQL refuses root, as pgserver does)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PGDATA", "TZ", "PGTZ")}
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        user = pwd.getpwnam("pgserver")
        run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        work = install.parent.parent
        for path in (work, *work.rglob("*")):
            os.lchown(path, user.pw_uid, user.pw_gid)
        pgdata.mkdir()
        os.chown(pgdata, user.pw_uid, user.pw_gid)
    pg_bin = install / "bin"

    def run(*args: object) -> None:
        done = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, env=env, timeout=300, **run_as
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    run(pg_bin / "initdb", "-D", pgdata, "-U", "postgres", "-A", "trust", "-E", "UTF8")
    run(
        pg_bin / "pg_ctl",
        "-D",
        pgdata,
        "-w",
        "-l",
        pgdata / "log",
        "-o",
        f"-h '' -k {pgdata}",
        "start",
    )
    try:
        engine = create_engine(f"postgresql+psycopg://postgres@/postgres?host={pgdata}")
        try:
            with engine.connect() as conn:
                ask = "SELECT (TIMESTAMPTZ '2026-{}-15 12:00+00' AT TIME ZONE 'America/New_York')::text"
                winter = conn.execute(text(ask.format("01"))).scalar_one()
                summer = conn.execute(text(ask.format("07"))).scalar_one()
                conn.execute(text("SET TIME ZONE 'America/Chicago'"))
                session = conn.execute(text("SHOW TIME ZONE")).scalar_one()
        finally:
            engine.dispose()
    finally:
        run(pg_bin / "pg_ctl", "-D", pgdata, "-m", "fast", "-w", "stop")
    return winter, summer, session
