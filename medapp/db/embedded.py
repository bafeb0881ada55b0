"""A private PostgreSQL server for a PC with no district server configured.

``pgserver`` ships PostgreSQL binaries inside a wheel, so a fresh machine with only Python and
pip gets a real PostgreSQL (same SQL, same constraints as the district server) without an
installer or admin rights. It has no contrib extensions (no pg_trgm): nothing here may need them.
The server listens on a Unix socket inside its data folder (no TCP port to collide with), is
shared between processes through pgserver's handle file, and stops when the last user exits.

The server's life, and why each rule is here (pgserver 0.1.4 alone gets them wrong):

* **Stale holders.** pgserver lists every process using a data folder in ``.handle_pids.json``
  and stops the server only when the *last* one leaves. A killed medapp never removes its pid,
  so afterwards no exit ever stops the server. Before every start and every stop the pids of
  processes that no longer exist are removed from that file.
* **A server left by a crash is stopped, not reused.** If postgres runs for the folder but no
  living process holds it, a medapp died without stopping it. It is stopped (``pg_ctl stop -m
  fast``, then terminate/kill) and a fresh one is started: the orphan may run an older install's
  binaries (on Windows a running ``postgres.exe`` locks the install folder, so upgrades fail) and
  older settings (socket folder, authentication); a fresh start costs about half a second. A
  ``postmaster.pid`` whose pid now belongs to another program (after a reboot) is removed, or
  PostgreSQL would refuse to start.
* **Stopped at exit.** :func:`stop_all` runs at interpreter exit in place of pgserver's own hook
  (which would run first and give up on a stale pid); the CLI stops what it started when a
  command ends and turns SIGTERM/SIGHUP into a normal exit, the GUI quits its event loop on
  SIGTERM/SIGINT/SIGHUP, and a start that fails or is interrupted stops what it had started.
  Only SIGKILL (or a power cut) leaves a server behind — for the next start to stop.
* **Only this user connects.** On Linux/macOS the socket is in the data folder (0700, as
  PostgreSQL demands) or, when that path is too long for a socket, in a 0700 folder made for it.
  On Windows pgserver can only listen on TCP 127.0.0.1 with ``trust`` — any local user could
  connect as superuser — so there the cluster is created with a random password (scram-sha-256,
  no ``trust`` line) kept in a 0600 file beside the data folder in the user's profile; an older
  ``trust`` cluster is switched over at its next start.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import secrets
import subprocess
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from medapp import paths
from medapp.db.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

_lock = threading.Lock()
_servers: dict[Path, Any] = {}
_passwords: dict[Path, str] = {}

HANDLE_FILE = ".handle_pids.json"
SUPERUSER = "postgres"
PASSWORD_METHOD = "scram-sha-256"
_XDG_WARNING = r"XDG_RUNTIME_DIR is not set"


def default_pgdata() -> Path:
    return paths.data_dir() / "pgdata"


def password_file(pgdata: Path) -> Path:
    """Where the password of a password-protected private server is kept: beside its data
    folder (initdb needs an empty folder), in the same per-user data folder."""
    return pgdata.with_name(pgdata.name + ".password")


def uses_password(platform_name: str | None = None) -> bool:
    """Windows has no Unix sockets: there the private server listens on 127.0.0.1, which every
    local user can reach, so it needs a password. Elsewhere the 0700 socket folder suffices."""
    return (platform_name or os.name) == "nt"


def _import_pgserver() -> Any:
    """pgserver computes a runtime folder at import; platformdirs then warns "XDG_RUNTIME_DIR
    is not set" on headless Linux (harmless: the socket is not put there). Silenced here only."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_XDG_WARNING)
            import pgserver
    except ImportError as exc:  # pragma: no cover - dependency is mandatory
        raise DatabaseUnavailable(
            "Cannot start the private database: the 'pgserver' package is missing. "
            "Reinstall medapp, or set MEDAPP_DATABASE_URL to the district server."
        ) from exc
    return pgserver


def start_embedded(
    pgdata: Path | None = None, *, cleanup: str = "stop", password: bool | None = None
) -> str:
    """Start (or join) the private server in ``pgdata`` and return a SQLAlchemy URL for it.

    ``password`` defaults to :func:`uses_password` (Windows); tests force it on Linux."""
    pgdata = (pgdata or default_pgdata()).resolve()
    with _lock:
        server = _servers.get(pgdata)
        if server is None:
            pgserver = _import_pgserver()
            paths.private_dir(pgdata)  # PostgreSQL wants 0700; it holds every record
            log.info("starting embedded PostgreSQL in %s", pgdata)
            protect = uses_password() if password is None else password
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=_XDG_WARNING)
                    with pgserver.PostgresServer._lock:
                        clear_stale(pgdata)
                        # an instance this process released while others still held the server
                        pgserver.PostgresServer._instances.pop(pgdata, None)
                        if protect:
                            _passwords[pgdata] = _init_with_password(pgserver, pgdata)
                    server = pgserver.get_server(pgdata, cleanup_mode=cleanup)
                # pgserver's own exit hook would run before ours and, with a stale pid in the
                # handle file, never stop the server: ours (stop_all) does it instead.
                atexit.unregister(server._cleanup)
                _servers[pgdata] = server
                if protect:
                    _require_password(server, pgdata)
                _tighten_socket_dir(server.get_postmaster_info().socket_dir, pgdata)
            except Exception as exc:
                _undo_start(pgserver, pgdata)  # whatever was started is not safe to use
                if isinstance(exc, DatabaseUnavailable):
                    raise
                raise DatabaseUnavailable(
                    f"Cannot start the private database in {pgdata}: {exc}. Check free disk space "
                    "and that the folder is writable, or set MEDAPP_DATABASE_URL."
                ) from exc
            except BaseException:  # a signal mid-start (SystemExit, Ctrl+C): leave nothing behind
                _undo_start(pgserver, pgdata)
                raise
    return server_url(server.get_uri(), _passwords.get(pgdata))


def stop_embedded(pgdata: Path | None = None) -> None:
    """Release our handle; the server stops when no living process holds one any more."""
    pgdata = (pgdata or default_pgdata()).resolve()
    with _lock:
        server = _servers.pop(pgdata, None)
        _passwords.pop(pgdata, None)
    if server is None:
        return
    with server._lock:
        prune_handles(pgdata)
    try:
        server.cleanup()
    except Exception:  # noqa: BLE001 - at exit: report, and the next start finds the orphan
        log.exception("could not stop the private database in %s", pgdata)


def running_servers() -> set[Path]:
    """The data folders this process has started (or joined) and not yet released."""
    with _lock:
        return set(_servers)


def stop_all() -> None:
    """Release every private server this process holds (at exit, on a signal, at test end)."""
    for pgdata in running_servers():
        stop_embedded(pgdata)


atexit.register(stop_all)


def to_sqlalchemy_url(uri: str) -> str:
    """pgserver gives ``postgresql://postgres:@/postgres?host=/sock``; pin the psycopg 3 driver."""
    return uri.replace("postgresql://", "postgresql+psycopg://", 1).replace(
        "postgres:@", "postgres@", 1
    )


def server_url(uri: str, password: str | None = None) -> str:
    """The SQLAlchemy URL for pgserver's ``uri``, with the superuser's password if it has one."""
    if password is None:
        return to_sqlalchemy_url(uri)
    return to_sqlalchemy_url(uri.replace("postgres:@", f"postgres:{quote(password, safe='')}@", 1))


# -- stale holders and orphan servers -----------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    import psutil  # pgserver's own dependency, so always installed with it

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def read_handles(pgdata: Path) -> list[int]:
    try:
        values = json.loads((pgdata / HANDLE_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [v for v in values if isinstance(v, int)] if isinstance(values, list) else []


def prune_handles(pgdata: Path, alive: Callable[[int], bool] = _pid_alive) -> list[int]:
    """Drop the pids of processes that no longer exist from the handle file; returns the
    removed ones. Call with pgserver's inter-process lock held."""
    handles = read_handles(pgdata)
    dead = [pid for pid in handles if not alive(pid)]
    if dead:
        kept = [pid for pid in handles if pid not in dead]
        (pgdata / HANDLE_FILE).write_text(json.dumps(kept))
        log.info("removed %d stale holder(s) of the private database", len(dead))
    return dead


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the postgres serving ``pgdata``, or None. The pid in ``postmaster.pid`` counts
    only if that process really is a postgres for this folder (pids are reused after a reboot)."""
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:
        return pid  # exists but cannot be inspected: never take a running server for stale
    try:
        if not proc.name().lower().startswith("postgres"):
            return None  # the pid now belongs to another program
        cmdline = proc.cmdline()
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:
        return pid
    return pid if _names_folder(cmdline, pgdata) else None


def _names_folder(cmdline: Iterable[str], pgdata: Path) -> bool:
    args = list(cmdline)
    for i, arg in enumerate(args):
        value = args[i + 1] if arg == "-D" and i + 1 < len(args) else arg.removeprefix("-D")
        try:
            if value and Path(value).resolve() == pgdata:
                return True
        except OSError:
            continue
    return False


def clear_stale(pgdata: Path) -> str:
    """Before a start (pgserver's lock held): prune dead holders; stop a server nobody holds.

    Returns what was found: "none", "running" (held by a living process: joined as usual),
    "orphan-stopped" or "stale-pidfile"."""
    prune_handles(pgdata)
    holders = [pid for pid in read_handles(pgdata) if pid != os.getpid()]
    pid = postmaster_pid(pgdata)
    if pid is None:
        pidfile = pgdata / "postmaster.pid"
        if pidfile.exists():
            # PostgreSQL refuses to start while the pid in it belongs to a living process.
            pidfile.unlink(missing_ok=True)
            log.info("removed a stale postmaster.pid from the private database folder")
            return "stale-pidfile"
        return "none"
    if holders:
        return "running"
    log.warning(
        "a private database server (pid %d) was left running by a medapp that ended without "
        "stopping it; stopping it before starting afresh",
        pid,
    )
    stop_server_process(pgdata, pid)
    return "orphan-stopped"


def _undo_start(pgserver: Any, pgdata: Path) -> None:
    """A start that failed or was interrupted: drop our pid, and stop the server if nobody
    else holds it (pgserver may have started it before the failure)."""
    started = _servers.pop(pgdata, None)
    _passwords.pop(pgdata, None)
    try:
        if started is not None:
            with started._lock:
                prune_handles(pgdata)
            started.cleanup()
            return
        with pgserver.PostgresServer._lock:
            handles = pgserver.utils.DiskList(pgdata / HANDLE_FILE)
            handles.get_and_remove(os.getpid())
            pgserver.PostgresServer._instances.pop(pgdata, None)
            clear_stale(pgdata)
    except Exception:  # noqa: BLE001 - already leaving; the next start finds what is left
        log.exception("could not clean up an interrupted start of the private database")


def stop_server_process(pgdata: Path, pid: int) -> None:
    """``pg_ctl stop -m fast`` (clients are disconnected, data is flushed); if that fails, the
    same by signal, and after 10 s a kill."""
    import psutil

    pgserver = _import_pgserver()
    user = "pgserver" if os.name == "posix" and os.geteuid() == 0 else None
    try:
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=30)
        return
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        log.warning("pg_ctl could not stop the left-over server; terminating it")
    try:
        proc = psutil.Process(pid)
        if os.name == "posix":
            import signal

            proc.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown
        else:
            proc.terminate()
        try:
            proc.wait(10)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    except psutil.Error:
        pass


# -- only this user's connections ---------------------------------------------------------------


def _tighten_socket_dir(socket_dir: Path | None, pgdata: Path) -> None:
    """pgserver puts the socket in the data folder (0700) unless that path is too long for a
    socket; then it uses a folder under the runtime folder, made with the process umask — or,
    as root, 0777. Make it the server user's alone (root reaches it anyway)."""
    if os.name != "posix" or socket_dir is None or socket_dir.resolve() == pgdata:
        return
    try:
        if os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam("pgserver")
            os.chown(socket_dir, entry.pw_uid, entry.pw_gid)
        os.chmod(socket_dir, 0o700)
    except (OSError, KeyError):
        log.warning("could not make the private database's socket folder private")


def write_password_file(path: Path, password: str | None = None) -> str:
    """Create the server password (random, URL-safe) in ``path``, readable by its owner only;
    an existing non-empty file is kept (returns its password)."""
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except OSError:
        existing = ""
    if existing:
        paths.private_file(path)
        return existing
    password = password or secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)  # the data folder: its mode is left alone
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password + "\n")
    paths.private_file(path)
    return password


def hba_without_trust(text: str) -> str:
    """``pg_hba.conf`` with every ``trust`` rule turned into a password rule."""
    out = []
    for line in text.splitlines(keepends=True):
        body = line.split("#", 1)[0]
        if re.search(r"\btrust\s*$", body.rstrip("\n")):
            line = re.sub(r"\btrust\b", PASSWORD_METHOD, line, count=1)
        out.append(line)
    return "".join(out)


def _run_as(user: str | None) -> dict[str, Any]:
    return {"user": user} if user else {}


def _init_with_password(pgserver: Any, pgdata: Path) -> str:
    """A new cluster is created with the password (never a moment of ``trust``); returns it."""
    pwfile = password_file(pgdata)
    password = write_password_file(pwfile)
    if (pgdata / "PG_VERSION").exists():
        return password  # an existing cluster: _require_password checks it once started
    user = None
    if os.name == "posix" and os.geteuid() == 0:  # as pgserver does for root: a system user
        from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

        user = "pgserver"
        entry: Any = ensure_user_exists(user)
        ensure_prefix_permissions(pgdata)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    pgserver.initdb(
        [
            f"--auth={PASSWORD_METHOD}",
            "--encoding=utf8",
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
        ],
        pgdata=pgdata,
        **_run_as(user),
    )
    log.info("created the private database with a password (no trust authentication)")
    return password


def _require_password(server: Any, pgdata: Path) -> None:
    """An older cluster made with ``trust``: set the password, then drop every trust rule."""
    hba = pgdata / "pg_hba.conf"
    text = hba.read_text(encoding="utf-8")
    strict = hba_without_trust(text)
    if strict == text:
        return
    import psycopg

    password = _passwords[pgdata]
    with psycopg.connect(to_plain_uri(server.get_uri()), autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                psycopg.sql.Identifier(SUPERUSER), psycopg.sql.Literal(password)
            )
        )
        hba.write_text(strict, encoding="utf-8")
        conn.execute("SELECT pg_reload_conf()")
    log.info("the private database now requires its password (trust rules removed)")


def to_plain_uri(uri: str) -> str:
    """pgserver's URI in the form libpq accepts (no empty password)."""
    return uri.replace("postgres:@", "postgres@", 1)
