"""A private PostgreSQL server for a PC with no district server configured.

``pgserver`` ships PostgreSQL binaries inside a wheel, so a fresh machine with only Python and
pip gets a real PostgreSQL (same SQL, same constraints as the district server) without an
installer or admin rights. It has no contrib extensions (no pg_trgm): nothing here may need them.
The server listens on a Unix socket inside its data folder (no TCP port to collide with), is
shared between processes through pgserver's handle file, and stops when the last user exits.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path
from typing import Any

from medapp import paths
from medapp.db.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

_lock = threading.Lock()
_servers: dict[Path, Any] = {}


def default_pgdata() -> Path:
    return paths.data_dir() / "pgdata"


def start_embedded(pgdata: Path | None = None, *, cleanup: str = "stop") -> str:
    """Start (or join) the private server in ``pgdata`` and return a SQLAlchemy URL for it."""
    pgdata = (pgdata or default_pgdata()).resolve()
    with _lock:
        server = _servers.get(pgdata)
        if server is None:
            try:
                import pgserver
            except ImportError as exc:  # pragma: no cover - dependency is mandatory
                raise DatabaseUnavailable(
                    "Cannot start the private database: the 'pgserver' package is missing. "
                    "Reinstall medapp, or set MEDAPP_DATABASE_URL to the district server."
                ) from exc
            paths.private_dir(pgdata)  # PostgreSQL wants 0700; it holds every record
            log.info("starting embedded PostgreSQL in %s", pgdata)
            try:
                with warnings.catch_warnings():
                    # platformdirs warns about XDG_RUNTIME_DIR on headless Linux; harmless here.
                    warnings.simplefilter("ignore")
                    server = pgserver.get_server(pgdata, cleanup_mode=cleanup)
            except Exception as exc:
                raise DatabaseUnavailable(
                    f"Cannot start the private database in {pgdata}: {exc}. Check free disk space "
                    "and that the folder is writable, or set MEDAPP_DATABASE_URL."
                ) from exc
            _servers[pgdata] = server
    return to_sqlalchemy_url(server.get_uri())


def stop_embedded(pgdata: Path | None = None) -> None:
    """Release our handle; pgserver stops the server when no process holds one any more."""
    pgdata = (pgdata or default_pgdata()).resolve()
    with _lock:
        server = _servers.pop(pgdata, None)
    if server is not None:
        server.cleanup()


def to_sqlalchemy_url(uri: str) -> str:
    """pgserver gives ``postgresql://postgres:@/postgres?host=/sock``; pin the psycopg 3 driver."""
    return uri.replace("postgresql://", "postgresql+psycopg://", 1).replace(
        "postgres:@", "postgres@", 1
    )
