""" "Test connection" for the first-start setup: does a district server answer at this address?

No user name and no password are stored on a desk (each nurse signs in as herself), so the test
usually cannot sign in: a refusal of the sign-in *is* the good answer — the server is there and
speaks PostgreSQL. Only "nothing answers", an unknown host or a timeout is a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

PROBE_TIMEOUT_S = 5
_SIGN_IN_NEEDED = (
    "password authentication failed",
    "no password supplied",
    "authentication failed",
    "does not exist",  # role "<this PC's user>" does not exist: the server answered
    "no pg_hba.conf entry",
)


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str


def probe_server(host: str, port: int, database: str) -> ProbeResult:
    """Try one connection (at most :data:`PROBE_TIMEOUT_S`); always returns, never raises.

    Blocking: call it off the GUI thread."""
    import psycopg

    where = f"{host}:{port}"
    try:
        conn = psycopg.connect(
            host=host,
            port=port,
            dbname=database,
            connect_timeout=PROBE_TIMEOUT_S,
            application_name="medapp-setup",
        )
    except psycopg.OperationalError as exc:
        text = str(exc).lower()
        if f'database "{database.lower()}" does not exist' in text:
            return ProbeResult(
                False,
                f"The server at {where} answers, but it has no database '{database}'. "
                "Check the name with district IT.",
            )
        if any(marker in text for marker in _SIGN_IN_NEEDED):
            return ProbeResult(
                True,
                f"The server at {where} answers. Each nurse signs in with her own name and "
                "password.",
            )
        if "timeout" in text or "timed out" in text:
            return ProbeResult(
                False,
                f"The server at {where} did not answer within {PROBE_TIMEOUT_S} s. Check the "
                "name, the network cable and the firewall.",
            )
        if "translate host name" in text or "name or service not known" in text:
            return ProbeResult(
                False, f"The name '{host}' is not known on this network. Check the spelling."
            )
        return ProbeResult(
            False,
            f"Nothing answers at {where}. Check the server name and port, and that the server "
            "is running.",
        )
    try:
        return ProbeResult(True, f"Connected to '{database}' on {where}.")
    finally:
        conn.close()
