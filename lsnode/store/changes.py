"""The one write path for replicated tables, and the change capture hook on it.

Every insert, update and delete of a replicated row goes through ``Writer``, which commits the
row and its change record in one transaction (CONVENTIONS.md §6; ARCHITECTURE.md: triggers *or*
the write path, one mechanism — this is it). ``ChangeCapture`` is the hook: the default
``OutboxCapture`` appends the changed columns to ``_outbox``; the sync layer replaces it with one
that also stamps hybrid-logical-clock versions per column.

Unknown tables and columns are refused before anything is written, so a bad remote op or a typo
in a use case cannot reach the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlite_utils import Database

from lsnode.errors import InputError, NotFound
from lsnode.ids import uuid7
from lsnode.store.schema import BY_NAME, Table

Values = Mapping[str, Any]


def utc_now() -> str:
    """Now as the store writes instants: ISO 8601, UTC, milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChangeCapture(Protocol):
    """Called inside the write's transaction for every replicated change."""

    def capture(
        self, db: Database, changes: Iterable[tuple[str, str, str, dict[str, Any]]], at: str
    ) -> None:
        """``changes`` are ``(table, row_id, op, values)`` with op ``upsert`` or ``delete``."""


class OutboxCapture:
    """Appends each change to ``_outbox``, numbered by ``local_seq`` in commit order."""

    def capture(
        self, db: Database, changes: Iterable[tuple[str, str, str, dict[str, Any]]], at: str
    ) -> None:
        db.conn.executemany(
            "INSERT INTO _outbox(tbl, row_id, op, payload, at) VALUES (?, ?, ?, ?, ?)",
            (
                (table, row_id, op, json.dumps(values, ensure_ascii=False, sort_keys=True), at)
                for table, row_id, op, values in changes
            ),
        )


def _table(name: str) -> Table:
    try:
        return BY_NAME[name]
    except KeyError:
        raise InputError(f"unknown table {name!r}") from None


def _check_columns(table: Table, values: Values) -> None:
    unknown = set(values) - table.writable
    if unknown:
        raise InputError(f"unknown column(s) of {table.name}: {', '.join(sorted(unknown))}")


class Writer:
    """Writes replicated rows; each call is atomic, and joins an enclosing ``db.atomic()``."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], str] = utc_now,
        capture: ChangeCapture | None = None,
        new_id: Callable[[], str] = uuid7,
    ) -> None:
        self.db = db
        self.clock = clock
        self.capture = capture or OutboxCapture()
        self.new_id = new_id

    def transaction(self) -> AbstractContextManager[object]:
        """Group several writes into one transaction (a savepoint when already inside one)."""
        return self.db.atomic()

    def insert(self, table: str, values: Values) -> str:
        """Insert one row; returns its id (a new UUIDv7 unless ``values`` has one)."""
        return self.insert_many(table, [values])[0]

    def insert_many(self, table: str, rows: Iterable[Values]) -> list[str]:
        """Insert rows in one transaction — the bulk path for imports and demo data."""
        spec = _table(table)
        at = self.clock()
        prepared: list[dict[str, Any]] = []
        for values in rows:
            _check_columns(spec, values)
            row = dict(values)
            row.setdefault("id", self.new_id())
            row.setdefault("created_at", at)
            row["updated_at"] = at
            prepared.append(row)
        if not prepared:
            return []
        # Rows naming different columns go in separate statements, so an omitted column gets
        # its DEFAULT rather than NULL.
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in prepared:
            shapes.setdefault(tuple(row), []).append(row)
        with self.db.atomic():
            for cols, group in shapes.items():
                sql = (
                    f"INSERT INTO {spec.name} ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' for _ in cols)})"
                )
                self.db.conn.executemany(sql, (list(row.values()) for row in group))
            self.capture.capture(
                self.db, ((spec.name, row["id"], "upsert", row) for row in prepared), at
            )
        return [str(row["id"]) for row in prepared]

    def update(self, table: str, row_id: str, changes: Values) -> dict[str, Any]:
        """Set the given columns of one row; only columns whose value changes are captured.

        Returns the columns that changed (empty when nothing did, and then nothing is written).
        """
        spec = _table(table)
        _check_columns(spec, changes)
        if "id" in changes and changes["id"] != row_id:
            raise InputError("a row's id cannot change")
        with self.db.atomic():
            current = self._current(spec, row_id)
            changed = {k: v for k, v in changes.items() if k != "id" and current.get(k) != v}
            if not changed:
                return {}
            at = self.clock()
            changed["updated_at"] = at
            assignments = ", ".join(f"{c} = ?" for c in changed)
            self.db.execute(
                f"UPDATE {spec.name} SET {assignments} WHERE id = ?", [*changed.values(), row_id]
            )
            self.capture.capture(self.db, [(spec.name, row_id, "upsert", changed)], at)
        return changed

    def delete(self, table: str, row_id: str) -> None:
        spec = _table(table)
        with self.db.atomic():
            self._current(spec, row_id)
            self.db.execute(f"DELETE FROM {spec.name} WHERE id = ?", [row_id])
            self.capture.capture(self.db, [(spec.name, row_id, "delete", {})], self.clock())

    def _current(self, spec: Table, row_id: str) -> dict[str, Any]:
        cur = self.db.execute(f"SELECT * FROM {spec.name} WHERE id = ?", [row_id])
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"{spec.name}: no row {row_id}")
        return dict(zip([d[0] for d in cur.description], row, strict=True))
