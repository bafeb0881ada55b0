"""``medapp loadtest``: a district's lunch rush — many real desks on one PostgreSQL server.

Each simulated desk is what a desk in a health office is: it signs in as a nurse of its school
through :func:`medapp.services.signin.sign_in` (her own engine, the app's connection budget),
listens for changes with :class:`medapp.db.notify.ChangeListener`, and calls the same services
the GUI calls. Desks run as threads in several processes (:mod:`medapp.loadtest.runner`).
"""
