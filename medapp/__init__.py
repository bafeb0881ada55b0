"""medapp — the school nurse's medication desk."""

__version__ = "0.1.0"
