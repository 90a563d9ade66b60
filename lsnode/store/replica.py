"""The store side of sync: reading row states, merging remote ones, change feeds, checksums.

``lsnode.sync`` (protocol, client, hub server) calls these; they are the only code that reads
or writes ``_rowmeta`` besides the write path in ``changes.py``. Every function that writes runs
in one transaction with what it writes about (a merged batch and the cursor that covers it).

States travel as ``RowState`` (``lsnode.sync.merge``); a live state carries every column of the
row, so any state can create the row on a replica that never saw it, in any order.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from lsnode.errors import InputError
from lsnode.faults import crash_point
from lsnode.ids import uuid7_ms
from lsnode.store.changes import (
    ROLE_HUB,
    assign_numbers,
    immediate,
    meta_get,
    meta_int,
    meta_set,
    next_seq,
    next_version,
    role,
)
from lsnode.store.db import connect, rebuild_search_index
from lsnode.store.schema import BY_NAME, TABLES
from lsnode.sync.merge import RowState, merge

_CHUNK = 400


def replicated_columns(table: str) -> list[str]:
    spec = BY_NAME[table]
    cols = ["number"] if spec.numbered else []
    return [*cols, *spec.columns, "created_at", "updated_at"]


_COLUMNS = {t.name: replicated_columns(t.name) for t in TABLES}


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _by_table(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    by_table: dict[str, list[str]] = {}
    for tbl, row_id in keys:
        by_table.setdefault(tbl, []).append(row_id)
    return by_table


def read_states(db: Database, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], RowState]:
    """Current states of the given rows (tombstones included); absent keys are left out."""
    metas: dict[tuple[str, str], tuple[int, str, dict[str, str]]] = {}
    for tbl, ids in _by_table(keys).items():
        for part in _chunks(ids):
            marks = ", ".join("?" * len(part))
            for row_id, cl, base, overrides in db.execute(
                f"SELECT row_id, cl, base, overrides FROM _rowmeta "
                f"WHERE tbl = ? AND row_id IN ({marks})",
                [tbl, *part],
            ):
                metas[(tbl, row_id)] = (
                    cl,
                    base,
                    {} if overrides == "{}" else json.loads(overrides),
                )
    values = _read_rows(db, [k for k, m in metas.items() if m[0] % 2 == 1])
    out: dict[tuple[str, str], RowState] = {}
    for key, (cl, base, overrides) in metas.items():
        row = values.get(key, {}) if cl % 2 == 1 else {}
        out[key] = RowState(key[0], key[1], cl, base, overrides, row)
    return out


def _read_rows(
    db: Database, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for tbl, ids in _by_table(keys).items():
        cols = _COLUMNS[tbl]
        select = ", ".join(["id", *cols])
        for part in _chunks(ids):
            marks = ", ".join("?" * len(part))
            for row in db.execute(f"SELECT {select} FROM {tbl} WHERE id IN ({marks})", list(part)):
                out[(tbl, row[0])] = dict(zip(cols, row[1:], strict=True))
    return out


# -- a node's pending changes -------------------------------------------------------------------


def pending(db: Database, after_seq: int, limit: int) -> tuple[list[tuple[int, RowState]], int]:
    """This node's changes with ``local_seq > after_seq``, oldest first, and the last seq read."""
    rows = db.execute(
        "SELECT local_seq, tbl, row_id FROM _rowmeta WHERE local_seq > ? "
        "ORDER BY local_seq LIMIT ?",
        [after_seq, limit],
    ).fetchall()
    states = read_states(db, [(t, r) for _, t, r in rows])
    out = [(seq, states[(t, r)]) for seq, t, r in rows if (t, r) in states]
    return out, (rows[-1][0] if rows else after_seq)


def pending_count(db: Database) -> int:
    acked = meta_int(db, "pushed_seq")
    return int(
        db.execute("SELECT count(*) FROM _rowmeta WHERE local_seq > ?", [acked]).fetchone()[0]
    )


# -- merging remote states ----------------------------------------------------------------------


def _column_types(table: str) -> dict[str, type]:
    spec = BY_NAME[table]

    def kind(column: str) -> type:
        decl = spec.columns.get(column, "TEXT")
        if column == "number" or decl.startswith("INTEGER"):
            return int
        return float if decl.startswith("REAL") else str  # REAL: notify_rules.relevance_hours

    return {c: kind(c) for c in _COLUMNS[table]}


_TYPES = {t.name: _column_types(t.name) for t in TABLES}


def validate_state(state: RowState) -> None:
    """Refuse a state that names an unknown table or column or holds a value of the wrong type."""
    types = _TYPES.get(state.table)
    if types is None:
        raise InputError(f"unknown table {state.table!r}")
    if state.alive and not state.values:
        raise InputError(f"{state.table}/{state.row_id}: a live row without values")
    for col, value in state.values.items():
        want = types.get(col)
        if want is None:
            raise InputError(f"unknown column of {state.table}: {col}")
        if (
            value is not None
            and type(value) is not want
            and not (want is float and type(value) is int)
        ):
            kind = {int: "INTEGER", float: "REAL"}.get(want, "TEXT")
            raise InputError(f"{state.table}.{col}: {type(value).__name__} where {kind} is due")
    for col in state.overrides:
        if col not in types:
            raise InputError(f"unknown column of {state.table}: {col}")


def apply_states(
    db: Database, states: Sequence[RowState], *, purge_horizon_ms: int = 0
) -> list[RowState]:
    """Merge remote states into this store; returns the states that changed something.

    On the hub each change is stamped with the next ``hub_seq`` and new rows of numbered tables
    get their number. A row unknown here whose id was made before ``purge_horizon_ms`` is one
    whose tombstone was purged: it is dropped, never resurrected. Call inside a transaction.
    """
    for state in states:
        validate_state(state)
    _observe(db, states)
    local = read_states(db, [(s.table, s.row_id) for s in states])
    is_hub = role(db) == ROLE_HUB
    final: dict[tuple[str, str], RowState] = {}
    before: dict[tuple[str, str], RowState | None] = {}
    for state in states:
        key = (state.table, state.row_id)
        current = local.get(key)
        if current is None and purge_horizon_ms and _made_before(state.row_id, purge_horizon_ms):
            continue
        merged = merge(current, state)
        if merged is None:
            continue
        before.setdefault(key, current)
        local[key] = final[key] = merged
    changed = list(final.values())
    first = next_seq(db, "hub_seq", len(changed)) if is_hub and changed else None
    _write_states(db, changed, before, first)
    if is_hub and changed:
        _number_new_rows(db, changed)
    return changed


def _observe(db: Database, states: Sequence[RowState]) -> None:
    """Move this site's clock past every version seen, so later local edits win over them."""
    if not states:
        return
    seen = max(s.max_version for s in states)
    if seen > (meta_get(db, "hlc") or ""):
        meta_set(db, "hlc", seen)


def _made_before(row_id: str, horizon_ms: int) -> bool:
    try:
        return uuid7_ms(row_id) < horizon_ms
    except ValueError:
        return False


def _write_states(
    db: Database,
    states: Sequence[RowState],
    before: dict[tuple[str, str], RowState | None],
    hub_first: int | None,
) -> None:
    """Write merged states: one statement per table and column set, not one per row.

    On the hub, ``hub_first`` numbers the changes in order (the feed nodes pull)."""
    upserts: dict[tuple[str, tuple[str, ...]], list[list[Any]]] = {}
    deletes: dict[str, list[tuple[str]]] = {}
    for state in states:
        tbl = state.table
        if not state.alive:
            deletes.setdefault(tbl, []).append((state.row_id,))
            continue
        cols = tuple(c for c in _COLUMNS[tbl] if c in state.values)
        old = before.get((tbl, state.row_id))
        if old is not None and old.alive and old.cl == state.cl:
            # An edit of a row we hold: set only what changed (the search triggers fire on it).
            edited = [c for c in cols if state.values[c] != old.values.get(c)]
            if edited:
                sets = ", ".join(f"{c} = ?" for c in edited)
                db.execute(
                    f"UPDATE {tbl} SET {sets} WHERE id = ?",
                    [*(state.values[c] for c in edited), state.row_id],
                )
            continue
        upserts.setdefault((tbl, cols), []).append([state.row_id, *(state.values[c] for c in cols)])
    for (tbl, cols), rows in upserts.items():
        names = ", ".join(["id", *cols])
        marks = ", ".join("?" * (len(cols) + 1))
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols)
        db.conn.executemany(
            f"INSERT INTO {tbl} ({names}) VALUES ({marks}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}",
            rows,
        )
    for tbl, ids in deletes.items():
        db.conn.executemany(f"DELETE FROM {tbl} WHERE id = ?", ids)
    first = hub_first or 0
    db.conn.executemany(
        "INSERT INTO _rowmeta (tbl, row_id, cl, base, overrides, hub_seq) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (tbl, row_id) DO UPDATE SET cl = excluded.cl, base = excluded.base, "
        "overrides = excluded.overrides, hub_seq = coalesce(excluded.hub_seq, hub_seq)",
        [
            (
                s.table,
                s.row_id,
                s.cl,
                s.base,
                _overrides_json(s.overrides),
                None if hub_first is None else first + i,
            )
            for i, s in enumerate(states)
        ],
    )


def _overrides_json(overrides: Mapping[str, str]) -> str:
    return json.dumps(dict(overrides), sort_keys=True) if overrides else "{}"


def _number_new_rows(db: Database, changed: Sequence[RowState]) -> None:
    by_table: dict[str, list[str]] = {}
    for s in changed:
        if s.alive and BY_NAME[s.table].numbered and s.values.get("number") is None:
            by_table.setdefault(s.table, []).append(s.row_id)
    for tbl, ids in by_table.items():
        numbers = assign_numbers(db, tbl, ids)
        if not numbers:
            continue
        version = next_version(db)
        db.conn.executemany(
            "UPDATE _rowmeta SET overrides = json_set(overrides, '$.number', ?) "
            "WHERE tbl = ? AND row_id = ?",
            [(version, tbl, row_id) for row_id in numbers],
        )


# -- the hub's change feed ----------------------------------------------------------------------


def changes_since(db: Database, hub_seq: int, limit: int) -> tuple[list[RowState], int]:
    """States changed on the hub after ``hub_seq`` (oldest first) and the seq they reach."""
    rows = db.execute(
        "SELECT hub_seq, tbl, row_id FROM _rowmeta WHERE hub_seq > ? ORDER BY hub_seq LIMIT ?",
        [hub_seq, limit],
    ).fetchall()
    states = read_states(db, [(t, r) for _, t, r in rows])
    return [states[(t, r)] for _, t, r in rows], (rows[-1][0] if rows else hub_seq)


def promote_to_hub(db: Database) -> None:
    """Make this store a hub's master: every row enters the change feed once, numbered."""
    with immediate(db):
        if role(db) == ROLE_HUB:
            return
        meta_set(db, "role", ROLE_HUB)
        keys = db.execute(
            "SELECT tbl, row_id FROM _rowmeta WHERE hub_seq IS NULL ORDER BY local_seq"
        ).fetchall()
        first = next_seq(db, "hub_seq", len(keys))
        db.conn.executemany(
            "UPDATE _rowmeta SET hub_seq = ? WHERE tbl = ? AND row_id = ?",
            [(first + i, t, r) for i, (t, r) in enumerate(keys)],
        )
        # The hub pushes nothing: its rows carry no local_seq, so a snapshot of it has none.
        db.execute("UPDATE _rowmeta SET local_seq = NULL WHERE local_seq IS NOT NULL")
        for table in TABLES:
            if table.numbered:
                ids = [
                    r[0] for r in db.execute(f"SELECT id FROM {table.name} WHERE number IS NULL")
                ]
                assign_numbers(db, table.name, ids)


# -- convergence checks -------------------------------------------------------------------------


def checksums(db: Database) -> dict[str, str]:
    """Per replicated table, a SHA-256 of its live rows' content in id order.

    Equal on every converged replica; sync metadata and local-only tables are not included.
    """
    out: dict[str, str] = {}
    for table in TABLES:
        cols = ", ".join(["id", *_COLUMNS[table.name]])
        digest = hashlib.sha256()
        count = 0
        for row in db.execute(f"SELECT {cols} FROM {table.name} ORDER BY id"):
            digest.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode())
            digest.update(b"\n")
            count += 1
        out[table.name] = f"{count}:{digest.hexdigest()[:32]}"
    return out


# -- one exchange each way, as the protocol drives them ------------------------------------------


def accept_push(
    db: Database, site: str, batch: Sequence[tuple[int, RowState]], purge_horizon_ms: int = 0
) -> int:
    """Hub: apply a node's batch exactly once by ``(site, local_seq)``; returns the site's ack.

    Ops at or below the site's acknowledged seq were applied before (a retry) and are skipped;
    the batch and the new acknowledgement commit together.
    """
    with immediate(db):
        row = db.execute("SELECT acked_seq FROM _sites WHERE site_id = ?", [site]).fetchone()
        acked = int(row[0]) if row else 0
        fresh = [state for seq, state in batch if seq > acked]
        apply_states(db, fresh, purge_horizon_ms=purge_horizon_ms)
        crash_point("hub.push.before_commit")
        top = max([acked, *(seq for seq, _ in batch)])
        db.execute(
            "INSERT INTO _sites (site_id, acked_seq) VALUES (?, ?) "
            "ON CONFLICT (site_id) DO UPDATE SET acked_seq = excluded.acked_seq",
            [site, top],
        )
    return top


def acked_seq(db: Database, site: str) -> int:
    row = db.execute("SELECT acked_seq FROM _sites WHERE site_id = ?", [site]).fetchone()
    return int(row[0]) if row else 0


def mark_pushed(db: Database, seq: int) -> None:
    """Node: the hub has everything up to ``seq`` of this node's changes."""
    with immediate(db):
        meta_set(db, "pushed_seq", seq)


def apply_pull(db: Database, states: Sequence[RowState], upto: int) -> list[RowState]:
    """Node: merge a pulled batch and advance the cursor, in one transaction."""
    with immediate(db):
        changed = apply_states(db, states)
        crash_point("node.pull.before_commit")
        meta_set(db, "cursor", upto)
    crash_point("node.pull.after_commit")
    return changed


# -- snapshots: bootstrap of a fresh or stale node ----------------------------------------------


def make_snapshot(source: Path, target: Path) -> tuple[int, str]:
    """A consistent copy of the hub's store at ``target`` (``VACUUM INTO``), its ``hub_seq`` and
    epoch. Runs on its own connection, so it can run in a thread beside the hub's loop."""
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(str(source))
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("VACUUM INTO ?", [str(target)])
    finally:
        conn.close()
    snap = sqlite3.connect(str(target))
    try:
        meta = dict(snap.execute("SELECT key, value FROM _meta").fetchall())
        snap.execute("DELETE FROM _sites")  # the hub's own bookkeeping is not a node's business
        snap.commit()
    finally:
        snap.close()
    return int(meta.get("hub_seq", 0)), str(meta.get("epoch", ""))


def install_snapshot(
    db_file: Path, snapshot: Path, *, hub_seq: int, epoch: str, hub_id: str, site: str
) -> None:
    """Replace a node's store with a hub snapshot, keeping the node's own unpushed changes.

    The node's site id stays; its counters restart past everything in the snapshot, so nothing
    that came from the hub looks pending. Changes made here and not yet acknowledged are merged
    into the snapshot as local changes before the swap. The caller has closed every connection
    to ``db_file``; the swap is an atomic rename.
    """
    old = connect(db_file)
    try:
        acked = meta_int(old, "pushed_seq")
        counter = meta_int(old, "local_seq")
        mine, _ = pending(old, acked, 1_000_000)
        hlc = meta_get(old, "hlc") or ""
    finally:
        old.close()
    snap = connect(snapshot)
    try:
        with immediate(snap):
            # The hub's rows are not this node's changes; this node's seqs go on from its own
            # counter, never below what the hub acknowledged for this site.
            snap.execute("UPDATE _rowmeta SET local_seq = NULL WHERE local_seq IS NOT NULL")
            for key, value in (
                ("role", "node"), ("site_id", site), ("hub_id", hub_id), ("hub_epoch", epoch),
                ("cursor", hub_seq), ("local_seq", counter), ("pushed_seq", acked),
            ):  # fmt: skip
                meta_set(snap, key, value)
            if hlc > (meta_get(snap, "hlc") or ""):
                meta_set(snap, "hlc", hlc)
            snap.execute("DELETE FROM _meta WHERE key IN ('epoch', 'hub_seq', 'purge_seq')")
            apply_states(snap, [state for _, state in mine])
            first = next_seq(snap, "local_seq", len(mine)) if mine else 0
            snap.conn.executemany(
                "UPDATE _rowmeta SET local_seq = ? WHERE tbl = ? AND row_id = ?",
                [(first + i, s.table, s.row_id) for i, (_, s) in enumerate(mine)],
            )
        rebuild_search_index(snap)
        snap.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        snap.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    os.replace(snapshot, db_file)
    for suffix in ("-wal", "-shm"):
        Path(f"{snapshot}{suffix}").unlink(missing_ok=True)


# -- tombstones ---------------------------------------------------------------------------------


def purge_tombstones(db: Database, older_than_ms: int) -> int:
    """Hub: forget deletions older than ``older_than_ms``; returns how many were forgotten.

    A node whose cursor is below the highest purged ``hub_seq`` never saw some of them, so the
    hub sends it a snapshot instead of changes (``purge_seq``); and a row it still holds from
    before the horizon cannot come back through a push (``purge_horizon_ms``).
    """
    bound = f"{older_than_ms:012x}"
    with immediate(db):
        top = db.execute(
            "SELECT count(*), max(hub_seq) FROM _rowmeta WHERE cl % 2 = 0 AND base < ?", [bound]
        ).fetchone()
        if not top[0]:
            return 0
        db.execute("DELETE FROM _rowmeta WHERE cl % 2 = 0 AND base < ?", [bound])
        meta_set(db, "purge_seq", max(meta_int(db, "purge_seq"), int(top[1] or 0)))
        meta_set(db, "purge_horizon_ms", max(meta_int(db, "purge_horizon_ms"), older_than_ms))
    return int(top[0])


def checksums_snapshot(db_file: Path, key: str) -> tuple[int, int, dict[str, str]]:
    """``(counter, pending, checksums)`` read in one transaction on a connection of its own.

    ``key`` is ``cursor`` on a node and ``hub_seq`` on the hub: the checksums belong to exactly
    that point. Safe to run in a thread beside the connection the sync loop uses.
    """
    db = connect(db_file)
    try:
        db.execute("BEGIN")
        try:
            counter = meta_int(db, key)
            waiting = pending_count(db) if key == "cursor" else 0
            sums = checksums(db)
        finally:
            db.execute("COMMIT")
    finally:
        db.close()
    return counter, waiting, sums
