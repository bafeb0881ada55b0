"""Command line: ``medapp`` opens the desk; subcommands serve IT staff, developers and CI.

Every failure a user can cause or meet (no server, bad URL, bad settings file, non-empty demo
database) ends in one readable sentence on stderr and exit code 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from medapp import __version__, paths
from medapp.config import ConfigError, Settings, config_file, resolve_settings

if TYPE_CHECKING:
    from types import ModuleType

    from medapp.db.engine import Database
    from medapp.services.accounts import UserRow
    from medapp.services.desk import Desk
    from medapp.ui.startup import DeskInstance

log = logging.getLogger(__name__)

EXIT_USER_ERROR = 2
RESETTABLE_PREFIXES = ("medapp_demo", "medapp_bench", "medapp_test")


class UserError(Exception):
    """A mistake in how medapp was called; the message says what to do instead."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="medapp",
        description="School nurse's medication desk. Without a command it opens the desk.",
        epilog="'medapp COMMAND --help' explains a command; 'medapp info' shows the folders used.",
    )
    p.add_argument("--version", action="version", version=f"medapp {__version__}")
    p.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL URL (overrides MEDAPP_DATABASE_URL and the settings file)",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="open the app on school demo data (kept in a separate private database)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log to the terminal too")
    p.add_argument(
        "--self-check",
        action="store_true",
        help="check this installation without a screen (database, migrations, search, "
        "reminders, cache, Qt, scheduler); prints one line per step, exit code 0 when all pass",
    )
    p.add_argument(
        "--user",
        metavar="USERNAME",
        help="open the desk signed in as USERNAME (with --password-stdin; for scripted starts)",
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password for --user from standard input (never from the command line)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    db = sub.add_parser("db", help="schema migrations")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="migrate the schema forward (default: to the newest)")
    up.add_argument("revision", nargs="?", default="head")
    down = dbsub.add_parser("downgrade", help="migrate the schema back (default: one step)")
    down.add_argument("revision", nargs="?", default="-1")
    dbsub.add_parser("current", help="print the schema revision of the database")
    dbsub.add_parser(
        "stop",
        help="stop this account's private database server if it runs (uninstall, upgrade)",
    )
    rev = dbsub.add_parser("revision", help="(developers) write a new migration from model changes")
    rev.add_argument("-m", "--message", required=True)

    demo = sub.add_parser("demo", help="fill a database with generated demo or benchmark data")
    demo.add_argument("--scale", choices=("school", "district", "benchmark"), default="school")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--reset", action="store_true", help="empty the demo database first")

    sub.add_parser("info", help="where settings, data, cache and logs live; which database is used")

    bench = sub.add_parser(
        "bench",
        help="time every operation on generated data (builds or reuses a private bench database)",
    )
    bench.add_argument("--scale", choices=("school", "district", "benchmark"), default="district")
    bench.add_argument("--seed", type=int, default=1)
    bench.add_argument(
        "--runs", type=int, default=200, help="runs per fast operation (default 200)"
    )
    bench.add_argument("--slow-runs", type=int, default=20, help="runs for schedule and reminders")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--no-before", action="store_true", help="skip the seed's slow algorithms")
    bench.add_argument("--no-gui", action="store_true", help="skip the two GUI timings")

    load = sub.add_parser(
        "loadtest",
        help="a district's lunch rush: many signed-in desks on one server (see the README)",
    )
    load.add_argument("--desks", type=int, default=200, help="simulated desks (default 200)")
    load.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    load.add_argument("--processes", type=int, default=None, help="generator processes")
    load.add_argument("--json", action="store_true", help="print one JSON object")

    form = sub.add_parser("formulary", help="load the FDA drug list (NDC Directory); search it")
    formsub = form.add_subparsers(dest="formulary_command", required=True)
    imp = formsub.add_parser(
        "import",
        help="load the FDA NDC product (and package) file into the formulary",
        description="Download 'NDC database file - Text version' (ndctext.zip) from "
        "https://www.fda.gov/drugs/drug-approvals-and-databases/national-drug-code-directory "
        "and give the zip (or its product.txt, with --packages package.txt). Re-importing a "
        "newer file updates products and never duplicates or deletes them.",
    )
    imp.add_argument("products", metavar="PRODUCTS_FILE", help="product.txt or ndctext.zip")
    imp.add_argument("--packages", metavar="PACKAGES_FILE", help="package.txt")
    imp.add_argument(
        "--retire-missing",
        action="store_true",
        help="mark FDA products that are no longer in the file inactive (never deleted)",
    )
    imp.add_argument(
        "--force",
        action="store_true",
        help="with --retire-missing: retire even more than 20%% of the active formulary",
    )
    imp.add_argument(
        "--rejects", metavar="FILE", help="write every rejected line (file, line, reason) here"
    )
    find = formsub.add_parser("search", help="search the formulary as the desk does")
    find.add_argument("query", metavar="QUERY", help="name, generic name, NDC or barcode digits")
    find.add_argument("--limit", type=int, default=25, help="results per page (default 25)")
    find.add_argument("--offset", type=int, default=0, help="skip this many results")
    find.add_argument("--json", action="store_true", help="print a JSON list of results")
    _admin_parser(sub)
    _report_parser(sub)
    return p


ROLE_CHOICES = ("nurse", "lead_nurse", "district_admin", "auditor")


def _admin_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser(
        "admin",
        help="schools and user accounts (district IT; on a server as a role with CREATEROLE)",
        description="Create schools and accounts. Every command can be run again safely: an "
        "existing school or identical account is left as it is. Passwords are read from "
        "standard input (--password-stdin), never from the command line.",
    )
    asub = admin.add_subparsers(dest="admin_command", required=True)
    school = asub.add_parser("create-school", help="add a school (or show the existing one)")
    school.add_argument("name", metavar="NAME")
    school.add_argument("--code", help="short unique code (default: made from the name)")
    user = asub.add_parser("create-user", help="add an account and its database role")
    user.add_argument("username", metavar="USERNAME", help="lowercase; also the database role")
    user.add_argument("--role", required=True, choices=ROLE_CHOICES)
    user.add_argument(
        "--school",
        action="append",
        default=[],
        metavar="NAME",
        help="school name or code (repeat for several; nurses and lead nurses need one)",
    )
    user.add_argument("--name", default="", help='the person\'s name, "First Last"')
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    for name, text in (
        ("disable-user", "the account can no longer sign in (records keep her name)"),
        ("enable-user", "undo disable-user"),
    ):
        cmd = asub.add_parser(name, help=text)
        cmd.add_argument("username", metavar="USERNAME")
    reset = asub.add_parser("reset-password", help="set a new password")
    reset.add_argument("username", metavar="USERNAME")
    reset.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    listing = asub.add_parser("list-users", help="every account with role, schools and state")
    listing.add_argument("--json", action="store_true", help="print a JSON list")


def _report_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report",
        help="print records to PDF: a student's monthly MAR, a school's day, a lot's count sheet",
        description="Sign in as a nurse, lead nurse or auditor: --user NAME --password-stdin "
        "(the password from standard input, never the command line).",
    )
    rsub = report.add_subparsers(dest="report_command", required=True)
    mar = rsub.add_parser("mar", help="the monthly Medication Administration Record of a student")
    mar.add_argument("--student", required=True, metavar="NUMBER", help="student number")
    mar.add_argument("--month", required=True, metavar="YYYY-MM")
    day = rsub.add_parser("day", help="the end-of-day report of a school")
    day.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    day.add_argument("--school", metavar="NAME", help="name or code (default: your one school)")
    sheet = rsub.add_parser("count-sheet", help="the controlled-substance count sheet of a lot")
    sheet.add_argument("--lot", required=True, metavar="BATCH", help="the lot's batch number")
    sheet.add_argument("--school", metavar="NAME", help="name of the lot's school, if ambiguous")
    for cmd in (mar, day, sheet):
        cmd.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write")
        cmd.add_argument("--user", dest="report_user", metavar="USERNAME", help="who signs in")
        cmd.add_argument(
            "--password-stdin",
            dest="report_password_stdin",
            action="store_true",
            help="read the password from standard input",
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import warnings

    # platformdirs (through pgserver) warns on headless Linux; nothing a nurse or IT can act on
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from medapp.logging_setup import setup_logging

    paths.use_private_umask()  # student data on this PC: files 0600, folders 0700
    setup_logging(verbose=args.verbose)
    from medapp.db import embedded
    from medapp.db.errors import DatabaseUnavailable

    started_before = embedded.running_servers()
    signals = _ExitOnSignals()
    try:
        settings = resolve_settings(args.database_url)
        if args.self_check:
            from medapp.selfcheck import run_self_check

            return run_self_check(settings, sys.stdout)
        if args.command == "db" and args.db_command == "stop":
            return _cmd_db_stop()
        if args.command == "db":
            return _cmd_db(args, settings)
        if args.command == "demo":
            return _cmd_demo(args, settings)
        if args.command == "info":
            return _cmd_info(settings)
        if args.command == "formulary":
            return _cmd_formulary(args, settings)
        if args.command == "bench":
            return _cmd_bench(args, settings)
        if args.command == "loadtest":
            from medapp.loadtest.command import cmd_loadtest

            return cmd_loadtest(args, settings, _bench_database)
        if args.command == "admin":
            return _cmd_admin(args, settings)
        if args.command == "report":
            return _cmd_report(args, settings)
        return _cmd_gui(args, settings)
    except (DatabaseUnavailable, ConfigError, UserError) as exc:
        if (code := signals.exit_code()) is not None:
            return code
        print(f"medapp: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception:
        if (code := signals.exit_code()) is not None:
            log.info("stopped by signal %d", code - 128)
            return code
        raise
    finally:
        signals.defer()
        # the private servers this command started stop now, not only at interpreter exit
        for pgdata in embedded.running_servers() - started_before:
            embedded.stop_embedded(pgdata)
        signals.restore()


class _ExitOnSignals:
    """SIGTERM and SIGHUP end a command like Ctrl+C does (``SystemExit`` unwinds: transactions
    roll back, the private server is stopped) instead of killing the process where it stands.
    Only handlers still at the default are replaced (a test runner's own are left alone)."""

    def __init__(self) -> None:
        import signal
        import threading

        self.received: list[int] = []
        self._previous: dict[int, object] = {}
        if threading.current_thread() is not threading.main_thread():
            return
        for name in ("SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is not None and signal.getsignal(sig) == signal.SIG_DFL:
                self._previous[sig] = signal.signal(sig, self._leave)

    def _leave(self, signum: int, _frame: object) -> None:
        self.received.append(signum)
        raise SystemExit(128 + signum)

    def defer(self) -> None:
        """From now on a signal is only noted: the private server is being stopped, and a
        SIGTERM landing in the middle of that must not kill the process half-way (it would
        leave the server running)."""
        import signal

        for sig in self._previous:
            signal.signal(sig, lambda signum, _frame: self.received.append(signum))

    def exit_code(self) -> int | None:
        """128 + the signal, once one arrived: an error raised while unwinding from it (a
        query cut off mid-way fails its rollback) is the signal's echo, not a new failure."""
        return 128 + self.received[0] if self.received else None

    def restore(self) -> None:
        import signal

        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def _read_password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise UserError(
            "Give the password on standard input with --password-stdin "
            "(e.g. printf '%s' \"$PW\" | medapp admin …), never on the command line."
        )
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def _cmd_admin(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from sqlalchemy.exc import DBAPIError

    from medapp.bootstrap import connect
    from medapp.db.errors import redact
    from medapp.services import accounts
    from medapp.services.desk import Role

    password = (
        _read_password(args) if args.admin_command in ("create-user", "reset-password") else ""
    )
    db = connect(settings)
    try:
        if args.admin_command == "create-school":
            school = accounts.create_school(db, args.name, args.code)
            print(f"School '{school.name}' (code {school.code}) is ready.")
        elif args.admin_command == "create-user":
            first, _, last = " ".join(args.name.split()).partition(" ")
            result = accounts.create_user(
                db, args.username, Role.parse(args.role), args.school, password, first, last
            )
            state = "created" if result.created else "already exists; nothing changed"
            print(f"User '{result.user.username}' ({_user_line(result.user)}) {state}.")
        elif args.admin_command == "disable-user":
            user = accounts.disable_user(db, args.username)
            print(f"User '{user.username}' is disabled and can no longer sign in.")
        elif args.admin_command == "enable-user":
            user = accounts.enable_user(db, args.username)
            print(f"User '{user.username}' may sign in again.")
        elif args.admin_command == "reset-password":
            user = accounts.reset_password(db, args.username, password)
            print(f"The password of '{user.username}' is changed.")
        elif args.admin_command == "list-users":
            users = accounts.list_users(db)
            if args.json:
                print(json.dumps([u.as_dict() for u in users], indent=2))
            else:
                for u in users:
                    print(f"{u.username:<24}{_user_line(u)}")
                if not users:
                    print("No accounts yet.")
    except (accounts.AccountError, accounts.PasswordRejected, ValueError) as exc:
        raise UserError(str(exc)) from None
    except DBAPIError as exc:
        first = redact(str(exc.orig or exc)).strip().splitlines()[0]
        raise UserError(
            f"The database refused the change ({first}); the account running "
            "'medapp admin' needs CREATEROLE on a district server."
        ) from None
    finally:
        db.dispose()
    return 0


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """``medapp report …``: sign in as a person (the report reads student data under her
    rights, and opening a MAR is audited under her name), gather, write the PDF."""
    import datetime as dt
    from pathlib import Path

    from medapp.bootstrap import check_schema, connect, desk_base
    from medapp.services.desk import AccessDenied
    from medapp.services.signin import SignInFailed, sign_in

    user = args.report_user or args.user
    if not user:
        raise UserError(
            "A report is read under a person's rights: add --user NAME --password-stdin "
            "(e.g. printf '%s' \"$PW\" | medapp report … --user m.rivera --password-stdin)."
        )
    args.password_stdin = args.password_stdin or args.report_password_stdin
    password = _read_password(args)
    out = Path(args.out)
    if out.suffix.lower() != ".pdf":
        raise UserError(f"--out must name a .pdf file (got '{args.out}').")
    if not out.parent.is_dir():
        raise UserError(f"The folder {out.parent} does not exist; create it first.")
    base = connect(settings, demo=True, schema="upgrade") if args.demo else desk_base(settings)
    try:
        try:
            signed = sign_in(base, user, password, pool_size=1, max_overflow=0)
        except SignInFailed as exc:
            raise UserError(str(exc)) from None
        try:
            if not base.embedded:
                check_schema(signed.db)
            pages = _write_report(args, signed.desk(), out, dt)
        except (AccessDenied, ValueError) as exc:
            raise UserError(str(exc)) from None
        finally:
            signed.close()
    finally:
        base.dispose()
    print(f"Wrote {out} ({pages}).")
    return 0


def _write_report(args: argparse.Namespace, desk: Desk, out: Path, dt: ModuleType) -> str:
    from medapp.reports.html import count_sheet_html, day_report_html, mar_html
    from medapp.reports.pdf import write_pdf
    from medapp.services import reports
    from medapp.services.end_of_day import end_of_day_summary

    if args.report_command == "mar":
        year, month = reports.parse_month(args.month)
        mar = reports.monthly_mar(desk, args.student, year, month)
        write_pdf(mar_html(mar), out, title=f"MAR {mar.title}", landscape=True)
        return f"MAR of student {mar.student_number}, {mar.title}"
    if args.report_command == "day":
        try:
            day = dt.date.fromisoformat(args.date)
        except ValueError:
            raise UserError(f"'{args.date}' is not a date; write it as YYYY-MM-DD.") from None
        school_id, _name = reports.find_school(desk, args.school)
        summary = end_of_day_summary(desk, school_id, day)
        write_pdf(day_report_html(summary), out, title=f"End of day {day.isoformat()}")
        return f"end-of-day report of {day.isoformat()}"
    sheet = reports.count_sheet(desk, args.lot, school_name=args.school)
    write_pdf(count_sheet_html(sheet), out, title=f"Count sheet {sheet.batch_number}")
    return f"count sheet of lot {sheet.batch_number}, {len(sheet.lines)} lines"


def _user_line(user: UserRow) -> str:
    schools = ", ".join(user.schools) or "no school"
    state = "" if user.active else "; DISABLED"
    role = "" if user.login_role else "; no database role"
    return f"{user.display_name}, {user.role.label.lower()} of {schools}{state}{role}"


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


def _cmd_db_stop() -> int:
    from medapp.bootstrap import stop_private_servers

    stopped = stop_private_servers()
    for pgdata in stopped:
        print(f"Stopped the private database server in {pgdata}.")
    if not stopped:
        print("No private database server of this account is running.")
    return 0


def _reset_schema(db: Database) -> None:
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


def _load_demo(
    db: Database, scale: str, seed: int, say: Callable[[str], None] | None = None
) -> dict[str, int]:
    from medapp.demo import DemoError, load_demo

    say = say or (lambda msg: print(msg, flush=True))
    started = time.perf_counter()
    from medapp.demo.accounts import DEMO_PASSWORD, enable_demo_sign_in

    try:
        with db.engine.begin() as conn:
            counts = load_demo(conn, scale, seed, progress=lambda msg: say(f"  {msg}"))
            if db.embedded:  # the private demo database: accounts with the demo password and
                # their NOLOGIN roles (on a server, IT gives demo users login roles if wanted)
                enable_demo_sign_in(conn, create_roles=True)
    except DemoError as exc:
        raise UserError(str(exc)) from None
    elapsed = time.perf_counter() - started
    say(f"Loaded {scale} demo (seed {seed}) into {db.display_name} in {elapsed:.1f} s:")
    if db.embedded:
        say(f"  demo accounts sign in with the password '{DEMO_PASSWORD}'")
    for table, rows in counts.items():
        say(f"  {table:<24}{rows:>12,}")
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


def _cmd_formulary(args: argparse.Namespace, settings: Settings) -> int:
    import dataclasses
    import json
    from pathlib import Path

    from medapp.bootstrap import connect
    from medapp.formulary.readers import FormularyFileError, resolve_sources

    if args.formulary_command == "import":
        products = Path(args.products).expanduser()
        packages = Path(args.packages).expanduser() if args.packages else None
        try:
            resolve_sources(products, packages)  # a missing file fails before connecting
        except FormularyFileError as exc:
            raise UserError(str(exc)) from None
    db = connect(settings)
    try:
        if args.formulary_command == "import":
            return _formulary_import(db, products, packages, args)
        from medapp.services.search import search_medications

        with db.sessions() as session:
            page = search_medications(session, args.query, limit=args.limit, offset=args.offset)
        if args.json:
            fields = ("id", "name", "generic_name", "strength", "dosage_form", "route")
            more = ("manufacturer", "ndc", "is_controlled", "dea_schedule", "is_otc")
            rows = [
                {k: str(v) if k == "id" else v for k, v in dataclasses.asdict(hit).items()}
                for hit in page.items
            ]
            keys = (*fields, *more, "is_active", "group_size", "package_ndc")
            print(json.dumps([{k: r[k] for k in keys} for r in rows], indent=2))
            return 0
        if page.message:
            print(page.message)
        if page.corrected:
            print(f"Showing results for '{page.corrected}':")
        if not page.items:
            print("No medication matches." if page.total == 0 else "No more results.")
        for hit in page.items:
            extra = f"  ×{hit.group_size} labelers" if hit.group_size > 1 else ""
            dea = f"  [{hit.dea_schedule}]" if hit.dea_schedule else ""
            print(
                f"{hit.name} {hit.strength} {hit.dosage_form.lower()}{dea}  — "
                f"{hit.generic_name or ''}; {hit.manufacturer or ''}; NDC {hit.ndc or '-'}"
                f"{'  package ' + hit.package_ndc if hit.package_ndc else ''}{extra}"
            )
        if page.total > len(page.items):
            shown = f"{page.offset + 1}-{page.offset + len(page.items)}" if page.items else "none"
            print(f"({shown} of {page.total}; --offset for more)")
        return 0
    finally:
        db.dispose()


def _formulary_import(
    db: Database, products: Path, packages: Path | None, args: argparse.Namespace
) -> int:
    from medapp.formulary.importer import import_formulary, rejection_lines
    from medapp.formulary.readers import FormularyFileError

    progress = _ProgressLine(sys.stderr)
    try:
        with db.engine.begin() as conn:
            report = import_formulary(
                conn,
                products,
                packages,
                retire_missing=args.retire_missing,
                force=args.force,
                progress=progress,
            )
    except FormularyFileError as exc:
        raise UserError(f"{exc} Nothing was imported.") from None
    finally:
        progress.done()
    print(
        f"Imported {report.products_file} ({report.layout}) into {db.display_name} "
        f"in {report.seconds:.1f} s:"
    )
    for line in report.summary_lines():
        print(f"  {line}")
    lines = rejection_lines(report.rejections)
    if lines:
        shown = 20
        print(f"Rejected lines ({len(lines)}):")
        for line in lines[:shown]:
            print(f"  {line}")
        if len(lines) > shown and not args.rejects:
            print(f"  … and {len(lines) - shown} more (--rejects FILE lists them all)")
    if args.rejects:
        from pathlib import Path

        Path(args.rejects).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        print(f"All rejected lines: {args.rejects}")
    return 0


class _ProgressLine:
    """A one-line progress bar on a terminal (nothing when the output is not a terminal)."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if total:
            filled = int(self.WIDTH * done / total)
            bar = "█" * filled + "·" * (self.WIDTH - filled)
            text = f"{stage:<16}{bar} {100 * done // total:>3}%"
        else:
            text = f"{stage}…"
        self.stream.write(f"\r{text:<60}")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def _bench_database(
    args: argparse.Namespace, settings: Settings, scale: str | None = None
) -> Database:
    """``--database-url`` benchmarks that database as it is; otherwise a private bench server
    holds one database per scale and seed, built on first use and reused afterwards."""
    from medapp.bootstrap import _ensure_database, connect
    from medapp.db import migrate
    from medapp.db.embedded import start_embedded
    from medapp.db.engine import open_database

    if not settings.embedded:
        return connect(settings)
    scale = scale or args.scale
    server = start_embedded(paths.data_dir() / "bench-pgdata")
    db = open_database(_ensure_database(server, f"medapp_bench_{scale}_{args.seed}"), embedded=True)
    migrate.upgrade(db.engine)
    from sqlalchemy import text

    with db.engine.connect() as conn:
        empty = not conn.execute(text("SELECT EXISTS (SELECT 1 FROM students)")).scalar()
    if empty:
        say = (lambda m: print(m, file=sys.stderr, flush=True)) if args.json else print
        say(f"Building the {scale} bench database (first run only)…")
        _load_demo(db, scale, args.seed, say=say)
    return db


def _gui_rows(
    args: argparse.Namespace, settings: Settings, db: Database, say: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Typed character → results on screen on this database; cold start on the school demo
    (the issue's measure), or on the given database when one was named."""
    from medapp.bench.gui_bench import gui_cold_start, gui_search_keystroke

    say("  timing gui_search_keystroke…")
    rows = [gui_search_keystroke(db)]
    school = (
        db
        if not settings.embedded or args.scale == "school"
        else _bench_database(args, settings, "school")
    )
    try:
        say("  timing gui_cold_start…")
        rows.append(gui_cold_start(school))
    finally:
        if school is not db:
            school.dispose()
    return rows


def _cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    import json
    import os

    from medapp.bench.runner import Bench, domain_rows, format_table, table_counts

    db = _bench_database(args, settings)
    say = (lambda m: print(m, file=sys.stderr, flush=True)) if args.json else print
    try:
        counts = table_counts(db)
        bench = Bench(
            db,
            seed=args.seed,
            runs=args.runs,
            slow_runs=args.slow_runs,
            with_before=not args.no_before,
            progress=lambda m: say(f"  timing {m}…"),
        )
        rows = [r.as_dict() for r in bench.run()] + domain_rows()
        if not args.no_gui:
            rows += _gui_rows(args, settings, db, say)
    finally:
        db.dispose()
    # the machine's 1/5/15-minute load when the run ended: how quiet it was
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    result = {"scale": args.scale, "counts": counts, "operations": rows, "load_average": load}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        print(format_table(rows))
    return 0


def _cmd_gui(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from medapp.ui.preflight import qt_problem

    problem = qt_problem(os.environ)  # before Qt can abort the process, and before any server
    if problem:
        raise UserError(problem)
    from medapp.ui.startup import open_desk_app

    start = open_desk_app(paths.data_dir(), demo=args.demo)  # Qt first: an abort leaves nothing
    if start.other_desk:
        print(start.other_desk)
        return 0
    try:
        return _open_desk(args, settings, start.instance)
    finally:
        start.instance.release()


def _open_desk(args: argparse.Namespace, settings: Settings, instance: DeskInstance) -> int:
    from medapp.bootstrap import connect, desk_base
    from medapp.config import needs_setup

    if not args.user and needs_setup(args.database_url, demo=args.demo):
        from medapp.ui.app import make_app
        from medapp.ui.dialogs.setup_dialog import ask_where_records_live

        make_app()  # first start, nothing configured: ask once where the records live
        if not ask_where_records_live():
            return 0
        settings = resolve_settings(args.database_url)
    # The demo fills its own private database first (as its owner); a real desk only gets the
    # address (or the private server) to sign in *from*: each nurse then connects as herself.
    db = connect(settings, demo=True, schema="upgrade") if args.demo else desk_base(settings)
    if args.demo:
        from sqlalchemy import text

        with db.engine.connect() as conn:
            empty = not conn.execute(text("SELECT EXISTS (SELECT 1 FROM students)")).scalar()
        if empty:
            print("First start of the demo: generating a school's worth of demo data…", flush=True)
            _load_demo(db, "school", 1)
    from medapp.ui.app import run_gui

    sign_in_as = None
    if args.user:
        if not args.password_stdin:
            print(
                "--user needs --password-stdin (a password is never given on the command line).",
                file=sys.stderr,
            )
            return 2
        sign_in_as = (args.user, sys.stdin.readline().rstrip("\r\n"))
    return run_gui(db, demo=args.demo, sign_in_as=sign_in_as, instance=instance)
