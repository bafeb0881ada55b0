"""Throw-away PostgreSQL databases for tests and benchmarks (real server, never SQLite).

``MEDAPP_TEST_DATABASE_URL`` names a server to create scratch databases on; without it an
embedded pgserver instance in a temporary folder is used. Either way each caller gets its own
freshly created database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from medapp.db.embedded import start_embedded
from medapp.db.engine import normalize_url


def server_url(embedded_dir: Path | None = None) -> str:
    """URL of a maintenance database on the test server (the one we create databases from)."""
    env = os.environ.get("MEDAPP_TEST_DATABASE_URL", "").strip()
    if env:
        return normalize_url(env)
    if embedded_dir is None:
        raise RuntimeError("no MEDAPP_TEST_DATABASE_URL and no folder for an embedded server")
    return start_embedded(embedded_dir)


@contextmanager
def scratch_database(base_url: str, prefix: str = "medapp_test") -> Iterator[str]:
    """Create an empty database next to ``base_url``'s, yield its URL, then drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
