"""Build the one-folder bundle schools get: ``python packaging/build.py``.

Steps: stage what the bundle needs from outside the repo (the demo's public FDA formulary from
the district's ``shared/data`` — copied at build time, never committed — and the app icon
rendered from ``resources/icons/medapp.svg``), run PyInstaller on ``packaging/medapp.spec``,
then on Linux pack ``dist/medapp-<version>-linux-x86_64.tar.xz`` with a ``.desktop`` file and
the icon. Prints the build time, the bundle and archive sizes and the ten largest files, and
writes them to ``dist/build-report.json`` (the packaging test reads it).

Needs the ``packaging`` extra: ``pip install -e .[packaging]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the demo's data files, relative to the district's shared/data folder
DEMO_FILES = (
    Path("formulary") / "fda-ndc-products-2015.tsv",
    Path("formulary") / "fda-ndc-packages-2015.tsv",
)
DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=medapp
GenericName=School nurse's medication desk
Comment=Formulary search, school-day dose schedule, dose log, reminders and stock
Exec={exec_path}
Icon={icon_path}
Terminal=false
Categories=Office;MedicalSoftware;
StartupWMClass=medapp
"""


def _shared_data(explicit: str | None) -> Path | None:
    for candidate in (explicit, os.environ.get("MEDAPP_SHARED_DATA"), ROOT.parent / "shared/data"):
        if candidate and (Path(candidate) / DEMO_FILES[0]).is_file():
            return Path(candidate)
    return None


def stage(staging: Path, shared: Path | None) -> None:
    """The demo data and the icon, in the folder the spec reads (MEDAPP_BUILD_STAGING)."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    if shared is None:
        print("note: no shared/data folder: the demo will use generated look-alike products")
    else:
        for rel in DEMO_FILES:
            source = shared / rel
            if source.is_file():  # gzip: a third of the size; the demo reads .gz as well
                target = staging / "shared-data" / rel.with_name(rel.name + ".gz")
                target.parent.mkdir(parents=True, exist_ok=True)
                with source.open("rb") as src, gzip.open(target, "wb", compresslevel=6) as out:
                    shutil.copyfileobj(src, out, 2**20)
    _render_icon(staging)


def _render_icon(staging: Path) -> None:
    """medapp.svg → a 256 px PNG (Linux .desktop) and a multi-size .ico (Windows exe)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(["medapp-build"])
    renderer = QSvgRenderer(str(ROOT / "resources" / "icons" / "medapp.svg"))
    for side, name, fmt in ((256, "medapp.png", "PNG"), (256, "medapp.ico", "ICO")):
        image = QImage(side, side, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        if not image.save(str(staging / name), fmt):
            print(f"note: could not write {name} (no Qt {fmt} writer)")
    del _app


def run_pyinstaller(staging: Path, dist: Path, work: Path) -> None:
    env = {**os.environ, "MEDAPP_BUILD_STAGING": str(staging)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(ROOT / "packaging" / "medapp.spec"),
        ],
        check=True,
        env=env,
        cwd=ROOT,
    )


#: files safe to strip of debug symbols and of the symbol table the dynamic loader never reads
#: (Linux, ``strip --strip-unneeded``; their exported symbols stay): Python's own library and
#: extension modules, the wheels' compiled modules and Qt's ICU libraries (2.8 MB of symbol
#: tables). Never pgserver's programs or an auditwheel ``*.libs`` folder: those break when
#: stripped (initdb silently prints nothing). The packaging test's self-check and demo prove
#: the stripped files still load.
STRIP_GLOBS = (
    "_internal/libpython3*.so*",
    "_internal/python3*/lib-dynload/*.so",
    "_internal/sqlalchemy/**/*.so",
    "_internal/rapidfuzz/**/*.so",
    "_internal/psutil/*.so",
    "_internal/_cffi_backend*.so",
    "_internal/PySide6/Qt/lib/libicu*.so*",
)


def strip_debug(bundle: Path) -> int:
    """Strip the files of :data:`STRIP_GLOBS`; returns the bytes saved."""
    strip = shutil.which("strip")
    if strip is None or not sys.platform.startswith("linux"):
        return 0
    saved = 0
    for pattern in STRIP_GLOBS:
        for path in bundle.glob(pattern):
            if path.is_symlink() or not path.is_file():
                continue
            before = path.stat().st_size
            subprocess.run([strip, "--strip-unneeded", str(path)], check=True)
            saved += before - path.stat().st_size
    return saved


def linux_archive(
    bundle: Path, staging: Path, dist: Path, app_version: str, compression: str = "xz"
) -> Path:
    """``medapp-<version>-linux-x86_64.tar.xz`` (or ``.tar.gz``): the bundle in
    ``medapp-<version>/`` with ``medapp.desktop`` and ``medapp.png`` (install: unpack to /opt,
    copy the .desktop file to /usr/share/applications). xz by default: gzip cannot bring the
    bundle under 60 MB (Qt's ICU data alone is 12 MiB gzipped), xz makes it about 47 MB."""
    top = f"medapp-{app_version}"
    archive = dist / f"{top}-linux-x86_64.tar.{compression}"
    desktop = staging / "medapp.desktop"
    desktop.write_text(
        DESKTOP_ENTRY.format(
            exec_path=f"/opt/{top}/medapp/medapp", icon_path=f"/opt/{top}/medapp.png"
        ),
        encoding="utf-8",
    )
    xz = shutil.which("xz") if compression == "xz" else None
    plain = archive.with_suffix("")  # .tar: the xz program compresses on every core
    target, mode = (plain, "w") if xz else (archive, f"w:{compression}")
    options: dict[str, int] = {}
    if not xz:
        options = {"preset": 6} if compression == "xz" else {"compresslevel": 9}
    with tarfile.open(target, mode, **options) as tar:  # type: ignore[call-overload]
        tar.add(bundle, arcname=f"{top}/medapp")
        tar.add(desktop, arcname=f"{top}/medapp.desktop")
        if (staging / "medapp.png").is_file():
            tar.add(staging / "medapp.png", arcname=f"{top}/medapp.png")
    if xz:
        subprocess.run([xz, "-6", "-T0", "--force", str(plain)], check=True)
    return archive


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def largest(folder: Path, count: int = 10) -> list[tuple[str, int]]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    files.sort(key=lambda p: p.stat().st_size, reverse=True)
    return [(str(p.relative_to(folder)), p.stat().st_size) for p in files[:count]]


def mb(size: int) -> str:
    """Sizes in MB (10**6 bytes, the unit of the issue's and the packaging test's limits) and
    MiB (2**20 bytes, what file managers show)."""
    return f"{size / 10**6:.1f} MB ({size / 2**20:.1f} MiB)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", help="the district's shared/data folder (demo data)")
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="output folder")
    parser.add_argument("--no-archive", action="store_true", help="skip the Linux archive")
    parser.add_argument(
        "--compression", choices=("xz", "gz"), default="xz", help="Linux archive (default xz)"
    )
    args = parser.parse_args(argv)
    app_version = version("medapp")
    dist = Path(args.dist).resolve()
    build = ROOT / "build"
    staging = build / "staging"
    started = time.perf_counter()
    stage(staging, _shared_data(args.shared_data))
    run_pyinstaller(staging, dist, build / "pyinstaller")
    bundle = dist / "medapp"
    stripped = strip_debug(bundle)
    build_done = time.perf_counter()
    if stripped:
        print(f"stripped symbol tables from Python, wheel modules and ICU: {mb(stripped)} saved")
    build_s = build_done - started
    report: dict[str, object] = {
        "version": app_version,
        "bundle": str(bundle),
        "build_seconds": round(build_s, 1),
        "bundle_bytes": folder_size(bundle),
        "largest": largest(bundle),
    }
    if sys.platform.startswith("linux") and not args.no_archive:
        for old in dist.glob("medapp-*-linux-x86_64.tar.*"):
            old.unlink()
        archive = linux_archive(bundle, staging, dist, app_version, args.compression)
        report["archive_seconds"] = round(time.perf_counter() - build_done, 1)
        report["archive"] = str(archive)
        report["archive_bytes"] = archive.stat().st_size
    (dist / "build-report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"medapp {app_version} built in {build_s:.0f} s")
    print(f"bundle:  {bundle}  {mb(int(report['bundle_bytes']))}")  # type: ignore[call-overload]
    if "archive" in report:
        print(
            f"archive: {report['archive']}  {mb(int(report['archive_bytes']))}"  # type: ignore[call-overload]
            f" (packed in {report['archive_seconds']} s)"
        )
    print("largest files:")
    for name, size in report["largest"]:  # type: ignore[attr-defined]
        print(f"  {mb(size):>9}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
