"""Read and write paths over PostgreSQL, one module per use case. They return frozen dataclasses
(never live ORM rows) so results can cross threads and be cached on disk."""
