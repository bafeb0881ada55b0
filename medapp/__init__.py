"""medapp — the school nurse's medication desk."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:  # one version number: pyproject's, read from the installed (or bundled) package metadata
    __version__ = version("medapp")
except PackageNotFoundError:  # a bare source tree on sys.path, never installed
    __version__ = "0+unknown"
