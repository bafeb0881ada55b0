"""Dialogs: who is at the desk (``sign_in``), stock changes (``adjust_stock``: adjust a lot's
count, receive a lot), adding a formulary item (``add_medication``), the dose and the adverse
reaction dialogs. Each validates inline and saves on a worker with an id made when it opens."""
