"""Where medapp keeps things on a nurse's PC, and where its bundled files are.

One module so that a frozen (PyInstaller) build, an installed wheel and a source checkout all
find migrations and resources the same way, and so IT staff can be told one set of folders.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "medapp"
APP_AUTHOR = "medapp"


def _override(env: str) -> Path | None:
    value = os.environ.get(env)
    return Path(value) if value else None


def config_dir() -> Path:
    return _override("MEDAPP_CONFIG_DIR") or Path(
        platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)
    )


def data_dir() -> Path:
    return _override("MEDAPP_DATA_DIR") or Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def cache_dir() -> Path:
    return _override("MEDAPP_CACHE_DIR") or Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    return _override("MEDAPP_LOG_DIR") or Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def _bundled(name: str) -> Path:
    """Find a top-level project folder (``migrations``, ``resources``) in any install form.

    Frozen: PyInstaller unpacks datas under ``sys._MEIPASS``. Wheel: hatch force-includes them
    as ``medapp/_<name>``. Source checkout / editable install: next to the package.
    """
    candidates: list[Path] = []
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        candidates.append(Path(meipass) / name)
    here = Path(__file__).resolve().parent
    candidates += [here / f"_{name}", here.parent / name]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"medapp installation is incomplete: folder '{name}' not found")


def migrations_dir() -> Path:
    return _bundled("migrations")


def resources_dir() -> Path:
    return _bundled("resources")


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def shared_data_dir() -> Path | None:
    """The district's shared public data (FDA formulary etc.) beside the checkout, if present."""
    env = _override("MEDAPP_SHARED_DATA")
    if env:
        return env if env.is_dir() else None
    here = Path(__file__).resolve().parent
    for base in (here.parent.parent, Path.cwd().parent, Path.cwd()):
        candidate = base / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None
