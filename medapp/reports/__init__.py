"""Printed records: HTML laid out from the services' report data (``html``), turned into PDF
or sent to a printer with Qt's own printing (``pdf``: QtGui only, no widgets, so the CLI runs
with ``QT_QPA_PLATFORM=offscreen``)."""
