"""Column limits read from the SQLAlchemy models, so a check made before writing cannot drift
from the schema: a ``String(100)`` column is 100 characters here, in the dose dialog's
``maxLength`` and in the service's validation, and changes with the model."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase

#: PostgreSQL ``integer``
INTEGER_MAX = 2**31 - 1


@cache
def text_limits(model: type[DeclarativeBase]) -> dict[str, int]:
    """Column name → the most characters it holds, for every length-limited text column of
    ``model`` (``Text`` columns have no limit and are not listed)."""
    limits: dict[str, int] = {}
    for column in model.__table__.columns:
        kind = column.type
        if isinstance(kind, String) and kind.length:
            limits[column.name] = int(kind.length)
    return limits


@cache
def integer_columns(model: type[DeclarativeBase]) -> frozenset[str]:
    """Column names of ``model`` stored as a 32-bit ``integer``."""
    return frozenset(
        c.name
        for c in model.__table__.columns
        if isinstance(c.type, Integer) and type(c.type).__name__ == "Integer"
    )
