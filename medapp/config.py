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

import os
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
