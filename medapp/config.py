"""Which database this PC talks to, decided once at start-up.

First match wins (DESIGN.md): command-line flag → ``MEDAPP_DATABASE_URL`` → the config file in
the user config dir → a private embedded PostgreSQL in the user data dir. The config file is
TOML so district IT can push one file with their deployment tool::

    [database]
    url = "postgresql://medapp@db.district.example/medapp"

    [school]
    code = "LINC-ES"          # optional: which school this office PC belongs to
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from medapp import paths

CONFIG_FILE_NAME = "medapp.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which file and what to fix."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None  # None → embedded private server
    source: str  # "flag", "environment", "config file <path>", "embedded"
    school_code: str | None = None

    @property
    def embedded(self) -> bool:
        return self.database_url is None


def config_file() -> Path:
    return paths.config_dir() / CONFIG_FILE_NAME


def _read_config_file(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(
            f"The settings file {path} cannot be read ({exc}). Fix or remove it."
        ) from exc


def resolve_settings(flag_url: str | None = None) -> Settings:
    file_data = _read_config_file(config_file())
    school = file_data.get("school", {})
    school_code = school.get("code") if isinstance(school, dict) else None
    if flag_url:
        return Settings(flag_url, "flag", school_code)
    env_url = os.environ.get("MEDAPP_DATABASE_URL", "").strip()
    if env_url:
        return Settings(env_url, "environment", school_code)
    database = file_data.get("database", {})
    if isinstance(database, dict) and database.get("url"):
        url = database["url"]
        if not isinstance(url, str):
            raise ConfigError(f"In {config_file()}, [database] url must be a text value.")
        return Settings(url, f"config file {config_file()}", school_code)
    return Settings(None, "embedded", school_code)


# -- first start: the setup dialog's choice -----------------------------------------------------

_HOST_CHARS = re.compile(r"^[A-Za-z0-9._:\-]+$")
_DATABASE_CHARS = re.compile(r"^[A-Za-z0-9_\-.]+$")
DEFAULT_PORT = 5432
DEFAULT_DATABASE = "medapp"


def needs_setup(flag_url: str | None, *, demo: bool = False) -> bool:
    """True on a first start with nothing configured: no ``--database-url``, no
    ``MEDAPP_DATABASE_URL``, no settings file, and not the demo (which has its own database).
    Then the desk asks once where its records live instead of silently choosing."""
    if demo or flag_url or os.environ.get("MEDAPP_DATABASE_URL", "").strip():
        return False
    return not config_file().exists()


@dataclass(frozen=True)
class ServerAddress:
    """The district server as the setup dialog takes it: no user name, no password (each nurse
    signs in as herself, so nothing secret is ever stored on the PC)."""

    host: str
    port: int = DEFAULT_PORT
    database: str = DEFAULT_DATABASE

    @classmethod
    def parse(cls, host: str, port: str | int, database: str) -> ServerAddress:
        """Check the three fields; raises ValueError with the sentence to show beside them."""
        host, database = host.strip(), database.strip() or DEFAULT_DATABASE
        if not host:
            raise ValueError("Enter the server's name or address (ask district IT).")
        if not _HOST_CHARS.match(host):
            raise ValueError("A server name has only letters, digits, dots and dashes.")
        try:
            number = int(str(port).strip() or DEFAULT_PORT)
        except ValueError:
            raise ValueError("The port is a number from 1 to 65535 (usually 5432).") from None
        if not 0 < number < 65536:
            raise ValueError("The port is a number from 1 to 65535 (usually 5432).")
        if not _DATABASE_CHARS.match(database):
            raise ValueError("A database name has only letters, digits, '_', '-' and '.'.")
        return cls(host, number, database)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{host}:{self.port}/{self.database}"


def save_setup(server: ServerAddress | None) -> Path:
    """Write the first-start choice to the settings file: ``None`` is "this PC only" (the
    private database), a :class:`ServerAddress` the district server. Written whole through a
    temporary file, so a crash never leaves half a settings file; returns its path."""
    path = config_file()
    paths.private_dir(path.parent)
    if server is None:
        body = (
            "# Written by medapp's first-start setup: this PC keeps its own records\n"
            "# (a private database in the user data folder).\n"
            "[database]\n"
            "private = true\n"
        )
    else:
        body = (
            "# Written by medapp's first-start setup: the district server. No user name or\n"
            "# password here: each nurse signs in as herself.\n"
            "[database]\n"
            f"url = {json.dumps(server.url)}\n"
        )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, path)
    return path
