"""Schema changes, only ever by migrations (CONVENTIONS.md §7).

An applied migration is never edited: a change is a new function appended below. Migrations are
additive (new tables, new nullable columns, new indexes) so an older node's rows still merge.
``tests/store/test_migrations.py`` applies them all to an empty database and compares the result
with the expected schema.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from lsnode.store.schema import COMMON, TABLES

migrations = Migrations("lsnode")

#: Bumped with every migration; exchanged with the hub at connect (sync issue).
SCHEMA_VERSION = 4


def _create_table_sql(name: str, columns: dict[str, str], numbered: bool) -> str:
    cols = ["id TEXT PRIMARY KEY NOT NULL"]
    if numbered:
        cols.append("number INTEGER UNIQUE")
    cols += [f"{col} {decl}" for col, decl in columns.items()]
    cols += ["created_at TEXT NOT NULL", "updated_at TEXT NOT NULL"]
    body = ",\n  ".join(cols)
    return f"CREATE TABLE {name} (\n  {body}\n) STRICT"


def _index_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"CREATE INDEX idx_{table}_{'_'.join(columns)} ON {table} ({', '.join(columns)})"


def _tables_of(db: Database, version: int) -> None:
    """What ``schema.py`` says ``version`` adds: new tables, new columns, their indexes.

    Each migration asks for its own version only, so a column added to ``schema.py`` later never
    changes what an applied migration did.
    """
    for table in TABLES:
        if table.since == version:
            db.execute(_create_table_sql(table.name, table.columns_at(version), table.numbered))
            for indexed in table.indexes_at(version):
                db.execute(_index_sql(table.name, indexed))
        elif table.since < version:
            new = set(table.columns_at(version)) - set(table.columns_at(version - 1))
            for col in (c for c in table.columns if c in new):
                db.execute(f"ALTER TABLE {table.name} ADD COLUMN {col} {table.columns[col]}")
            old_ix = set(table.indexes_at(version - 1))
            for indexed in table.indexes_at(version):
                if indexed not in old_ix:
                    db.execute(_index_sql(table.name, indexed))


@migrations()
def m001_core(db: Database) -> None:
    """The client base (SPEC §0) and the traffic tables (SPEC §1)."""
    assert COMMON == ("id", "created_at", "updated_at")
    _tables_of(db, 1)
    # Sync metadata (lsnode/sync/merge.py): one row per replicated row, tombstones included.
    # ``local_seq`` orders this node's own changes (pending push while above the hub's ack);
    # ``hub_seq`` orders the hub's accepted changes (what nodes pull). Written by changes.py.
    db.execute(
        """CREATE TABLE _rowmeta (
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  cl INTEGER NOT NULL,
  base TEXT NOT NULL,
  overrides TEXT NOT NULL DEFAULT '{}',
  local_seq INTEGER,
  hub_seq INTEGER,
  PRIMARY KEY (tbl, row_id)
) STRICT, WITHOUT ROWID"""
    )
    db.execute(
        "CREATE INDEX _rowmeta_local_seq ON _rowmeta (local_seq) WHERE local_seq IS NOT NULL"
    )
    db.execute(
        "CREATE UNIQUE INDEX _rowmeta_hub_seq ON _rowmeta (hub_seq) WHERE hub_seq IS NOT NULL"
    )
    # The hub's record of each node's pushes: exactly-once by (site_id, local_seq).
    db.execute(
        """CREATE TABLE _sites (
  site_id TEXT PRIMARY KEY,
  acked_seq INTEGER NOT NULL DEFAULT 0,
  last_seen TEXT
) STRICT"""
    )
    db.execute("CREATE TABLE _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT")
    # Search indexes are derived, local, and kept by triggers so that rows arriving by sync are
    # indexed exactly like local writes.
    db.execute(
        """CREATE VIRTUAL TABLE counterparty_fts USING fts5(
  name_key, content='counterparties', content_rowid='rowid',
  tokenize='unicode61 remove_diacritics 0', prefix='1 2 3')"""
    )
    db.execute(
        """CREATE VIRTUAL TABLE car_fts USING fts5(
  plate_key, vin, content='cars', content_rowid='rowid', tokenize='trigram')"""
    )
    for content, fts, names in (
        ("counterparties", "counterparty_fts", ("name_key",)),
        ("cars", "car_fts", ("plate_key", "vin")),
    ):
        cols = ", ".join(names)
        new = ", ".join(f"new.{c}" for c in names)
        old = ", ".join(f"old.{c}" for c in names)
        db.execute(
            f"""CREATE TRIGGER {content}_fts_ai AFTER INSERT ON {content} BEGIN
  INSERT INTO {fts}(rowid, {cols}) VALUES (new.rowid, {new});
END"""
        )
        db.execute(
            f"""CREATE TRIGGER {content}_fts_ad AFTER DELETE ON {content} BEGIN
  INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.rowid, {old});
END"""
        )
        db.execute(
            f"""CREATE TRIGGER {content}_fts_au AFTER UPDATE OF {cols} ON {content} BEGIN
  INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.rowid, {old});
  INSERT INTO {fts}(rowid, {cols}) VALUES (new.rowid, {new});
END"""
        )


@migrations()
def m002_traffic_workflow(db: Database) -> None:
    """The traffic card's history, the waiting queue's times, and since-when of presence."""
    _tables_of(db, 2)


@migrations()
def m003_notifications(db: Database) -> None:
    """Notifications (SPEC §3): settings, channels, templates, rules, the message journal and
    its deliveries, LAN messages, tasks; the service appointment's columns on documents."""
    _tables_of(db, 3)


@migrations()
def m004_telephony(db: Database) -> None:
    """IP telephony (SPEC §5): the SIP line and its state, calls, their routing decisions, the
    nodes' call requests; the ring time of a contact purpose."""
    _tables_of(db, 4)
