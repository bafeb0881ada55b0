"""Password rules and the argon2id hashes of the private single-PC database.

On a district server PostgreSQL itself keeps and checks passwords (SCRAM-SHA-256); this module
is used there only for the policy. On the private database the app checks passwords: argon2id
(argon2-cffi's defaults: memory-hard, ~50 ms here), and an unknown user name costs the same
work as a wrong password, so timing does not tell which names exist.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "MIN_PASSWORD_CHARS",
    "PasswordRejected",
    "check_policy",
    "hash_password",
    "needs_rehash",
    "verify_hash",
]

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
#: verified against when the user name is unknown (same cost as a real check)
_DUMMY_HASH = _hasher.hash("medapp: no such user, but do the same work")


class PasswordRejected(ValueError):
    """The new password breaks the policy; the message says how (never echoes the password)."""


def check_policy(password: str) -> None:
    """At least 10 characters (a pass phrase is best); not only spaces; not absurdly long."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise PasswordRejected(
            f"The password must be at least {MIN_PASSWORD_CHARS} characters long "
            "(a short sentence is easy to remember)."
        )
    if not password.strip():
        raise PasswordRejected("The password cannot be only spaces.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordRejected(f"The password must be at most {MAX_PASSWORD_CHARS} characters.")
    if "\x00" in password:
        raise PasswordRejected("The password contains a character that cannot be stored.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_hash(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; a missing or broken hash does the same work
    as a real one and answers False."""
    try:
        return bool(_hasher.verify(stored or _DUMMY_HASH, password)) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True
