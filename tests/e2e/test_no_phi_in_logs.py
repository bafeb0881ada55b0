"""Non-negotiable 5: logs carry ids, counts and timings — never a student's name or medicine."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from medapp.cache.outbox import Outbox
from medapp.db.engine import Database, make_engine
from medapp.services.doses import DoseCommand, record_dose, sync_outbox
from medapp.services.reactions import ReactionCommand, report_adverse_reaction
from medapp.services.reminders import reminders_for_school
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")
SECRET_FIRST, SECRET_LAST, SECRET_MED = "Zebediah", "Quackenbush", "Xylotrexamine"


def test_services_log_no_names(committed_db, caplog, tmp_path) -> None:  # noqa: ANN001
    caplog.set_level(logging.DEBUG)
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"P{uuid.uuid4().hex[:6]}")
        who = f.nurse(s, sch, username=f"p{uuid.uuid4().hex[:6]}")
        stu = f.student(s, sch, number=f"P{uuid.uuid4().hex[:8]}")
        stu.first_name, stu.last_name = SECRET_FIRST, SECRET_LAST
        med = f.medication(s, name=SECRET_MED, ndc=None)
        rx = f.prescription(s, stu, med, authorization_expires=dt.date(2027, 6, 15))
        s.commit()
        ids = (sch.id, who.id, stu.id, med.id, rx.id)
    school_id, nurse_id, student_id, med_id, rx_id = ids
    noon = dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY)
    now = noon + dt.timedelta(minutes=20)
    desk = desk_for(committed_db.sessions, nurse_id, now=now)
    record_dose(desk, DoseCommand(uuid.uuid4(), rx_id, nurse_id, "GIVEN", noon, noon))
    try:
        record_dose(desk, DoseCommand(uuid.uuid4(), rx_id, nurse_id, "GIVEN", noon, noon))
    except ValueError:
        pass
    report_adverse_reaction(
        desk_for(committed_db.sessions, nurse_id),
        ReactionCommand(
            uuid.uuid4(),
            student_id,
            med_id,
            nurse_id,
            "SEVERE",
            f"{SECRET_MED} rash",
            dt.datetime.now(dt.UTC),
        ),
    )
    reminders_for_school(committed_db.sessions, school_id, noon.date(), now=now)
    dead = make_engine("postgresql://medapp:pw@127.0.0.1:1/x")
    outbox = Outbox(tmp_path / "o")
    from sqlalchemy.orm import sessionmaker

    offline = Database(dead, sessionmaker(dead), "x", embedded=False)
    record_dose(
        desk_for(committed_db.sessions, nurse_id, now=now, outbox=outbox, via=offline.sessions),
        DoseCommand(
            uuid.uuid4(),
            rx_id,
            nurse_id,
            "NOT_GIVEN",
            noon,
            noon,
            reason="OTHER",
            notes=f"{SECRET_FIRST} felt sick",
        ),
    )
    sync_outbox(desk_for(committed_db.sessions, nurse_id, now=now, outbox=outbox))
    dead.dispose()

    text = "\n".join(r.getMessage() + " " + str(r.args) for r in caplog.records)
    assert caplog.records, "the services should log something"
    for secret in (SECRET_FIRST, SECRET_LAST, SECRET_MED, "pw@"):
        assert secret not in text
