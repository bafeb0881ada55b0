"""Light and dark palettes, and the one stylesheet (``resources/style.qss``) filled in for each.

The stylesheet uses ``palette(...)`` roles for ordinary surfaces and ``${token}`` placeholders
for the few colours that carry meaning (accent, status chips, banners); :func:`apply_theme`
sets a Fusion palette and the filled-in stylesheet on the application. ``mode`` is "light",
"dark" or "system" (the platform's colour scheme, Qt ≥ 6.5); ``MEDAPP_THEME`` overrides it.

Status colours go with an icon shape or a word everywhere — colour is never the only cue.
"""

from __future__ import annotations

import logging
import os
import re
from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from medapp import paths

log = logging.getLogger(__name__)

THEME_MODES = ("system", "light", "dark")

#: colour tokens of the stylesheet, per palette
THEMES: dict[str, dict[str, str]] = {
    "light": {
        "window": "#f3f5f7",
        "base": "#ffffff",
        "alt": "#f6f8fa",
        "text": "#1d2731",
        "muted": "#556270",
        "border": "#d3dae1",
        "sidebar": "#e8edf1",
        "sidebarText": "#2b3945",
        "accent": "#1f6f8b",
        "accentHover": "#185b72",
        "accentText": "#ffffff",
        "accentSoft": "#d9ecf2",
        "highlight": "#cfe5ee",
        "highlightText": "#0f2f3b",
        "header": "#eef2f5",
        "expiredBg": "#fde8e8",
        "expiredFg": "#9b1c1c",
        "expiredBorder": "#f1b4b4",
        "nearBg": "#fff2d9",
        "nearFg": "#8a4b00",
        "nearBorder": "#efc67a",
        "lowBg": "#fde9df",
        "lowFg": "#9a3412",
        "lowBorder": "#f1b896",
        "warnBg": "#fbf4d2",
        "warnFg": "#6f5300",
        "warnBorder": "#e6d27e",
        "okBg": "#e2f3e8",
        "okFg": "#166534",
        "okBorder": "#a9d8b8",
        "infoBg": "#e4edf5",
        "infoFg": "#1e4e79",
        "infoBorder": "#b4cbe0",
        "controlledBg": "#efe7fb",
        "controlledFg": "#5b2a94",
        "controlledBorder": "#cdb6ee",
        "online": "#15803d",
        "offline": "#b91c1c",
    },
    "dark": {
        "window": "#1a2026",
        "base": "#222a31",
        "alt": "#263039",
        "text": "#e3e9ee",
        "muted": "#a7b4bf",
        "border": "#3a4651",
        "sidebar": "#151a1f",
        "sidebarText": "#d3dce3",
        "accent": "#4fb0cc",
        "accentHover": "#6cc2da",
        "accentText": "#0b1d24",
        "accentSoft": "#20404b",
        "highlight": "#2c5463",
        "highlightText": "#f1f8fb",
        "header": "#283139",
        "expiredBg": "#3d1e21",
        "expiredFg": "#fca5a5",
        "expiredBorder": "#7f2d33",
        "nearBg": "#3a2d15",
        "nearFg": "#fcd34d",
        "nearBorder": "#7a5b1e",
        "lowBg": "#3c261b",
        "lowFg": "#fdba74",
        "lowBorder": "#7c4124",
        "warnBg": "#34301b",
        "warnFg": "#fde68a",
        "warnBorder": "#6d6224",
        "okBg": "#17321f",
        "okFg": "#86efac",
        "okBorder": "#2f6b40",
        "infoBg": "#1c2d3c",
        "infoFg": "#bfdbfe",
        "infoBorder": "#35536f",
        "controlledBg": "#2d2340",
        "controlledFg": "#d8b4fe",
        "controlledBorder": "#5b4585",
        "online": "#86efac",
        "offline": "#fca5a5",
    },
}

_TOKEN = re.compile(r"\$\{([A-Za-z]+)\}")
_current = "light"


def current_theme() -> str:
    """ "light" or "dark": the palette in use."""
    return _current


def is_dark() -> bool:
    return _current == "dark"


def color(token: str) -> QColor:
    """A colour of the current palette by token ("expiredFg", "accent", …)."""
    return QColor(THEMES[_current][token])


def system_prefers_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    try:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:  # Qt < 6.5: judge by the platform palette
        return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def resolve_mode(mode: str | None) -> str:
    """ "light" or "dark" for a setting ("system", "light", "dark"; ``MEDAPP_THEME`` wins)."""
    chosen = (os.environ.get("MEDAPP_THEME") or mode or "system").strip().lower()
    if chosen not in THEMES:
        return "dark" if system_prefers_dark() else "light"
    return chosen


def palette_for(name: str) -> QPalette:
    t = THEMES[name]
    pal = QPalette()
    role = QPalette.ColorRole
    pairs = {
        role.Window: t["window"],
        role.WindowText: t["text"],
        role.Base: t["base"],
        role.AlternateBase: t["alt"],
        role.Text: t["text"],
        role.Button: t["base"],
        role.ButtonText: t["text"],
        role.ToolTipBase: t["base"],
        role.ToolTipText: t["text"],
        role.PlaceholderText: t["muted"],
        role.Highlight: t["highlight"],
        role.HighlightedText: t["highlightText"],
        role.Link: t["accent"],
        role.BrightText: t["expiredFg"],
        role.Mid: t["border"],
        role.Midlight: t["alt"],
        role.Dark: t["border"],
        role.Light: t["base"],
        role.Shadow: t["border"],
    }
    for r, value in pairs.items():
        pal.setColor(r, QColor(value))
    disabled = QColor(t["muted"])
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, disabled)
    return pal


@cache
def _template() -> str:
    try:
        return paths.resource_path("style.qss").read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("stylesheet unavailable (%s); using the plain look", type(exc).__name__)
        return ""


def render_stylesheet(name: str) -> str:
    tokens = THEMES[name]
    return _TOKEN.sub(lambda m: tokens.get(m.group(1), m.group(0)), _template())


def apply_theme(app: QApplication, mode: str | None = None) -> str:
    """Set palette and stylesheet for ``mode``; returns the palette used ("light"/"dark")."""
    global _current
    name = resolve_mode(mode)
    _current = name
    app.setStyle("Fusion")
    app.setPalette(palette_for(name))
    app.setStyleSheet(render_stylesheet(name))
    from medapp.ui.widgets.icons import clear_icon_cache, retint_all

    clear_icon_cache()
    retint_all()
    return name
