"""``medapp report …`` as district IT runs it for batch printing: signed in as a person (password
on standard input), it writes a PDF; a wrong student, month or sign-in is one sentence, exit 2."""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from medapp.cli import main
from medapp.db import migrate
from medapp.db.engine import make_engine
from medapp.db.models import School, Student, User
from medapp.db.testing import scratch_database
from tests.db import factories as f

PASSWORD = "nurse pass phrase 2026"


@pytest.fixture(autouse=True)
def _keep_the_umask() -> Iterator[None]:
    old = os.umask(0o022)
    os.umask(old)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def server_url(pg_server_url: str) -> Iterator[str]:
    with scratch_database(pg_server_url) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def run(capsys, monkeypatch, url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:  # noqa: ANN001
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["--database-url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def text_of(path: Path) -> str:
    reader = PdfReader(str(path))
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", text).split())  # "ﬀ" → "ff"


def test_report_commands_write_pdfs(
    server_url: str, capsys, monkeypatch, login_roles, tmp_path: Path, qapp
) -> None:  # noqa: ANN001
    nurse = login_roles.new("nurse")
    tag = f"{uuid.uuid4().int % 10**6:06d}"  # digits: "ff"/"fi" in a tag print as ligatures
    school = f"Report School {tag}"
    assert run(capsys, monkeypatch, server_url, "admin", "create-school", school)[0] == 0
    code, _, err = run(
        capsys,
        monkeypatch,
        server_url,
        "admin",
        "create-user",
        nurse,
        "--role",
        "nurse",
        "--school",
        school,
        "--name",
        "Maria Rivera",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    engine = make_engine(server_url)
    with Session(engine) as s:
        sch = s.query(School).filter_by(name=school).one()
        user = s.query(User).filter_by(username=nurse).one()
        stu = f.student(s, sch, number=f"N{tag}")
        med = f.medication(s, ndc=None)
        rx = f.prescription(s, stu, med, start_date=dt.date(2026, 11, 2))
        noon = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)
        f.log(s, rx, user, time_given=noon, scheduled_for=noon)
        f.lot(s, med, school_id=sch.id, batch_number=f"LOT{tag}")
        s.commit()
        number = stu.student_number
        assert s.get(Student, stu.id) is not None
    engine.dispose()

    sign = ("--user", nurse, "--password-stdin")
    mar = tmp_path / "mar.pdf"
    code, out, err = run(
        capsys,
        monkeypatch,
        server_url,
        "report",
        "mar",
        "--student",
        number,
        "--month",
        "2026-11",
        "--out",
        str(mar),
        *sign,
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    assert "Wrote" in out and mar.read_bytes().startswith(b"%PDF")
    words = text_of(mar)
    assert number in words and "Maria Rivera" in words and "November 2026" in words

    day = tmp_path / "day.pdf"
    code, out, err = run(
        capsys,
        monkeypatch,
        server_url,
        "report",
        "day",
        "--date",
        "2026-11-02",
        "--out",
        str(day),
        *sign,
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    assert "End-of-day report" in text_of(day) and school in text_of(day)

    sheet = tmp_path / "count.pdf"
    code, out, err = run(
        capsys,
        monkeypatch,
        server_url,
        "report",
        "count-sheet",
        "--lot",
        f"LOT{tag}",
        "--out",
        str(sheet),
        *sign,
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    assert f"LOT{tag}" in text_of(sheet)

    # Mistakes are one sentence and exit 2, and write nothing.
    bad = tmp_path / "bad.pdf"
    for args, stdin, says in (
        (("mar", "--student", "NOPE", "--month", "2026-11"), PASSWORD, "No student"),
        (("mar", "--student", number, "--month", "11/2026"), PASSWORD, "YYYY-MM"),
    ):
        code, _, err = run(
            capsys,
            monkeypatch,
            server_url,
            "report",
            *args,
            "--out",
            str(bad),
            *sign,
            stdin=stdin + "\n",
        )
        assert code == 2 and says in err and "Traceback" not in err
        assert PASSWORD not in err
        assert not bad.exists()
    code, _, err = run(
        capsys,
        monkeypatch,
        server_url,
        "report",
        "mar",
        "--student",
        number,
        "--month",
        "2026-11",
        "--out",
        str(bad),
    )
    assert code == 2 and "--password-stdin" in err


def test_a_nurse_closes_a_day_on_the_server_under_her_own_role(
    server_url: str, capsys, monkeypatch, login_roles
) -> None:  # noqa: ANN001
    """Row-level security lets her write the MISSED records of her school; the audit trail
    names her role; a second close writes nothing."""
    from sqlalchemy import text

    from medapp.bootstrap import desk_base
    from medapp.config import resolve_settings
    from medapp.services.end_of_day import close_school_day
    from medapp.services.signin import sign_in

    nurse = login_roles.new("nurse")
    tag = f"{uuid.uuid4().int % 10**6:06d}"  # digits: "ff"/"fi" in a tag print as ligatures
    school = f"Close School {tag}"
    assert run(capsys, monkeypatch, server_url, "admin", "create-school", school)[0] == 0
    code, _, err = run(
        capsys,
        monkeypatch,
        server_url,
        "admin",
        "create-user",
        nurse,
        "--role",
        "nurse",
        "--school",
        school,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    engine = make_engine(server_url)
    with Session(engine) as s:
        sch = s.query(School).filter_by(name=school).one()
        stu = f.student(s, sch, number=f"C{tag}")
        f.prescription(s, stu, f.medication(s, ndc=None), start_date=dt.date(2026, 11, 2))
        s.commit()
        school_id = sch.id
    base = desk_base(resolve_settings(server_url))
    signed = sign_in(base, nurse, PASSWORD, pool_size=1, max_overflow=0)
    try:
        first = close_school_day(signed.desk(), school_id, dt.date(2026, 11, 3))
        again = close_school_day(signed.desk(), school_id, dt.date(2026, 11, 3))
    finally:
        signed.close()
        base.dispose()
    assert (first.written, again.written, again.already) == (1, 0, 1)
    with engine.connect() as conn:
        actors = (
            conn.execute(
                text(
                    "SELECT actor FROM audit_log WHERE table_name = 'medication_logs' "
                    "AND new_row->>'status' = 'MISSED' "
                    "AND new_row->>'student_medication_id' IN (SELECT sm.id::text FROM "
                    "student_medications sm JOIN students st ON st.id = sm.student_id "
                    "WHERE st.school_id = :s)"
                ),
                {"s": school_id},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert actors == [nurse]
