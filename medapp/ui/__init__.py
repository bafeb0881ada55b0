"""Qt user interface. The only package (with jobs/) that imports PySide6; never runs SQL."""
