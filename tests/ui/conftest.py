"""GUI tests run a real Qt event loop (offscreen) against a real, committed database: the
panes load data on worker threads with their own connections, so rolled-back rows are invisible
to them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from medapp.db import migrate
from medapp.db.engine import Database, open_database
from medapp.runtime.context import AppContext
from tests.db import factories as f


@pytest.fixture(scope="session", autouse=True)
def _qt_settings_in_tmp(qapp, tmp_path_factory: pytest.TempPathFactory) -> None:  # noqa: ANN001
    """Window geometry etc. go to a temporary INI file, never the developer's own settings."""
    from PySide6.QtCore import QSettings

    qapp.setOrganizationName("medapp-tests")
    qapp.setApplicationName("medapp-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat,
        QSettings.Scope.UserScope,
        str(tmp_path_factory.mktemp("qsettings")),
    )


@pytest.fixture
def ui_db(scratch_url: str) -> Iterator[Database]:
    db = open_database(scratch_url)
    migrate.upgrade(db.engine)
    with Session(db.engine) as s:
        sch = f.school(s)
        f.nurse(s, sch)
        stu = f.student(s, sch)
        med = f.medication(s)
        f.prescription(s, stu, med)
        f.lot(s, med)
        s.commit()
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def demo_db(pg_server_url: str) -> Iterator[Database]:
    """The school demo (one school, ~600 students, 60 days of history ending yesterday),
    committed in a database of the module's own."""
    import datetime as dt

    from sqlalchemy import text

    from medapp.db import roles as pgroles
    from medapp.db.testing import scratch_database
    from medapp.demo import load_demo
    from medapp.demo.accounts import enable_demo_sign_in

    with scratch_database(pg_server_url) as url:
        db = open_database(url)
        migrate.upgrade(db.engine)
        with db.engine.begin() as conn:
            load_demo(conn, "school", 1, today=dt.date.today())
            enable_demo_sign_in(conn, create_roles=True)  # the demo accounts can sign in
            usernames = conn.execute(text("SELECT username FROM users")).scalars().all()
        try:
            yield db
        finally:
            db.dispose()
    # Roles are global to the server: the demo's are dropped once its database is gone.
    from sqlalchemy import create_engine

    admin = create_engine(pg_server_url)
    try:
        with admin.begin() as conn:
            for name in usernames:
                if pgroles.valid_username(name):
                    pgroles.drop_user_role(conn, name)
    finally:
        admin.dispose()


@pytest.fixture
def desk_ctx(demo_db: Database, tmp_path) -> Iterator[AppContext]:  # noqa: ANN001
    """An AppContext as the running app builds it: the demo school, its first nurse at the desk,
    a private cache and outbox."""
    from sqlalchemy import select

    from medapp.cache.outbox import Outbox
    from medapp.cache.store import Cache
    from medapp.db.models import School, User

    with Session(demo_db.engine) as s:
        school = s.scalars(select(School).order_by(School.name)).first()
        nurse = s.scalars(select(User).where(User.role == "NURSE").order_by(User.username)).first()
        assert school is not None and nurse is not None
        ctx = AppContext(
            db=demo_db,
            cache=Cache(tmp_path / "cache"),
            outbox=Outbox(tmp_path / "outbox"),
            school_id=school.id,
            school_name=school.name,
            school_timezone=school.timezone,
            user_id=nurse.id,
            user_name=f"{nurse.first_name} {nurse.last_name}",
        )
    yield ctx
    ctx.stop()
    ctx.cache.close()
