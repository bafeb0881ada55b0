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


# -- private folders (PHI on the PC) ------------------------------------------------------------

#: folders that hold student data (cache, outbox, logs, private database): owner only
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
#: the umask medapp runs with: whatever it creates is the PC account's alone
PRIVATE_UMASK = 0o077


def _chmod(path: Path, mode: int) -> None:
    if os.name != "posix":  # Windows: the per-user profile folders are already private
        return
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except OSError:
        pass  # a file removed meanwhile (diskcache eviction) or not ours: nothing to tighten


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700 whatever the umask; returns it."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    _chmod(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> None:
    _chmod(path, PRIVATE_FILE_MODE)


def tighten_tree(directory: Path) -> None:
    """Every folder under ``directory`` 0700 and every file 0600 (files a library created with
    the process umask, e.g. diskcache's SQLite files)."""
    if os.name != "posix" or not directory.is_dir():
        return
    _chmod(directory, PRIVATE_DIR_MODE)
    for root, dirs, files in os.walk(directory):
        for name in dirs:
            _chmod(Path(root) / name, PRIVATE_DIR_MODE)
        for name in files:
            _chmod(Path(root) / name, PRIVATE_FILE_MODE)


def use_private_umask() -> None:
    """From now on this process creates files 0600 and folders 0700 (called at start-up)."""
    if os.name == "posix":
        os.umask(PRIVATE_UMASK)


#: where build.py puts the demo's public data inside a frozen bundle (beside migrations/)
BUNDLED_SHARED_DATA = "shared-data"


def is_frozen() -> bool:
    """True inside a PyInstaller bundle (the installer schools get)."""
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path | None:
    """The frozen bundle's data folder (``sys._MEIPASS``), or None when running from Python."""
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass) if meipass else None


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    """Find a top-level project folder (``migrations``, ``resources``) in any install form.

    The one resource-path helper: frozen, PyInstaller unpacks datas under ``sys._MEIPASS``;
    wheel, hatch force-includes them as ``medapp/_<name>``; source checkout or editable
    install, next to the package. Never the working folder: the app must not change with the
    folder it is started from.
    """
    candidates: list[Path] = []
    bundle = bundle_dir()
    if bundle is not None:
        candidates.append(bundle / name)
    here = _package_dir()
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
    """The district's shared public data (FDA formulary) for the demo, if this install has it.

    ``MEDAPP_SHARED_DATA`` first; then the copy ``packaging/build.py`` put inside a frozen
    bundle; then the ``shared/data`` folder beside a source checkout, found from the package's
    own location. Never the working folder: the demo is the same whichever folder medapp is
    started from.
    """
    env = _override("MEDAPP_SHARED_DATA")
    if env is not None:
        return env if env.is_dir() else None
    candidates: list[Path] = []
    bundle = bundle_dir()
    if bundle is not None:
        candidates.append(bundle / BUNDLED_SHARED_DATA)
    candidates.append(_package_dir().parent.parent / "shared" / "data")  # checkout's sibling
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def self_command() -> list[str]:
    """The command that starts this medapp again in a child process (the GUI benchmark).

    From Python it is ``python -m medapp``; a frozen executable takes no ``-m``, so there it is
    the bundle's console program ``medapp-cli`` (same commands, and its output can be read on
    Windows too), or the running executable when that is missing.
    """
    if not is_frozen():
        return [sys.executable, "-m", "medapp"]
    exe = Path(sys.executable)
    cli = exe.with_name("medapp-cli" + exe.suffix)
    return [str(cli if cli.is_file() else exe)]
