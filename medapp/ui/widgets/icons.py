"""Icons from ``resources/icons/*.svg`` (hand-drawn line icons, ``stroke="currentColor"``),
tinted for the current palette and rendered sharp at every size the screen asks for."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from medapp import paths

log = logging.getLogger(__name__)

_SIZES = (16, 20, 24, 32, 40, 48, 64)
_cache: dict[tuple[str, str], QIcon] = {}
_svg_text: dict[str, str | None] = {}


def clear_icon_cache() -> None:
    """Forget tinted icons (the palette changed)."""
    _cache.clear()


def _svg(name: str) -> str | None:
    if name not in _svg_text:
        try:
            _svg_text[name] = paths.resource_path("icons", f"{name}.svg").read_text("utf-8")
        except OSError:
            log.warning("icon %s missing", name)
            _svg_text[name] = None
    return _svg_text[name]


def _default_color() -> QColor:
    return QGuiApplication.palette().color(QPalette.ColorRole.WindowText)


def render_svg(
    name: str, size: int, color: QColor | str | None = None, dpr: float = 1.0
) -> QPixmap:
    """One pixmap of icon ``name`` at ``size`` logical pixels."""
    text = _svg(name)
    px = max(1, round(size * dpr))
    pm = QPixmap(px, px)
    pm.fill(Qt.GlobalColor.transparent)
    if text is None:
        return pm
    tint = QColor(color) if color is not None else _default_color()
    data = text.replace("currentColor", tint.name())
    renderer = QSvgRenderer(QByteArray(data.encode("utf-8")))
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, px, px))
    painter.end()
    pm.setDevicePixelRatio(dpr)
    return pm


def icon(
    name: str, color: QColor | str | None = None, checked_color: QColor | str | None = None
) -> QIcon:
    """Icon ``name`` tinted ``color`` (default: the palette's text colour); ``checked_color``
    tints the checked state of a checkable button."""
    tint = QColor(color) if color is not None else _default_color()
    on = QColor(checked_color) if checked_color is not None else None
    key = (name, tint.name(QColor.NameFormat.HexArgb) + (on.name() if on else ""))
    found = _cache.get(key)
    if found is not None:
        return found
    result = QIcon()
    for size in _SIZES:
        result.addPixmap(render_svg(name, size, tint), QIcon.Mode.Normal)
        if on is not None:
            result.addPixmap(render_svg(name, size, on), QIcon.Mode.Normal, QIcon.State.On)
    disabled = QColor(tint)
    disabled.setAlphaF(0.4)
    for size in _SIZES:
        result.addPixmap(render_svg(name, size, disabled), QIcon.Mode.Disabled)
    _cache[key] = result
    return result


def icon_size(widget_font_height: int, scale: float = 1.25) -> QSize:
    """An icon size that follows the text size (and so the screen scaling)."""
    side = max(16, round(widget_font_height * scale))
    return QSize(side, side)


# --- icons that follow the palette ---------------------------------------------------------
# A widget or action given its icon through set_icon / set_pixmap remembers what it shows
# (a dynamic property), so retint_all() can redraw every icon when the palette changes.

ICON_PROPERTY = "medappIcon"
PIXMAP_PROPERTY = "medappPixmap"


def _token_color(token: str) -> QColor | None:
    if not token:
        return None
    from medapp.ui.widgets.theme import color

    return color(token)


def _from_spec(spec: str) -> QIcon:
    name, token, checked = (spec.split("|") + ["", ""])[:3]
    return icon(name, _token_color(token), _token_color(checked))


def set_icon(target: Any, name: str, token: str = "", checked_token: str = "") -> None:
    """``target.setIcon`` (button, action…) with icon ``name`` tinted by theme ``token``."""
    spec = f"{name}|{token}|{checked_token}"
    target.setProperty(ICON_PROPERTY, spec)
    target.setIcon(_from_spec(spec))


def set_pixmap(label: Any, name: str, size: int, token: str = "") -> None:
    """A label showing icon ``name`` at ``size`` logical pixels, tinted by ``token``."""
    spec = f"{name}|{token}|{size}"
    label.setProperty(PIXMAP_PROPERTY, spec)
    label.setPixmap(render_svg(name, size, _token_color(token), label.devicePixelRatioF()))


def retint_all() -> None:
    """Redraw every icon given through set_icon / set_pixmap (after a palette change)."""
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.allWidgets():
        spec = widget.property(ICON_PROPERTY)
        if isinstance(spec, str) and hasattr(widget, "setIcon"):
            widget.setIcon(_from_spec(spec))
        spec = widget.property(PIXMAP_PROPERTY)
        if isinstance(spec, str):
            name, token, size = spec.split("|")
            set_pixmap(widget, name, int(size), token)
        for action in widget.actions():
            spec = action.property(ICON_PROPERTY)
            if isinstance(spec, str):
                action.setIcon(_from_spec(spec))
        widget.update()
