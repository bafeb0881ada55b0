"""The who-is-at-the-desk picker on the committed school demo: the school and its people load
off the GUI thread, typing narrows the names, Enter signs in, Esc cancels."""

from __future__ import annotations

from PySide6.QtCore import Qt

from medapp.db.engine import Database
from medapp.ui.dialogs.sign_in import SignInDialog


def open_dialog(qtbot, db: Database, **kw: object) -> SignInDialog:  # noqa: ANN001
    dialog = SignInDialog(db, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    return dialog


def test_school_and_people_load_and_typing_narrows_them(qtbot, demo_db: Database) -> None:  # noqa: ANN001
    dialog = open_dialog(qtbot, demo_db)
    assert dialog.school_combo.currentText() == "Riverside K-8 School"
    assert dialog.visible_names() == ["David Chen", "Maria Rivera", "Grace Okafor"]  # nurses first
    assert dialog.start_button.isEnabled()
    qtbot.keyClicks(dialog.filter_edit, "rive")
    assert dialog.visible_names() == ["Maria Rivera"]
    assert dialog.selected_user() is not None
    assert dialog.selected_user().username == "nurse.rivera"
    with qtbot.waitSignal(dialog.signed_in, timeout=5000) as signed:
        qtbot.keyClick(dialog.filter_edit, Qt.Key.Key_Return)
    identity = signed.args[0]
    assert identity.user.display_name == "Maria Rivera"
    assert identity.school.name == "Riverside K-8 School"
    assert identity.school.timezone == "America/New_York"
    assert not dialog.isVisible()


def test_no_match_disables_start_and_esc_cancels(qtbot, demo_db: Database) -> None:  # noqa: ANN001
    dialog = open_dialog(qtbot, demo_db)
    qtbot.keyClicks(dialog.filter_edit, "nobody here")
    assert dialog.visible_names() == []
    assert not dialog.start_button.isEnabled()
    qtbot.keyClick(dialog.filter_edit, Qt.Key.Key_Return)
    assert dialog.chosen is None and dialog.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.chosen is None


def test_the_remembered_person_is_preselected(qtbot, demo_db: Database) -> None:  # noqa: ANN001
    first = open_dialog(qtbot, demo_db)
    grace = next(u for u in first.users if u.username == "lead.okafor")
    dialog = open_dialog(qtbot, demo_db, user_id=grace.id, school_id=grace.school_id)
    assert dialog.selected_user() == grace
    qtbot.keyClick(dialog.user_list, Qt.Key.Key_Return)
    assert dialog.chosen is not None and dialog.chosen.user == grace
