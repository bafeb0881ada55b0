"""``medapp loadtest``: the command line around :func:`medapp.loadtest.runner.run_loadtest`.

Without ``--database-url`` the load runs on the private bench server (the district database
``medapp bench`` builds), first set as the README tells district IT: ``max_connections`` for
two connections per desk plus a margin, and ``shared_buffers`` for the district's working set.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from medapp import paths
from medapp.config import Settings
from medapp.db.engine import Database, normalize_url
from medapp.demo.accounts import DEMO_PASSWORD
from medapp.loadtest.runner import OPERATIONS, LoadTestError, run_loadtest

#: the README's server settings for a district: two connections per desk plus a margin
SHARED_BUFFERS = "256MB"


def needed_connections(desks: int) -> int:
    """``max_connections`` for ``desks`` signed-in desks: 2 each, plus IT's and jobs' margin."""
    return max(100, 2 * desks + 50)


def configure_private_server(desks: int, say: Callable[[str], None]) -> None:
    """Give the private bench server the district settings (a restart applies them)."""
    from medapp.db.embedded import start_embedded, stop_embedded

    pgdata = paths.data_dir() / "bench-pgdata"
    want = needed_connections(desks)
    url = start_embedded(pgdata)
    engine = create_engine(normalize_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            have = int(conn.execute(text("SHOW max_connections")).scalar_one())
            if have >= want:
                return
            say(f"Setting the private server's max_connections to {want} (restart)…")
            conn.execute(text(f"ALTER SYSTEM SET max_connections = {int(want)}"))
            conn.execute(text(f"ALTER SYSTEM SET shared_buffers = '{SHARED_BUFFERS}'"))
    finally:
        engine.dispose()
    stop_embedded(pgdata)


def cmd_loadtest(
    args: argparse.Namespace,
    settings: Settings,
    bench_database: Callable[[argparse.Namespace, Settings], Database],
) -> int:
    say: Callable[[str], None] = (
        (lambda m: print(m, file=sys.stderr, flush=True)) if args.json else print
    )
    if settings.embedded:
        configure_private_server(args.desks, say)
    db = bench_database(argparse.Namespace(scale="district", seed=1, json=args.json), settings)
    url = db.engine.url.render_as_string(hide_password=False)
    with db.engine.connect() as conn:
        have = int(conn.execute(text("SHOW max_connections")).scalar_one())
    db.dispose()
    want = 2 * args.desks + 10
    if have < want:
        print(
            f"medapp: the server allows {have} connections; {args.desks} desks need about "
            f"{want} (2 each). Set max_connections = {needed_connections(args.desks)} "
            "(README: what a district server needs), restart it, and run again.",
            file=sys.stderr,
        )
        return 2
    try:
        result = run_loadtest(
            url,
            desks=args.desks,
            duration_s=args.duration,
            password=DEMO_PASSWORD,
            processes=args.processes,
            progress=say,
        )
    except LoadTestError as exc:
        print(f"medapp: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_result(result))
    return 0 if result["exactly_once"] and not _errors(result) else 1


def _errors(result: dict[str, Any]) -> int:
    first_use = result.get("details", {}).get("first_use", {}).values()
    return sum(o["errors"] for o in result["operations"]) + sum(o["errors"] for o in first_use)


def format_result(result: dict[str, Any]) -> str:
    lines = [
        f"{result['desks']} desks, {result['duration_s']:.0f} s; "
        f"peak server connections {result['peak_server_connections']}",
        f"{'operation':<20}{'count':>8}{'errors':>8}{'p50 ms':>10}{'p95 ms':>10}",
    ]
    for op in result["operations"]:
        if op["name"] not in OPERATIONS:
            continue
        lines.append(_row(op["name"], op))
    for name, op in result.get("details", {}).get("first_use", {}).items():
        lines.append(_row(name, op))
    lag = result["notify_lag_p95_ms"]
    lines.append(
        f"doses acknowledged {result['doses_acknowledged']} "
        f"(exactly once on the server: {'yes' if result['exactly_once'] else 'NO'}); "
        f"notify lag p95 {lag if lag is not None else '—'} ms"
    )
    return "\n".join(lines)


def _row(name: str, op: dict[str, Any]) -> str:
    p50 = f"{op['p50_ms']:.1f}" if op["p50_ms"] is not None else "—"
    p95 = f"{op['p95_ms']:.1f}" if op["p95_ms"] is not None else "—"
    return f"{name:<20}{op['count']:>8}{op['errors']:>8}{p50:>10}{p95:>10}"
