"""The one write path for replicated tables, and the change capture on it.

Every insert, update and delete of a replicated row goes through ``Writer``, which commits the
row and its sync metadata (``_rowmeta``: causal length and per-column versions, see
``lsnode.sync.merge``) in one transaction (CONVENTIONS.md §6; ARCHITECTURE.md: triggers *or* the
write path — this is it). Versions come from the site's hybrid logical clock, read from and
written back to ``_meta`` inside the write's transaction, so several processes writing one data
dir (the agent and a CLI command) still issue unique, increasing versions.

On a node a change is numbered by ``local_seq`` (pending until the hub acknowledges it); on the
hub by ``hub_seq`` (what nodes pull), and rows of numbered tables get their human ``number``.

Unknown tables and columns are refused before anything is written, so a bad remote op or a typo
in a use case cannot reach the database.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from lsnode.errors import InputError, NotFound
from lsnode.ids import uuid7
from lsnode.store.schema import BY_NAME, Table
from lsnode.sync.hlc import HLC, is_version

Values = Mapping[str, Any]
ROLE_NODE = "node"
ROLE_HUB = "hub"


def utc_now() -> str:
    """Now as the store writes instants: ISO 8601, UTC, milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def immediate(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock at BEGIN (a savepoint when nested).

    A deferred transaction that reads, then writes, fails at once with SQLITE_BUSY when another
    process wrote meanwhile (WAL snapshot); taking the lock first lets ``busy_timeout`` wait.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


# -- _meta: this replica's own small state -----------------------------------------------------


def meta_get(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM _meta WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def meta_set(db: Database, key: str, value: str | int) -> None:
    db.execute(
        "INSERT INTO _meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, str(value)],
    )


def meta_int(db: Database, key: str) -> int:
    value = meta_get(db, key)
    return int(value) if value is not None else 0


def next_seq(db: Database, key: str, count: int = 1) -> int:
    """Reserve ``count`` numbers of the counter ``key``; returns the first. In a transaction."""
    first = meta_int(db, key) + 1
    meta_set(db, key, first + count - 1)
    return first


def site_id(db: Database) -> str:
    """This replica's site id, made on first use."""
    site = meta_get(db, "site_id")
    if site is None:
        site = secrets.token_hex(8)
        meta_set(db, "site_id", site)
    return site


def role(db: Database) -> str:
    return meta_get(db, "role") or ROLE_NODE


WallClock = Callable[[], int] | None


def next_version(db: Database, wall_ms: WallClock = None) -> str:
    """A fresh HLC version for this site, unique across processes writing this store."""
    hlc = HLC(site_id(db), wall_ms=wall_ms)
    last = meta_get(db, "hlc")
    if last:
        hlc.observe(last, check_drift=False)
    version = hlc.now()
    meta_set(db, "hlc", version)
    return version


# -- capture --------------------------------------------------------------------------------


def _load_meta(db: Database, table: str, row_id: str) -> tuple[int, dict[str, str]] | None:
    row = db.execute(
        "SELECT cl, overrides FROM _rowmeta WHERE tbl = ? AND row_id = ?", [table, row_id]
    ).fetchone()
    return None if row is None else (int(row[0]), json.loads(row[1]))


def _seqs(db: Database, count: int) -> tuple[int | None, int | None]:
    """``(local_seq, hub_seq)`` of the next ``count`` changes: a node numbers what it will push,
    the hub (which pushes nothing) what nodes will pull."""
    if role(db) == ROLE_HUB:
        return None, next_seq(db, "hub_seq", count)
    return next_seq(db, "local_seq", count), None


def assign_numbers(db: Database, table: str, row_ids: Iterable[str]) -> dict[str, int]:
    """On the hub: give rows of a numbered table without a number the next numbers."""
    spec = BY_NAME[table]
    if not spec.numbered:
        return {}
    ids = list(row_ids)
    missing: list[str] = []
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        marks = ", ".join("?" * len(part))
        missing += [
            r[0]
            for r in db.execute(
                f"SELECT id FROM {table} WHERE number IS NULL AND id IN ({marks})", part
            )
        ]
    if not missing:
        return {}
    top = db.execute(f"SELECT max(number) FROM {table}").fetchone()[0] or 0
    numbers = {row_id: top + i + 1 for i, row_id in enumerate(sorted(missing))}
    db.conn.executemany(
        f"UPDATE {table} SET number = ? WHERE id = ?", [(n, r) for r, n in numbers.items()]
    )
    return numbers


def capture_inserts(
    db: Database, table: str, row_ids: list[str], wall_ms: WallClock = None
) -> None:
    """Metadata for freshly inserted rows (a re-create over a tombstone adds one to cl)."""
    version = next_version(db, wall_ms)
    local, hub = _seqs(db, len(row_ids))
    # The table name is a schema name and the version our own hex: inlined, each row binds only
    # its id and its seq (this is the hot path of every bulk load).
    column, first = ("local_seq", local) if hub is None else ("hub_seq", hub)
    assert first is not None and is_version(version) and table in BY_NAME
    db.conn.executemany(
        f"INSERT INTO _rowmeta (tbl, row_id, cl, base, overrides, {column}) "
        f"VALUES ('{table}', ?, 1, '{version}', '{{}}', ?) ON CONFLICT (tbl, row_id) DO UPDATE SET "
        "cl = _rowmeta.cl + 1, base = excluded.base, overrides = '{}', "
        "local_seq = excluded.local_seq, hub_seq = excluded.hub_seq",
        zip(row_ids, range(first, first + len(row_ids)), strict=True),
    )
    if hub is not None:
        assign_numbers(db, table, row_ids)


def capture_update(
    db: Database, table: str, row_id: str, columns: Iterable[str], wall_ms: WallClock = None
) -> None:
    version = next_version(db, wall_ms)
    meta = _load_meta(db, table, row_id)
    if meta is None:  # a row written before capture existed would be a bug: say so loudly
        raise NotFound(f"{table}: row {row_id} has no sync metadata")
    _, overrides = meta
    overrides.update({c: version for c in columns})
    local, hub = _seqs(db, 1)
    db.execute(
        "UPDATE _rowmeta SET overrides = ?, local_seq = ?, hub_seq = coalesce(?, hub_seq) "
        "WHERE tbl = ? AND row_id = ?",
        [json.dumps(overrides, sort_keys=True), local, hub, table, row_id],
    )


def capture_delete(db: Database, table: str, row_id: str, wall_ms: WallClock = None) -> None:
    version = next_version(db, wall_ms)
    meta = _load_meta(db, table, row_id)
    cl = meta[0] if meta else 1
    local, hub = _seqs(db, 1)
    db.execute(
        "INSERT INTO _rowmeta (tbl, row_id, cl, base, overrides, local_seq, hub_seq) "
        "VALUES (?, ?, ?, ?, '{}', ?, ?) ON CONFLICT (tbl, row_id) DO UPDATE SET "
        "cl = excluded.cl, base = excluded.base, overrides = '{}', "
        "local_seq = excluded.local_seq, hub_seq = excluded.hub_seq",
        [table, row_id, cl + 1, version, local, hub],
    )


# -- the write path -------------------------------------------------------------------------


def _table(name: str) -> Table:
    try:
        return BY_NAME[name]
    except KeyError:
        raise InputError(f"unknown table {name!r}") from None


def _check_columns(table: Table, values: Values, inserting: bool = False) -> None:
    # An insert may carry its own created_at (an import of history, demo data); it never changes.
    unknown = set(values) - table.writable - ({"created_at"} if inserting else set())
    if unknown:
        raise InputError(f"unknown column(s) of {table.name}: {', '.join(sorted(unknown))}")


class Writer:
    """Writes replicated rows; each call is atomic, and joins an enclosing ``transaction()``."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], str] = utc_now,
        new_id: Callable[[], str] = uuid7,
        wall_ms: WallClock = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.new_id = new_id
        self.wall_ms = wall_ms  # the HLC's physical clock; tests skew it

    def transaction(self) -> AbstractContextManager[object]:
        """Group several writes into one transaction (a savepoint when already inside one)."""
        return immediate(self.db)

    def insert(self, table: str, values: Values) -> str:
        """Insert one row; returns its id (a new UUIDv7 unless ``values`` has one)."""
        return self.insert_many(table, [values])[0]

    def insert_many(self, table: str, rows: Iterable[Values]) -> list[str]:
        """Insert rows in one transaction — the bulk path for imports and demo data."""
        spec = _table(table)
        at = self.clock()
        # Rows naming different columns go in separate statements, so an omitted column gets
        # its DEFAULT rather than NULL; each shape is checked against the schema once.
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        ids: list[str] = []
        for values in rows:
            row = dict(values)
            if "id" not in row:
                row["id"] = self.new_id()
            if "created_at" not in row:
                row["created_at"] = at
            row["updated_at"] = at
            shape = tuple(row)
            group = shapes.get(shape)
            if group is None:
                _check_columns(spec, values, inserting=True)
                group = shapes[shape] = []
            group.append(row)
            ids.append(row["id"])
        if not ids:
            return []
        with immediate(self.db):
            for cols, group in shapes.items():
                sql = (
                    f"INSERT INTO {spec.name} ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' for _ in cols)})"
                )
                self.db.conn.executemany(sql, [tuple(row.values()) for row in group])
            capture_inserts(self.db, spec.name, ids, self.wall_ms)
        return ids

    def update(self, table: str, row_id: str, changes: Values) -> dict[str, Any]:
        """Set the given columns of one row; only columns whose value changes are captured.

        Returns the columns that changed (empty when nothing did, and then nothing is written).
        """
        spec = _table(table)
        _check_columns(spec, changes)
        if "id" in changes and changes["id"] != row_id:
            raise InputError("a row's id cannot change")
        with immediate(self.db):
            current = self._current(spec, row_id)
            changed = {k: v for k, v in changes.items() if k != "id" and current.get(k) != v}
            if not changed:
                return {}
            changed["updated_at"] = self.clock()
            assignments = ", ".join(f"{c} = ?" for c in changed)
            self.db.execute(
                f"UPDATE {spec.name} SET {assignments} WHERE id = ?", [*changed.values(), row_id]
            )
            capture_update(self.db, spec.name, row_id, changed, self.wall_ms)
        return changed

    def delete(self, table: str, row_id: str) -> None:
        spec = _table(table)
        with immediate(self.db):
            self._current(spec, row_id)
            self.db.execute(f"DELETE FROM {spec.name} WHERE id = ?", [row_id])
            capture_delete(self.db, spec.name, row_id, self.wall_ms)

    def _current(self, spec: Table, row_id: str) -> dict[str, Any]:
        cur = self.db.execute(f"SELECT * FROM {spec.name} WHERE id = ?", [row_id])
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"{spec.name}: no row {row_id}")
        return dict(zip([d[0] for d in cur.description], row, strict=True))
