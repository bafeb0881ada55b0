"""GUI tests run a real Qt event loop (offscreen) against a real, committed database: the
panes load data on worker threads with their own connections, so rolled-back rows are invisible
to them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from medapp.db import migrate
from medapp.db.engine import Database, open_database
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
