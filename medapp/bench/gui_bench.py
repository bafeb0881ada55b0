"""GUI timings for ``medapp bench``: what the nurse feels, not only what the database costs.

* ``gui_search_keystroke`` — one typed character → its results on screen, through the real
  :class:`~medapp.ui.panes.search_pane.SearchPane` (offscreen Qt): from the moment the 150 ms
  debounce fires (the pane's ``search_started``) until the results model is filled and the
  table has repainted (``results_shown`` + a synchronous viewport repaint). Realistic typing:
  school medicines spelled letter by letter (2 to 7 letters), brand and generic names, and a
  few NDCs; each keystroke waits for its own answer, so every sample is one full round.
  Target: p95 < 50 ms beyond the debounce on district data.
* ``gui_cold_start`` — process start → window usable: ``python -m medapp --database-url URL``
  with ``MEDAPP_EXIT_WHEN_READY=1`` (the window prints ``MEDAPP_READY`` and quits once every
  pane's first data has landed), signed in as a demo nurse (``--user``, the demo password on
  standard input — a real sign-in, no picker), timed from spawn to
  that line; 5 runs after one unmeasured start (which fills the OS file cache and the
  formulary snapshot, as any earlier start of the day would). Target: < 2 s on the school demo.

``run_gui_bench(db)`` returns both rows in ``medapp bench``'s row format.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medapp import paths
from medapp.bench.runner import percentile
from medapp.db.engine import Database

DEBOUNCE_NOTE = "after the 150 ms debounce"
READY_MARKER = "MEDAPP_READY"
#: what a school nurse types: brand and generic names of school medicines, and NDCs
TYPED_WORDS = (
    "albuterol",
    "ventolin",
    "amoxicillin",
    "cetirizine",
    "zyrtec",
    "methylphenidate",
    "ritalin",
    "concerta",
    "adderall",
    "focalin",
    "ibuprofen",
    "acetaminophen",
    "tylenol",
    "epinephrine",
    "epipen",
    "glucagon",
    "insulin",
    "fluticasone",
    "montelukast",
    "loratadine",
    "diphenhydramine",
    "ondansetron",
    "guanfacine",
    "prednisolone",
)
TYPED_CODES = ("0173-0682", "59310-579")
MIN_PREFIX, MAX_PREFIX = 2, 7


def _row(name: str, samples: list[float], note: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "runs": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p95_ms": round(percentile(samples, 95), 3),
        "max_ms": round(max(samples), 3),
        "before_p95_ms": None,
        "speedup": None,
        "note": note,
        **extra,
    }


def _app() -> Any:
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no window on the screen

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setOrganizationName("medapp-bench")
        app.setApplicationName("medapp-bench")
    return app


def _wait(predicate: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    """Run the event loop until ``predicate()`` (no busy spinning: 1 ms waits)."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        QTimer.singleShot(1, loop.quit)
        loop.exec()
    return True


def gui_search_keystroke(db: Database, *, words: tuple[str, ...] = TYPED_WORDS) -> dict[str, Any]:
    """Per typed character: debounce fired → results in the model and painted."""
    app = _app()
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache
    from medapp.runtime.context import AppContext
    from medapp.services.desk import auditor_desk
    from medapp.services.formulary_cache import warm_search
    from medapp.ui.panes.search_pane import SearchPane

    tmp = Path(tempfile.mkdtemp(prefix="medapp-gui-bench-"))
    cache = Cache(tmp / "cache")
    # Searching needs someone signed in; the formulary is the same for every role.
    reader = auditor_desk(db.sessions).actor
    ctx = AppContext(db=db, cache=cache, outbox=Outbox(tmp / "outbox"), actor=reader)
    ctx.user_id, ctx.user_name = reader.user_id, reader.display_name
    warm_search(db.sessions)  # as the window does at start, off the measured path
    pane = SearchPane(ctx)
    pane.resize(1180, 720)
    pane.show()
    samples: list[float] = []
    state: dict[str, float] = {}

    def started(generation: int) -> None:
        state["gen"] = generation
        state["t0"] = time.perf_counter()

    def shown(generation: int) -> None:
        if generation != state.get("gen"):
            return
        pane.view.viewport().repaint()  # the rows really drawn, not only queued
        state["t1"] = time.perf_counter()
        state["done"] = generation

    pane.search_started.connect(started)
    pane.results_shown.connect(shown)

    def type_text(text: str, measure_from: int) -> None:
        pane.search_box.clear()
        for i, ch in enumerate(text):
            state.pop("done", None)
            QTest.keyClick(pane.search_box, ch)  # type: ignore[call-overload]
            if not _wait(lambda: "done" in state, 30):
                raise RuntimeError("the search pane did not answer within 30 s")
            if i + 1 >= measure_from:
                samples.append((state["t1"] - state["t0"]) * 1000)

    try:
        type_text("amo", 99)  # warm-up: connections, caches, first paint — not measured
        for word in words:
            type_text(word[:MAX_PREFIX], MIN_PREFIX)
        for code in TYPED_CODES:
            type_text(code, len(code))  # a typed NDC: only the complete code is a lookup
        QTest.keyClick(pane.search_box, Qt.Key.Key_Escape)
    finally:
        pane.close()
        pane.deleteLater()
        _wait(lambda: True, 1)
        ctx.stop()
        cache.close()
        app.processEvents()
    return _row("gui_search_keystroke", samples, DEBOUNCE_NOTE)


def _desk_username(db: Database) -> str:
    """A nurse of the first school, able to sign in over the bench server's socket: the desk
    connects as her own login role (the bench database's demo roles are made NOLOGIN for the
    private-database sign-in; the socket trusts this machine's user, as pgserver sets it up)."""
    from medapp.db import roles as pgroles
    from medapp.services.desk import auditor_desk
    from medapp.services.people import desk_users, list_schools

    reader = auditor_desk(db.sessions)  # the bench reads as the database's owner
    schools = list_schools(reader)
    for school in schools:
        users = desk_users(reader, school.id)
        if users:
            user = users[0]
            with db.engine.begin() as conn:
                pgroles.ensure_user_role(conn, user.username, user.role, login=True, password=None)
            return user.username
    raise RuntimeError("the database has no school with a desk user")


def _spawn_until_ready(
    url: str, env: dict[str, str], username: str, password: str, timeout_s: float = 60.0
) -> float:
    """One cold start, signed in for real: the demo password goes in on standard input."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            *paths.self_command(),  # python -m medapp, or the frozen bundle's medapp-cli
            "--database-url",
            url,
            "--user",
            username,
            "--password-stdin",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        env=env,
        text=True,
    )
    elapsed: float | None = None
    try:
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdin.write(password + "\n")
        proc.stdin.close()
        for line in proc.stdout:
            if line.startswith(READY_MARKER):
                elapsed = (time.perf_counter() - started) * 1000
                break
            if time.perf_counter() - started > timeout_s:
                break
        proc.wait(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if elapsed is None:
        err = (proc.stderr.read() if proc.stderr else "")[-500:]
        raise RuntimeError(f"medapp did not report ready (exit {proc.returncode}): {err}")
    return elapsed


def gui_cold_start(db: Database, *, runs: int = 5) -> dict[str, Any]:
    """Spawn → ``MEDAPP_READY``: the whole desk, from a new process, on ``db``."""
    from medapp.demo.accounts import DEMO_PASSWORD

    username = _desk_username(db)
    home = Path(tempfile.mkdtemp(prefix="medapp-cold-start-"))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "MEDAPP_EXIT_WHEN_READY": "1",
        "MEDAPP_CACHE_DIR": str(home / "cache"),
        "MEDAPP_DATA_DIR": str(home / "data"),
        "MEDAPP_LOG_DIR": str(home / "log"),
        "XDG_CONFIG_HOME": str(home / "config"),  # QSettings on Linux: never the user's own
    }
    env.pop("MEDAPP_DATABASE_URL", None)
    # As installed: pip and the bundle ship compiled bytecode, so the desk does not compile its
    # sources at every start (a development shell's PYTHONDONTWRITEBYTECODE would make it; the
    # unmeasured first start writes the bytecode under the run's own folder).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    url = db.engine.url.render_as_string(hide_password=False)
    _spawn_until_ready(url, env, username, DEMO_PASSWORD)  # unmeasured first start
    samples = [_spawn_until_ready(url, env, username, DEMO_PASSWORD) for _ in range(runs)]
    return _row(
        "gui_cold_start",
        samples,
        "process start → every pane's first data on screen",
    )


def run_gui_bench(db: Database, *, cold_runs: int = 5) -> list[dict[str, Any]]:
    """Both GUI rows, in ``medapp bench``'s row format."""
    return [gui_search_keystroke(db), gui_cold_start(db, runs=cold_runs)]


if __name__ == "__main__":  # python -m medapp.bench.gui_bench URL
    import json

    from medapp.db.engine import open_database

    database = open_database(sys.argv[1])
    try:
        print(json.dumps(run_gui_bench(database), indent=2))
    finally:
        database.dispose()
