"""Before Qt starts: are the system libraries its Linux (xcb) platform plugin loads present?

Without them Qt prints a screenful about plugins and *aborts* the process (no Python exception,
no exit hooks), which is how a fresh Linux PC without ``libxcb-cursor0`` (needed since Qt 6.5)
met medapp. Checked first, with no Qt and no database involved, so the nurse or IT gets one
sentence naming the package and nothing is left running. No Qt import here: this module must
work when Qt cannot.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Mapping

#: what libqxcb / libQt6XcbQpa load (``ldd``) → the Debian/Ubuntu package that provides it
XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libxcb.so.1", "libxcb1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render.so.0", "libxcb-render0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libX11.so.6", "libx11-6"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libfreetype.so.6", "libfreetype6"),
    ("libGL.so.1", "libgl1"),
    ("libEGL.so.1", "libegl1"),
    ("libdbus-1.so.3", "libdbus-1-3"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
)


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Will Qt use its xcb plugin? On Linux when ``QT_QPA_PLATFORM`` names xcb first, or is
    unset outside a Wayland session (offscreen, wayland, vnc… need none of these libraries)."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";", 1)[0].split(":", 1)[0].strip() == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def can_load(soname: str) -> bool:
    """The loader's own answer (``LD_LIBRARY_PATH``, a frozen bundle's libraries, the ldconfig
    cache), as Qt will get it; loading them early costs nothing, Qt loads them next anyway."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_packages(lookup: Callable[[str], bool] = can_load) -> list[str]:
    """The packages whose library ``lookup`` cannot load, in the table's order, no repeats."""
    missing: list[str] = []
    for soname, package in XCB_LIBRARIES:
        if package not in missing and not lookup(soname):
            missing.append(package)
    return missing


def missing_message(packages: list[str]) -> str:
    """One sentence: which package(s), and the command that installs them."""
    if len(packages) == 1:
        what = f"the system package {packages[0]}"
    else:
        what = f"the system packages {', '.join(packages[:-1])} and {packages[-1]}"
    return f"Qt needs {what}: sudo apt install {' '.join(packages)}"


def qt_problem(
    environ: Mapping[str, str],
    platform: str = sys.platform,
    lookup: Callable[[str], bool] = can_load,
) -> str | None:
    """The sentence to print instead of starting Qt, or None when Qt can start."""
    if not uses_xcb(environ, platform):
        return None
    packages = missing_packages(lookup)
    return missing_message(packages) if packages else None
