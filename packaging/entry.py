"""The frozen programs' entry point: ``medapp`` (windowed) and ``medapp-cli`` (console) both run
the one command line, so IT's commands and the desk behave exactly as ``python -m medapp``."""

from medapp.cli import main

raise SystemExit(main())
