"""Small shared widgets: delayed busy indicator, inline banner, status chips, SVG icons, and the
light/dark theme. Any pane or dialog may import them."""

from medapp.ui.widgets.banner import Banner
from medapp.ui.widgets.busy import BUSY_DELAY_MS, BusyIndicator
from medapp.ui.widgets.chips import ChipBar, StatusBadge, StatusChip
from medapp.ui.widgets.icons import icon, render_svg
from medapp.ui.widgets.theme import apply_theme, color, current_theme, is_dark

__all__ = [
    "BUSY_DELAY_MS",
    "Banner",
    "BusyIndicator",
    "ChipBar",
    "StatusBadge",
    "StatusChip",
    "apply_theme",
    "color",
    "current_theme",
    "icon",
    "is_dark",
    "render_svg",
]
