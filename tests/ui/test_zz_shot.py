from medapp.ui.widgets.theme import apply_theme
from tests.ui.test_dose_dialog import find_rx, lunchtime_on_a_school_day, open_dialog, scheduled, make_order_long

def test_shot(qtbot, desk_ctx, qapp):
    apply_theme(qapp, "light")
    ctx = desk_ctx
    lunchtime_on_a_school_day(ctx)
    rx = find_rx(ctx, "Adeyemi", "Ritalin")
    d = open_dialog(qtbot, ctx, rx, scheduled(ctx, rx))
    qtbot.wait(300)
    d.grab().save("/tmp/h4_dose_natural.png")
    d.resize(1024, 700); qtbot.wait(300)
    d.grab().save("/tmp/h4_dose_1024.png")
    print("SIZE", d.size())
