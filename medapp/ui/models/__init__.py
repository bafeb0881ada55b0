"""Qt item models over plain dataclasses (never ORM objects): search results, stock lots,
today's reminders, the schedule. Each has a ``SortRole`` for its sort proxy."""
