"""Command line: ``medapp`` opens the desk; subcommands serve IT staff, developers and CI.

Every failure a user can cause or meet (no server, bad URL, bad settings file, non-empty demo
database) ends in one readable sentence on stderr and exit code 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from medapp import __version__, paths
from medapp.config import ConfigError, Settings, config_file, resolve_settings

log = logging.getLogger(__name__)

EXIT_USER_ERROR = 2
RESETTABLE_PREFIXES = ("medapp_demo", "medapp_bench", "medapp_test")


class UserError(Exception):
    """A mistake in how medapp was called; the message says what to do instead."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="medapp", description="School nurse's medication desk.")
    p.add_argument("--version", action="version", version=f"medapp {__version__}")
    p.add_argument(
        "--database-url",
        help="PostgreSQL URL (overrides MEDAPP_DATABASE_URL and the settings file)",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="open the app on school demo data (kept in a separate private database)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log to the terminal too")
    sub = p.add_subparsers(dest="command")

    db = sub.add_parser("db", help="schema migrations")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="migrate the schema forward (default: to the newest)")
    up.add_argument("revision", nargs="?", default="head")
    down = dbsub.add_parser("downgrade", help="migrate the schema back (default: one step)")
    down.add_argument("revision", nargs="?", default="-1")
    dbsub.add_parser("current", help="print the schema revision of the database")
    rev = dbsub.add_parser("revision", help="(developers) write a new migration from model changes")
    rev.add_argument("-m", "--message", required=True)

    demo = sub.add_parser("demo", help="fill a database with generated demo or benchmark data")
    demo.add_argument("--scale", choices=("school", "district"), default="school")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--reset", action="store_true", help="empty the demo database first")

    sub.add_parser("info", help="where settings, data, cache and logs live; which database is used")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from medapp.logging_setup import setup_logging

    setup_logging(verbose=args.verbose)
    from medapp.db.errors import DatabaseUnavailable

    try:
        settings = resolve_settings(args.database_url)
        if args.command == "db":
            return _cmd_db(args, settings)
        if args.command == "demo":
            return _cmd_demo(args, settings)
        if args.command == "info":
            return _cmd_info(settings)
        return _cmd_gui(args, settings)
    except (DatabaseUnavailable, ConfigError, UserError) as exc:
        print(f"medapp: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from medapp.bootstrap import connect
    from medapp.db import migrate

    db = connect(settings, schema="none")
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(db.engine, args.revision)
        elif args.db_command == "downgrade":
            migrate.downgrade(db.engine, args.revision)
        elif args.db_command == "revision":
            migrate.revision(db.engine, args.message)
        current = migrate.current_revision(db.engine) or "empty"
        print(f"{db.display_name}: schema {current} (newest: {migrate.head_revision(db.engine)})")
    finally:
        db.dispose()
    return 0


def _reset_schema(db) -> None:  # noqa: ANN001
    from sqlalchemy import text

    name = db.engine.url.database or ""
    if not db.embedded and not name.startswith(RESETTABLE_PREFIXES):
        raise UserError(
            f"Refusing to empty database '{name}' on a server: --reset only works on the private "
            f"demo database or on server databases named {', '.join(RESETTABLE_PREFIXES)}*."
        )
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def _load_demo(db, scale: str, seed: int) -> dict[str, int]:  # noqa: ANN001
    from medapp.demo import DemoError, load_demo

    started = time.perf_counter()
    try:
        with db.engine.begin() as conn:
            counts = load_demo(
                conn, scale, seed, progress=lambda msg: print(f"  {msg}", flush=True)
            )
    except DemoError as exc:
        raise UserError(str(exc)) from None
    elapsed = time.perf_counter() - started
    print(f"Loaded {scale} demo (seed {seed}) into {db.display_name} in {elapsed:.1f} s:")
    for table, rows in counts.items():
        print(f"  {table:<24}{rows:>12,}")
    return counts


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from medapp.bootstrap import connect
    from medapp.db import migrate

    db = connect(settings, demo=True, schema="none" if args.reset else "upgrade")
    try:
        if args.reset:
            _reset_schema(db)
            migrate.upgrade(db.engine)
        _load_demo(db, args.scale, args.seed)
    finally:
        db.dispose()
    return 0


def _cmd_info(settings: Settings) -> int:
    from medapp.db.errors import describe_target

    where = (
        "private server on this PC"
        if settings.embedded
        else describe_target(settings.database_url or "")
    )
    print(f"medapp {__version__}")
    print(f"database:      {where} (from {settings.source})")
    print(f"settings file: {config_file()}")
    print(f"data:          {paths.data_dir()}")
    print(f"cache:         {paths.cache_dir()}")
    print(f"logs:          {paths.log_dir()}")
    return 0


def _cmd_gui(args: argparse.Namespace, settings: Settings) -> int:
    from medapp.bootstrap import connect

    db = connect(settings, demo=args.demo, schema="upgrade" if args.demo else None)
    if args.demo:
        from sqlalchemy import text

        with db.engine.connect() as conn:
            empty = not conn.execute(text("SELECT EXISTS (SELECT 1 FROM students)")).scalar()
        if empty:
            print("First start of the demo: generating a school's worth of demo data…", flush=True)
            _load_demo(db, "school", 1)
    from medapp.ui.app import run_gui

    return run_gui(db, demo=args.demo)
