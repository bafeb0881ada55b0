"""Logging to a rotating file in the user log dir.

Rule for every module: log ids, counts and timings — never a student's name, date of birth,
medication or note (PHI). Database URLs are logged through ``describe_target`` (no password).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys

from medapp import paths


def setup_logging(verbose: bool = False) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_medapp", False) for h in root.handlers):
        return
    level = logging.DEBUG if verbose else logging.INFO
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        log_dir = paths.log_dir()
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_dir / "medapp.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        file_handler = logging.StreamHandler(sys.stderr)
    file_handler.setFormatter(fmt)
    file_handler._medapp = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if verbose:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(fmt)
        console._medapp = True  # type: ignore[attr-defined]
        root.addHandler(console)
    # Libraries that would otherwise log SQL parameters (which can contain PHI) stay quiet.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
