"""Opening, configuring and initialising a node's SQLite store.

A data dir holds ``lsavto.db`` (WAL). ``init_store`` creates it and applies migrations;
``open_store`` opens an existing one and refuses one that is missing or written by a newer
version, so a typo in ``--data`` never silently creates an empty base.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from lsnode.errors import DataDirError, StoreError
from lsnode.store.migrations import SCHEMA_VERSION, migrations

DB_NAME = "lsavto.db"
BUSY_TIMEOUT_MS = 5000


def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_NAME


def _journal_mode_wal(conn: sqlite3.Connection) -> str:
    """Switch to WAL; a new file another process is creating at the same moment answers «locked»
    without calling the busy handler, so wait for it here (up to the busy timeout)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = _journal_mode_wal(conn)
    if mode not in ("wal", "memory"):
        raise StoreError(f"SQLite refused WAL mode (got {mode!r})")
    conn.execute("PRAGMA synchronous = NORMAL")
    # 64 MiB of page cache: the indexes of a 100k-client base stay in memory.
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA mmap_size = 536870912")  # reads straight from the page cache
    conn.execute("PRAGMA foreign_keys = ON")


def connect(path: Path | str) -> Database:
    """A configured connection to any store file (no migration, no checks: see open_store)."""
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        _configure(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open the database {path}: {exc}") from exc
    return Database(conn)


def schema_version(db: Database) -> int:
    row = db.execute("SELECT value FROM _meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(db: Database) -> None:
    """Apply pending migrations and record the schema version, under the write lock.

    Two processes opening the same new data dir at once (``lsavto pair`` and the app, say) must
    not both apply a migration: the lock is taken first, and what is pending is read under it.
    """
    nested = db.conn.in_transaction
    if not nested:
        db.execute("BEGIN IMMEDIATE")
    try:
        migrations.apply(db)
        db.execute(
            "INSERT INTO _meta(key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [str(SCHEMA_VERSION)],
        )
    except BaseException:
        if not nested and db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    if not nested:
        db.execute("COMMIT")


def memory_store() -> Database:
    """A fully migrated in-memory store, for tests and benchmarks."""
    db = connect(":memory:")
    migrate(db)
    return db


def init_store(data_dir: Path) -> Database:
    """Create the data dir (if needed) and its database; idempotent on an existing one."""
    data_dir = Path(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise DataDirError(f"{data_dir} exists and is not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"cannot create the data dir {data_dir}: {exc.strerror}") from exc
    db = connect(db_path(data_dir))
    try:
        if db["_meta"].exists() and schema_version(db) > SCHEMA_VERSION:
            raise DataDirError(_too_new(data_dir, schema_version(db)))
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def open_store(data_dir: Path) -> Database:
    """Open an initialised data dir; a missing or foreign one is a clear error, never created."""
    data_dir = Path(data_dir)
    path = db_path(data_dir)
    if not data_dir.is_dir():
        raise DataDirError(
            f"data dir {data_dir} does not exist: create it with `lsavto init --data {data_dir}`"
        )
    if not path.is_file():
        raise DataDirError(
            f"{data_dir} is not an LSAvto data dir (no {DB_NAME}): "
            f"run `lsavto init --data {data_dir}` first"
        )
    try:
        db = connect(path)
    except StoreError as exc:
        raise DataDirError(f"{path} is not a readable LSAvto database: {exc.__cause__}") from exc
    try:
        if not db["_meta"].exists():
            raise DataDirError(f"{path} is not an LSAvto database")
        version = schema_version(db)
        if version > SCHEMA_VERSION:
            raise DataDirError(_too_new(data_dir, version))
        if version < SCHEMA_VERSION:
            migrate(db)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise DataDirError(f"{path} is not a readable LSAvto database: {exc}") from exc
    except BaseException:
        db.close()
        raise
    return db


def _too_new(data_dir: Path, version: int) -> str:
    return (
        f"{data_dir} was written by a newer LSAvto (schema {version} > {SCHEMA_VERSION}): "
        "update this program; nothing was changed"
    )


def rebuild_search_index(db: Database) -> None:
    """Rebuild the FTS indexes from their tables.

    They index by rowid, which ``VACUUM`` (and so a ``VACUUM INTO`` snapshot) may renumber on
    tables without an INTEGER PRIMARY KEY: run this after either (``replica.install_snapshot``
    does).
    """
    with db.atomic():
        db.execute("INSERT INTO counterparty_fts(counterparty_fts) VALUES ('rebuild')")
        db.execute("INSERT INTO car_fts(car_fts) VALUES ('rebuild')")


@contextmanager
def bulk_load(db: Database) -> Iterator[Database]:
    """One transaction for a large load (demo data, an import): search indexes built once.

    Updating FTS5 row by row makes a big load quadratic-ish (segment merges grow with the index);
    so the index triggers are lifted for the load and the indexes rebuilt from the tables at the
    end — in the same transaction, so a crash leaves neither the rows nor a stale index.
    """
    with db.atomic():
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_fts_%'"
        ).fetchall()
        for name, _ in triggers:
            db.execute(f"DROP TRIGGER {name}")
        yield db
        db.execute("INSERT INTO counterparty_fts(counterparty_fts) VALUES ('rebuild')")
        db.execute("INSERT INTO car_fts(car_fts) VALUES ('rebuild')")
        for _, sql in triggers:
            db.execute(sql)
