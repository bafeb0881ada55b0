"""Local disk cache (diskcache): an optimisation that must never become a failure."""

from medapp.cache.store import TTL, Cache

__all__ = ["Cache", "TTL"]
