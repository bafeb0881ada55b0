"""Logging to a rotating file in the user log dir.

Rule for every module: log ids, counts and timings — never a student's name, date of birth,
medication or note (PHI). Database URLs are logged through ``describe_target`` (no password).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from medapp import paths
from medapp.db.errors import redact


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The log file (and each rotated one) is 0600 whatever the umask."""

    def _open(self):  # type: ignore[no-untyped-def]  # noqa: ANN202
        stream = super()._open()
        paths.private_file(Path(self.baseFilename))
        return stream


class _RedactPasswords(logging.Filter):
    """Last line of defence: a database address quoted in any log line loses its password."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def setup_logging(verbose: bool = False) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_medapp", False) for h in root.handlers):
        return
    level = logging.DEBUG if verbose else logging.INFO
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        log_dir = paths.private_dir(paths.log_dir())
        file_handler: logging.Handler = _PrivateRotatingFileHandler(
            log_dir / "medapp.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        file_handler = logging.StreamHandler(sys.stderr)
    file_handler.setFormatter(fmt)
    file_handler.addFilter(_RedactPasswords())
    file_handler._medapp = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if verbose:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(fmt)
        console.addFilter(_RedactPasswords())
        console._medapp = True  # type: ignore[attr-defined]
        root.addHandler(console)
    # Libraries that would otherwise log SQL parameters (which can contain PHI) stay quiet.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
