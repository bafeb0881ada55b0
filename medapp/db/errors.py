"""Database failures turned into one sentence a nurse or IT admin can act on."""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: ``user:secret@`` in anything that looks like an address (with or without a scheme), and
#: ``password=secret`` in a libpq key/value string
_USERINFO = re.compile(r"([A-Za-z0-9._%+~-]+):([^@\s/'\"]*)@")
_KEYWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every password-looking part of a database address replaced by ``***``
    (driver messages and stray log lines can quote the address they were given)."""
    return _KEYWORD.sub(r"\1***", _USERINFO.sub(r"\1:***@", text))


class DatabaseUnavailable(Exception):
    """The database could not be reached or used. ``str(exc)`` is the message to show."""


def describe_target(url: str) -> str:
    """Host and database of a URL with the password left out (URLs are logged and shown)."""
    try:
        parsed = make_url(url)
        port = f":{parsed.port}" if parsed.port else ""
    except (ArgumentError, ValueError):
        return "an unreadable database address"
    host = parsed.host or (parsed.query.get("host") if parsed.query else None) or "local socket"
    if isinstance(host, tuple):
        host = host[0]
    return f"{host}{port}/{parsed.database or ''}"


def _password_of(url: str) -> str | None:
    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


def explain_connect_error(url: str, exc: BaseException) -> DatabaseUnavailable:
    """Classify a driver error into a single actionable sentence (never a traceback)."""
    target = describe_target(url)
    text = redact(str(getattr(exc, "orig", None) or exc)).lower()
    password = _password_of(url)
    if password:
        text = text.replace(password.lower(), "***")
    if "password authentication failed" in text or "no password supplied" in text:
        what, check = (
            "the server refused the user name or password",
            "the credentials in MEDAPP_DATABASE_URL or the settings file",
        )
    elif "does not exist" in text and "database" in text:
        what, check = (
            "that database does not exist on the server",
            "the database name, or ask IT to create it",
        )
    elif "role" in text and "does not exist" in text:
        what, check = "that database user does not exist", "the user name in the database address"
    elif "connection refused" in text or "no such file or directory" in text:
        what, check = (
            "nothing is listening there",
            "that the database server is running and the host and port are right",
        )
    elif "could not translate host name" in text or "name or service not known" in text:
        what, check = "the server name is unknown", "the host name and this PC's network connection"
    elif "timeout" in text or "timed out" in text:
        what, check = "the server did not answer in time", "the network connection and firewall"
    elif "permission denied" in text:
        what, check = "the user lacks permission", "the database user's rights (ask district IT)"
    else:
        first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        what, check = first_line, "the database address and that the server is running"
    return DatabaseUnavailable(
        f"Cannot use the medapp database at {target}: {what}. Check {check}."
    )
