"""HTML of a report → PDF file or printer, through Qt's own printing (QtGui only).

``QTextDocument`` paginates the HTML onto the page of a ``QPdfWriter`` (or of a ``QPrinter``
the print dialog configured); the MAR is landscape (31 day columns), the others portrait.
Needs a ``QGuiApplication``: :func:`ensure_gui_app` makes one for the command line (offscreen
when there is no display).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextDocument,
)

__all__ = ["ensure_gui_app", "print_html", "write_pdf"]

_MARGINS_MM = QMarginsF(10, 10, 10, 10)
_LAYOUT_DPI = 96


def ensure_gui_app() -> QGuiApplication:
    """The running Qt application, or a new one (offscreen without a display)."""
    app = QGuiApplication.instance()
    if app is not None:
        return app  # type: ignore[return-value]
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QGuiApplication(["medapp-report"])


def _layout(landscape: bool) -> QPageLayout:
    orientation = (
        QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait
    )
    return QPageLayout(
        QPageSize(QPageSize.PageSizeId.Letter),
        orientation,
        _MARGINS_MM,
        QPageLayout.Unit.Millimeter,
    )


def _document(html: str, device: QPagedPaintDevice) -> QTextDocument:
    doc = QTextDocument()
    font = QFont()
    font.setPointSizeF(8)
    doc.setDefaultFont(font)
    doc.setHtml(html)
    # QTextDocument.print_ lays a document with a page size out in Qt's default 96-dpi pixels
    # and scales that to the device: the printable area in inches × 96 keeps 8 pt at 8 pt.
    rect = device.pageLayout().paintRect(QPageLayout.Unit.Inch)
    doc.setPageSize(QSizeF(rect.width() * _LAYOUT_DPI, rect.height() * _LAYOUT_DPI))
    return doc


def write_pdf(html: str, path: Path | str, *, title: str, landscape: bool = False) -> Path:
    """Write ``html`` as a PDF at ``path`` (written next to it, then moved: never half a file)."""
    ensure_gui_app()
    target = Path(path)
    tmp = target.with_name(f".{target.name}.part")
    writer = QPdfWriter(str(tmp))
    writer.setTitle(title)
    writer.setCreator("medapp")
    writer.setPageLayout(_layout(landscape))
    writer.setResolution(300)
    doc = _document(html, writer)
    doc.print_(writer)
    del writer  # closes the file
    if not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise OSError(f"The PDF could not be written to {target}.")
    tmp.replace(target)
    return target


def print_html(html: str, device: QPagedPaintDevice, *, landscape: bool = False) -> None:
    """Print ``html`` on a configured printer (``QPrinter`` from the print dialog; its paper
    size is kept, the orientation is the report's)."""
    device.setPageOrientation(
        QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait
    )
    _document(html, device).print_(device)
