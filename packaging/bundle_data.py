"""Data mappings the spec (``medapp.spec``) computes, kept here so tests can check them.

Imported by the spec (its folder is put on ``sys.path``) and loaded by path in
tests/packaging/test_bundle_data.py — never as ``packaging.bundle_data``: the PyPI ``packaging``
library owns that name.
"""

from __future__ import annotations

from pathlib import Path

#: the first bytes of every compiled time-zone file (RFC 8536), PostgreSQL's and Python's alike
TZIF_MAGIC = b"TZif"


def pg_share_dir(pginstall: Path) -> Path:
    """PostgreSQL's share folder inside pgserver's ``pginstall``, relative to it: where
    ``postgres.bki`` lives (``share/postgresql`` on Linux; a Windows build may use ``share``)."""
    for bki in sorted(pginstall.glob("share/**/postgres.bki")):
        return bki.parent.relative_to(pginstall)
    raise FileNotFoundError(
        f"no postgres.bki under {pginstall / 'share'}: not a PostgreSQL install"
    )


def is_tzif(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(TZIF_MAGIC)) == TZIF_MAGIC


def timezone_datas(zoneinfo: Path, dest: str) -> list[tuple[str, str]]:
    """PyInstaller ``(source file, destination folder)`` pairs that copy the compiled zone files
    of ``zoneinfo`` (the ``tzdata`` package's ``zoneinfo`` folder) into ``dest``, keeping the
    zone names' folders (``America/New_York`` → ``<dest>/America``).

    pgserver's Windows PostgreSQL has no ``timezone`` folder, so ``AT TIME ZONE
    'America/New_York'`` and a school's ``timezone`` setting would fail there. The tzdata files
    are the same TZif format PostgreSQL's own ``timezone`` folder holds; only those are copied
    (not the package's ``__init__.py`` files, ``tzdata.zi``, ``zone.tab`` …)."""
    out = []
    for path in sorted(zoneinfo.rglob("*")):
        if path.is_file() and not path.name.startswith("__") and is_tzif(path):
            folder = Path(dest, path.parent.relative_to(zoneinfo))
            out.append((str(path), folder.as_posix()))
    return out


def pg_timezone_datas(
    pginstall: Path, pginstall_dest: str = "pgserver/pginstall"
) -> list[tuple[str, str]]:
    """The zone files for PostgreSQL's ``timezone`` folder when ``pginstall`` lacks one (pgserver's
    Windows build); nothing when PostgreSQL brings its own (Linux: it is copied as is)."""
    share = pg_share_dir(pginstall)
    if (pginstall / share / "timezone").is_dir():
        return []
    import tzdata  # medapp's own dependency: Python's zoneinfo needs it on Windows

    zoneinfo = Path(tzdata.__file__).parent / "zoneinfo"
    return timezone_datas(zoneinfo, (Path(pginstall_dest) / share / "timezone").as_posix())
