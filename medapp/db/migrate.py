"""Run Alembic migrations programmatically — the only way medapp's schema is created."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from medapp import paths
from medapp.db.errors import DatabaseUnavailable


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(paths.migrations_dir()))
    # Escape % for configparser interpolation (URL-encoded passwords contain it).
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


def _with_connection(engine: Engine, fn: object, *args: object) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, *args)  # type: ignore[operator]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate forward. A database whose schema this version does not know (a newer medapp
    migrated it, then an older one was installed) is refused in one sentence, not a traceback."""
    known = current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config(engine))
    if known is not None:
        try:
            found = script.get_revision(known)
        except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
            found = None
        if found is None:
            raise DatabaseUnavailable(
                f"The database is at schema {known}, which this version of medapp does not "
                f"know (its newest is {script.get_current_head()}): a newer medapp has used it. "
                "Install the newer medapp (or ask district IT)."
            )
    _with_connection(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str = "-1") -> None:
    _with_connection(engine, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)


def revision(engine: Engine, message: str, autogenerate: bool = True) -> None:
    """Developer helper: write a new migration file from the model/database difference."""
    _with_connection(
        engine, lambda cfg: command.revision(cfg, message=message, autogenerate=autogenerate)
    )
