"""Signing in at the desk on the committed school demo, with the real accounts service: nothing
signs in by itself, a wrong password is one sentence, the password is never kept, the idle lock
hides every record until the same nurse's password (or another sign-in), and "Switch user"
hides the records before asking."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog

from medapp.cache.outbox import Outbox
from medapp.cache.store import Cache
from medapp.db.engine import Database
from medapp.demo.accounts import DEMO_PASSWORD
from medapp.runtime.context import AppContext
from medapp.ui.app import make_gate
from medapp.ui.dialogs.sign_in import SignInDialog
from medapp.ui.main_window import MainWindow

NURSE = "nurse.rivera"
OTHER_NURSE = "nurse.chen"


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    QSettings().clear()
    yield
    QSettings().clear()


@pytest.fixture
def private_db(demo_db: Database) -> Database:
    """The demo database as a PC's private database: passwords are checked against the argon2
    hashes and each connection takes the nurse's role (the test server trusts its connections,
    so a wrong password could not be told from a right one there)."""
    return Database(
        engine=demo_db.engine, sessions=demo_db.sessions, url=demo_db.url, embedded=True
    )


@pytest.fixture
def blank_ctx(private_db: Database, tmp_path: Path) -> Iterator[AppContext]:
    ctx = AppContext(
        db=private_db, cache=Cache(tmp_path / "cache"), outbox=Outbox(tmp_path / "out")
    )
    yield ctx
    ctx.stop()
    if ctx.db is not private_db:
        ctx.db.dispose()
    ctx.cache.close()


def open_window(qtbot, ctx: AppContext, **kw: object) -> MainWindow:  # noqa: ANN001
    kw.setdefault("gate", make_gate(ctx.db, demo=True))
    window = MainWindow(ctx, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.show()
    return window


def sign_in_dialog(qtbot, window: MainWindow) -> SignInDialog:  # noqa: ANN001
    qtbot.waitUntil(
        lambda: (
            isinstance(window.sign_in_dialog, SignInDialog) and window.sign_in_dialog.isVisible()
        ),
        timeout=10_000,
    )
    dialog = window.sign_in_dialog
    assert isinstance(dialog, SignInDialog)
    return dialog


def type_and_submit(qtbot, dialog: SignInDialog, username: str, password: str) -> None:  # noqa: ANN001
    dialog.user_edit.setText(username)
    dialog.password_edit.setText(password)
    dialog.submit()


def test_nothing_signs_in_by_itself_and_a_wrong_password_is_one_sentence(
    qtbot, blank_ctx: AppContext
) -> None:  # noqa: ANN001
    QSettings().setValue("desk/last_username", NURSE)
    window = open_window(qtbot, blank_ctx)
    dialog = sign_in_dialog(qtbot, window)
    assert blank_ctx.user_id is None and not window.panes
    assert dialog.user_edit.text() == NURSE and dialog.password_edit.text() == ""
    assert "demo" in dialog.findChild(object, "signInDemoHint").text().lower()  # type: ignore[union-attr]
    type_and_submit(qtbot, dialog, NURSE, "not the password")
    qtbot.waitUntil(lambda: dialog.banner.isVisible(), timeout=10_000)
    assert dialog.banner.text == "User name or password is not right."
    assert dialog.password_edit.text() == "" and blank_ctx.user_id is None
    type_and_submit(qtbot, dialog, "nobody.here", "not the password")
    qtbot.waitUntil(lambda: not dialog.busy.busy, timeout=10_000)
    assert dialog.banner.text == "User name or password is not right."


def test_signing_in_opens_the_desk_as_her(qtbot, blank_ctx: AppContext) -> None:  # noqa: ANN001
    window = open_window(qtbot, blank_ctx)
    dialog = sign_in_dialog(qtbot, window)
    type_and_submit(qtbot, dialog, NURSE, DEMO_PASSWORD)
    qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)
    actor = blank_ctx.actor
    assert actor is not None and actor.username == NURSE
    assert blank_ctx.user_name == actor.display_name
    assert blank_ctx.school_id in actor.school_ids
    assert blank_ctx.db is not window._base_db  # her own connection
    settings = QSettings()
    assert settings.value("desk/last_username") == NURSE
    assert all(DEMO_PASSWORD not in str(settings.value(k)) for k in settings.allKeys())


def test_idle_lock_hides_records_until_her_password(
    qtbot, blank_ctx: AppContext, monkeypatch
) -> None:  # noqa: ANN001
    window = open_window(qtbot, blank_ctx)
    type_and_submit(qtbot, sign_in_dialog(qtbot, window), NURSE, DEMO_PASSWORD)
    qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)
    assert window.idle is not None and window.idle.active
    window.inventory_pane.select_lot(window.inventory_pane.model.lots[0].id)
    window.inventory_pane.adjust_selected()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(QDialog)), timeout=5000)
    window.idle.set_minutes(0.001)  # 60 ms
    window.idle.resume()
    qtbot.waitUntil(lambda: window.locked, timeout=5000)
    assert window.stack.currentWidget() is window.lock_page
    assert not window.sidebar.isEnabled()
    assert not any(d.isVisible() for d in window.findChildren(QDialog))  # the open dialog closed
    # the connection budget: a locked desk holds no server connection (pool closed, no listener)
    pool = blank_ctx.db.engine.pool
    assert blank_ctx._listener is None
    assert pool.checkedin() == 0 and pool.checkedout() == 0  # type: ignore[attr-defined]
    window.show_pane(2)  # Ctrl+3 while locked shows nothing
    assert window.locked
    window.show_notification("Dose due", "12:00 Lovelace, A — Ritalin 10 mg")
    assert window.last_notification == (
        "Dose due",
        "Sign in to see it.",
    )  # no name on a locked desk
    page = window.lock_page
    page.password_edit.setText("wrong password")
    page.unlock_button.click()
    qtbot.waitUntil(lambda: page.banner.isVisible() and not page.busy.busy, timeout=10_000)
    assert window.locked
    window.idle.set_minutes(10)
    page.password_edit.setText(DEMO_PASSWORD)
    page.unlock_button.click()
    qtbot.waitUntil(lambda: not window.locked, timeout=10_000)
    assert window.sidebar.isEnabled() and window.stack.currentWidget() in window.panes
    assert blank_ctx._listener is not None  # changes from other PCs are heard again


def test_another_nurse_cannot_unlock_her_desk_but_may_sign_in(qtbot, blank_ctx: AppContext) -> None:  # noqa: ANN001
    window = open_window(qtbot, blank_ctx)
    type_and_submit(qtbot, sign_in_dialog(qtbot, window), NURSE, DEMO_PASSWORD)
    qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)
    first = blank_ctx.actor
    window.lock()
    assert window.locked and window.lock_page.username == NURSE
    window.lock_page.switch_button.click()
    dialog = sign_in_dialog(qtbot, window)
    type_and_submit(qtbot, dialog, OTHER_NURSE, DEMO_PASSWORD)
    qtbot.waitUntil(lambda: blank_ctx.actor is not first and not window.locked, timeout=20_000)
    assert blank_ctx.actor is not None and blank_ctx.actor.username == OTHER_NURSE


def test_switch_user_hides_the_records_before_asking(qtbot, blank_ctx: AppContext) -> None:  # noqa: ANN001
    window = open_window(qtbot, blank_ctx)
    type_and_submit(qtbot, sign_in_dialog(qtbot, window), NURSE, DEMO_PASSWORD)
    qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)
    window.switch_action.trigger()
    dialog = sign_in_dialog(qtbot, window)
    assert window.stack.currentWidget() is window.lock_page and not window.sidebar.isEnabled()
    dialog.reject()
    assert window.locked  # cancelling does not bring the previous nurse's records back


def test_a_scripted_start_signs_in_with_the_password(qtbot, blank_ctx: AppContext) -> None:  # noqa: ANN001
    window = open_window(qtbot, blank_ctx, sign_in_as=(NURSE, DEMO_PASSWORD))
    qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)
    assert window.sign_in_dialog is None and blank_ctx.actor is not None
    assert blank_ctx.actor.username == NURSE


def test_a_scripted_start_with_a_wrong_password_asks(qtbot, blank_ctx: AppContext) -> None:  # noqa: ANN001
    window = open_window(qtbot, blank_ctx, sign_in_as=(NURSE, "not the password"))
    dialog = sign_in_dialog(qtbot, window)
    assert blank_ctx.actor is None and not window.panes
    assert "not right" in window.statusBar().currentMessage()
    assert dialog.password_edit.text() == ""


def test_a_nurse_disabled_meanwhile_is_sent_to_the_sign_in(
    qtbot, blank_ctx: AppContext, private_db: Database
) -> None:  # noqa: ANN001
    from medapp.services import accounts

    window = open_window(qtbot, blank_ctx, sign_in_as=(OTHER_NURSE, DEMO_PASSWORD))
    qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)
    accounts.disable_user(private_db, OTHER_NURSE)
    try:
        window.probe()
        sign_in_dialog(qtbot, window)
        assert window.locked
        assert "no longer an active user" in window.statusBar().currentMessage()
    finally:
        accounts.enable_user(private_db, OTHER_NURSE)


def test_first_run_creates_the_first_account_and_signs_it_in(
    qtbot, scratch_url: str, tmp_path: Path
) -> None:  # noqa: ANN001
    from medapp.db import migrate
    from medapp.db import roles as pgroles
    from medapp.db.engine import open_database
    from medapp.ui.dialogs.first_run import FirstRunDialog

    opened = open_database(scratch_url)
    migrate.upgrade(opened.engine)
    private = Database(
        engine=opened.engine, sessions=opened.sessions, url=opened.url, embedded=True
    )
    ctx = AppContext(db=private, cache=Cache(tmp_path / "c"), outbox=Outbox(tmp_path / "o"))
    username = f"first.{uuid.uuid4().hex[:8]}"
    try:
        window = open_window(qtbot, ctx, gate=make_gate(private))
        qtbot.waitUntil(lambda: isinstance(window.sign_in_dialog, FirstRunDialog), timeout=10_000)
        dialog = window.sign_in_dialog
        assert isinstance(dialog, FirstRunDialog)
        dialog.school_edit.setText("Hillside Primary")
        dialog.first_edit.setText("Ann")
        dialog.last_edit.setText("Admin")
        dialog.user_edit.setText(username)
        dialog.password_edit.setText("short")
        dialog.repeat_edit.setText("short")
        dialog.submit()
        assert "10 characters" in dialog.banner.text
        dialog.password_edit.setText("a long enough password")
        dialog.repeat_edit.setText("a long enough password")
        dialog.submit()
        qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)
        assert ctx.actor is not None and ctx.actor.username == username
        assert ctx.school_name == "Hillside Primary"
        window.close()
    finally:
        ctx.stop()
        if ctx.db is not private:
            ctx.db.dispose()
        ctx.cache.close()
        with opened.engine.begin() as conn:
            pgroles.drop_user_role(conn, username)
        opened.dispose()
