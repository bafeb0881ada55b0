"""Database addresses as IT pastes them: accepted when right, refused in one sentence that never
repeats the password when wrong (no scheme, a port that is not a number, another database, a
driver medapp does not ship), and driver messages scrubbed of any password they quote."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medapp.db.engine import normalize_url
from medapp.db.errors import DatabaseUnavailable, describe_target, explain_connect_error, redact


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql+psycopg://u:pw@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("  postgresql+psycopg://u@/db?host=/tmp/x  ", "postgresql+psycopg://u@/db?host=/tmp/x"),
    ],
)
def test_good_addresses(given_url: str, expected: str) -> None:
    assert normalize_url(given_url) == expected


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("user:SeCrEt99@host", "not a URL"),
        ("user:SeCrEt99@host:5432/db", "not a URL"),
        ("postgresql://u:SeCrEt99@host:notaport/db", "port"),
        ("postgresql://u:SeCrEt99@host:0/db", "port"),
        ("postgresql://u:SeCrEt99@host:70000/db", "port"),
        ("mysql://u:SeCrEt99@h/db", "needs PostgreSQL"),
        ("postgresql+nodriver://u:SeCrEt99@h/db", "driver 'nodriver'"),
        ("postgresql+psycopg2://u:SeCrEt99@h/db", "driver 'psycopg2'"),
        ("", "not a URL"),
    ],
)
def test_bad_addresses(url: str, words: str) -> None:
    with pytest.raises(DatabaseUnavailable) as err:
        normalize_url(url)
    message = str(err.value)
    assert words in message and "SeCrEt99" not in message


def test_describe_target_never_shows_the_password() -> None:
    assert describe_target("postgresql+psycopg://u:SeCrEt99@db.example:6432/medapp") == (
        "db.example:6432/medapp"
    )
    assert describe_target("postgresql://u:SeCrEt99@h:bad/db") == "an unreadable database address"


def test_a_driver_message_quoting_the_address_is_scrubbed() -> None:
    url = "postgresql+psycopg://u:SeCrEt99@h/db"
    exc = RuntimeError('missing "=" after "u:SeCrEt99@h" in connection info string')
    message = str(explain_connect_error(url, exc))
    assert "SeCrEt99".lower() not in message.lower() and message.startswith("Cannot use")
    exc2 = RuntimeError("bad value in password=SeCrEt99 host=h")
    assert "secret99" not in str(explain_connect_error(url, exc2)).lower()


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789!#$%^&*()-_=+", min_size=8))
def test_redact_removes_any_password(password: str) -> None:
    for template in (
        "postgresql://user:{}@host:5432/db",
        "user:{}@host",
        "could not connect with 'postgresql+psycopg://me:{}@127.0.0.1/medapp'",
    ):
        assert redact(template.format(password)) == template.format("***")
