"""The store: SQLite through sqlite-utils — the only package that writes SQL.

- ``schema``: the replicated tables as data (columns, CHECKs, indexes)
- ``migrations``: ``sqlite_utils.Migrations``, additive, never edited once applied
- ``db``: open / init a data dir (WAL, busy_timeout), snapshots
- ``changes``: the one write path (``Writer``) with its change-capture hook (``_outbox``)
- ``ports``: the protocols the domain uses; ``repos``: their SQLite implementations
"""
