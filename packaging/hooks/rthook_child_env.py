"""PyInstaller runtime hook: child processes must not load the bundle's copies of system libs.

On Linux the bootloader puts the bundle folder first on ``LD_LIBRARY_PATH`` (keeping the
original in ``LD_LIBRARY_PATH_ORIG``). This process has already loaded its libraries, so the
variable only matters to the programs medapp starts — and the private PostgreSQL's initdb,
pg_ctl and postgres would pick up the bundle's libz, libssl or ICU instead of the system's
(initdb then fails without a word). Restore the user's own value, or none, for every child.
"""

import os
import sys

if sys.platform.startswith("linux") and getattr(sys, "frozen", False):
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)
