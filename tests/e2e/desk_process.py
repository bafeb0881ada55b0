"""A desk in a process of its own, for the fault tests: records doses or syncs the outbox
through the real services, so a test can SIGKILL it, restart it, or run two at once.

    python desk_process.py CONFIG.json record PLAN.json ACKS.txt [--pause-after N]
    python desk_process.py CONFIG.json sync            (waits for a line on stdin first)

CONFIG: {"url", "outbox", "nurse_id", "school_id", "now"}. ``record`` appends "<id> <outcome>"
to ACKS (flushed and fsynced) after each dose the service acknowledged — what the nurse saw on
screen — and with ``--pause-after N`` stops after N and waits to be killed. ``sync`` prints the
SyncReport as one JSON line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from medapp.cache.outbox import Outbox
from medapp.db.engine import make_engine
from medapp.services.desk import Actor, Desk, Role
from medapp.services.doses import DoseCommand, record_dose, sync_outbox

_UUIDS = ("id", "prescription_id", "nurse_id", "inventory_id", "witness_id")
_TIMES = ("time_given", "scheduled_for")


def command_to_json(cmd: DoseCommand) -> dict[str, Any]:
    return {k: (str(v) if v is not None else None) for k, v in cmd.to_record().items()}


def command_from_json(data: dict[str, Any]) -> DoseCommand:
    values: dict[str, Any] = dict(data)
    for key in _UUIDS:
        if values.get(key) is not None:
            values[key] = uuid.UUID(values[key])
    for key in _TIMES:
        if values.get(key) is not None:
            values[key] = dt.datetime.fromisoformat(values[key])
    if values.get("quantity_used") is not None:
        values["quantity_used"] = int(values["quantity_used"])
    return DoseCommand.from_record(values)


def _desk(config: dict[str, Any]) -> tuple[Desk, Any]:
    engine = make_engine(config["url"])
    now = dt.datetime.fromisoformat(config["now"])
    actor = Actor(
        uuid.UUID(config["nurse_id"]),
        "fault.nurse",
        "Fay",
        "Ult",
        Role.NURSE,
        frozenset({uuid.UUID(config["school_id"])}),
    )
    desk = Desk(sessionmaker(engine), actor, lambda: now, None, Outbox(Path(config["outbox"])))
    return desk, engine


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[0]).read_text())
    desk, engine = _desk(config)
    try:
        if argv[1] == "record":
            plan = json.loads(Path(argv[2]).read_text())
            pause_after = (
                int(argv[argv.index("--pause-after") + 1]) if "--pause-after" in argv else 0
            )
            with open(argv[3], "a", encoding="utf-8") as acks:
                for n, data in enumerate(plan, start=1):
                    result = record_dose(desk, command_from_json(data))
                    acks.write(f"{result.log_id} {result.outcome}\n")
                    acks.flush()
                    os.fsync(acks.fileno())
                    if n == pause_after:
                        while True:  # the test kills this desk here
                            time.sleep(1)
            return 0
        sys.stdin.readline()
        report = sync_outbox(desk, lock_timeout=300)
        print(json.dumps(dataclasses.asdict(report)), flush=True)
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
