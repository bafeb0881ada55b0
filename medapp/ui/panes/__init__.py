"""The four panes of the desk window, in order: ``search_pane.SearchPane`` (formulary search,
barcode scan, office stock of a product), ``schedule_pane.SchedulePane``,
``reminders_pane.RemindersPane`` and ``inventory_pane.InventoryPane`` (lots, alert chips,
adjust and receive stock). Each is ``Pane(ctx: AppContext)`` with a ``refresh()`` slot and a
``refreshed`` signal; all database work runs on workers."""
