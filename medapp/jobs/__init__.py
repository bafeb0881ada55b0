"""Scheduled work in the running app (APScheduler on the Qt event loop): due-dose and missed-dose
notices, offline outbox sync, inventory alert refresh. Jobs run on worker threads and talk to the
GUI only through signals."""
