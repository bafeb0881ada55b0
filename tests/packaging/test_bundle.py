"""The installer schools get, built and tried for real (marker ``packaging``; ``.ci/run``'s third
step). Deselected by default: building takes a few minutes and needs the ``packaging`` extra
(PyInstaller) and ``makensis`` (Debian's ``nsis``).

One module-wide build, then: ``medapp-cli --self-check`` from a fresh home folder as root and
as an ordinary user, no postgres left running after either, the school demo loaded from the
bundle's own copy of the FDA data, the Windows installer script compiled by makensis with the
Linux bundle as a stand-in payload, and the sizes: bundle ≤ 180 MB, archive (xz) ≤ 60 MB, with
MB = 10**6 bytes as the issue counts them (MiB are printed too).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
MB = 10**6  # the limits are decimal megabytes: 180 MB = 171.7 MiB
MIB = 2**20
BUNDLE_LIMIT = 180 * MB
ARCHIVE_LIMIT = 60 * MB
CHECK_USER = "medapp-check"
STEPS = ("database", "migrations", "search", "reminders", "cache", "qt", "one desk", "scheduler")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Build once (PyInstaller must be installed: ``pip install -e .[packaging]``)."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        pytest.fail("PyInstaller is missing: pip install -e '.[packaging]' (see .ci/run)")
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build.py"), "--dist", str(dist)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((dist / "build-report.json").read_text(encoding="utf-8"))
    print(result.stdout)
    return report


def _fresh_env(home: Path) -> dict[str, str]:
    """A newcomer's environment: an empty home, nothing of medapp's configured, no screen."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen")
    return env


def _postgres_under(folder: Path) -> list[int]:
    """Running postgres processes whose command line names ``folder`` (their data folder)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "postgres" and str(folder) in " ".join(
                proc.info["cmdline"] or ()
            ):
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _self_check(cli: Path, home: Path, user: str | None = None) -> str:
    result = subprocess.run(
        [str(cli), "--self-check"],
        env=_fresh_env(home),
        cwd=home,  # never the checkout: the bundle must find everything by itself
        capture_output=True,
        text=True,
        timeout=300,
        user=user,
        group=user,
        extra_groups=[] if user else None,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-2000:]
    for step in STEPS:
        assert re.search(rf"^OK {step}: ", out, re.M), out
    assert "OK private server: stopped" in out
    assert "FAIL" not in out
    assert "Warning" not in result.stderr, result.stderr  # no warning noise
    assert _postgres_under(home) == [], "a postgres is still running after the self-check"
    return out


@pytest.fixture(scope="module")
def bundle(built: dict[str, object]) -> Iterator[Path]:
    """The bundle where any PC account can read it (a copy in a world-readable folder)."""
    place = Path(tempfile.mkdtemp(prefix="medapp-bundle-"))
    os.chmod(place, 0o755)
    copy = place / "medapp"
    shutil.copytree(str(built["bundle"]), copy, symlinks=True)
    yield copy
    shutil.rmtree(place, ignore_errors=True)


def _home(prefix: str, owner: str | None = None) -> Path:
    home = Path(tempfile.mkdtemp(prefix=prefix))
    if owner:
        entry = pwd.getpwnam(owner)
        os.chown(home, entry.pw_uid, entry.pw_gid)
    return home


def test_self_check_as_root_from_a_fresh_home(bundle: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("runs as root only when the tests do (the other test covers a normal user)")
    home = _home("medapp-root-home-")
    try:
        out = _self_check(bundle / "medapp-cli", home)
        print(out)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_self_check_as_an_ordinary_user(bundle: Path) -> None:
    if os.geteuid() != 0:
        home = _home("medapp-user-home-")  # we are the ordinary user
        try:
            _self_check(bundle / "medapp-cli", home)
        finally:
            shutil.rmtree(home, ignore_errors=True)
        return
    try:
        pwd.getpwnam(CHECK_USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", CHECK_USER], check=True)
    home = _home("medapp-user-home-", owner=CHECK_USER)
    try:
        out = _self_check(bundle / "medapp-cli", home, user=CHECK_USER)
        data = home / ".local" / "share" / "medapp" / "pgdata"
        assert data.is_dir() and data.stat().st_uid == pwd.getpwnam(CHECK_USER).pw_uid
        print(out)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_demo_loads_from_the_bundled_data_and_db_stop(bundle: Path) -> None:
    """The demo's FDA products and package barcodes come from the bundle, whatever the working
    folder; ``medapp-cli db stop`` (the uninstaller's first step) answers cleanly."""
    home = _home("medapp-demo-home-")
    env = _fresh_env(home)
    try:
        demo = subprocess.run(
            [str(bundle / "medapp-cli"), "demo", "--scale", "school"],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
        line = re.search(r"formulary: ([\d,]+) medications, ([\d,]+) packages", demo.stdout)
        assert line is not None, demo.stdout
        assert int(line.group(2).replace(",", "")) > 0, line.group(0)  # the FDA package file
        stop = subprocess.run(
            [str(bundle / "medapp-cli"), "db", "stop"],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert stop.returncode == 0, stop.stderr
        assert "No private database server of this account is running." in stop.stdout
        assert _postgres_under(home) == []
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_windows_installer_script_compiles(built: dict[str, object], tmp_path: Path) -> None:
    makensis = shutil.which("makensis")
    assert makensis, "makensis is missing: apt-get install -y nsis (see .ci/run)"
    out = tmp_path / "medapp-setup.exe"
    result = subprocess.run(
        [
            makensis,
            "-V2",
            "-DFAST",
            f"-DVERSION={built['version']}",
            f"-DBUNDLE={built['bundle']}",
            f"-DOUTFILE={out}",
            str(ROOT / "packaging" / "windows" / "medapp.nsi"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert out.stat().st_size > 50 * MIB  # the whole stand-in payload is inside


def test_sizes(built: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    bundle_bytes = int(built["bundle_bytes"])  # type: ignore[call-overload]
    archive_bytes = int(built["archive_bytes"])  # type: ignore[call-overload]
    with capsys.disabled():
        print(
            f"\nbundle {bundle_bytes:,} bytes = {bundle_bytes / MB:.1f} MB = "
            f"{bundle_bytes / MIB:.1f} MiB (limit {BUNDLE_LIMIT // MB} MB), "
            f"archive {Path(str(built['archive'])).name} {archive_bytes:,} bytes = "
            f"{archive_bytes / MB:.1f} MB = {archive_bytes / MIB:.1f} MiB "
            f"(limit {ARCHIVE_LIMIT // MB} MB), built in {built['build_seconds']} s"
        )
        for name, size in built["largest"]:  # type: ignore[attr-defined]
            print(f"  {size / MB:6.1f} MB  {name}")
    assert bundle_bytes <= BUNDLE_LIMIT
    assert archive_bytes <= ARCHIVE_LIMIT
