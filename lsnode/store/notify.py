"""The notification tables over one SQLite store: reads as plain rows, writes through ``Writer``.

Every write of a replicated row goes through ``lsnode.store.changes.Writer`` (rows and their
change capture commit together); reads are single indexed queries, joined so that ten thousand
reminders cost one query, not ten thousand. The domain modules (``rules``, ``outbox``,
``admin``, ``appointments``) take this object as their store port.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Final

from sqlite_utils import Database

from lsnode.clock import Clock, iso
from lsnode.errors import NotFound
from lsnode.store.changes import Writer

Row = dict[str, Any]
_CHUNK: Final = 400
_SETTINGS_NS: Final = uuid.UUID("0b1f8f5e-6d1a-4c4e-9a53-6c7a5e1d0a01")

#: The columns of an appointment / document as rules read it, joined with client, car, adviser.
_DOC_JOIN: Final = """
SELECT d.id AS document_id, d.doc_type, d.doc_no, d.status, d.status_at, d.visit_at,
       d.appointment_kind, d.employee_id, d.created_at AS doc_created_at,
       c.id AS counterparty_id, c.kind AS party_kind, c.full_name, c.given_name, c.patronymic,
       c.manager_id,
       car.make, car.model, car.modification, car.plate, car.vin,
       e.short_name AS adviser
FROM documents d
LEFT JOIN counterparties c ON c.id = d.counterparty_id
LEFT JOIN cars car ON car.id = d.car_id
LEFT JOIN employees e ON e.id = d.employee_id
"""

_PARTY_SELECT: Final = """
SELECT NULL AS document_id, NULL AS doc_type, '' AS doc_no, '' AS status, NULL AS status_at,
       NULL AS visit_at, '' AS appointment_kind, NULL AS employee_id, NULL AS doc_created_at,
       id AS counterparty_id, kind AS party_kind, full_name, given_name, patronymic, manager_id,
       NULL AS make, NULL AS model, NULL AS modification, NULL AS plate, NULL AS vin,
       NULL AS adviser
FROM counterparties
"""


def setting_id(key: str) -> str:
    """Settings rows have ids derived from their key: two nodes creating one converge."""
    return str(uuid.uuid5(_SETTINGS_NS, key))


def _rows(db: Database, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    cur = db.conn.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class NotifyStore:
    """The store port of ``lsnode.notify`` over one database."""

    def __init__(self, db: Database, clock: Clock | None = None, writer: Writer | None = None):
        self.db = db
        if writer is None:
            writer = Writer(db) if clock is None else Writer(db, clock=_iso_of(clock))
        self.writer = writer

    def transaction(self) -> AbstractContextManager[object]:
        return self.writer.transaction()

    # -- settings ----------------------------------------------------------------------------
    def settings(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in _rows(self.db, "SELECT key, value FROM settings")}

    def set_setting(self, key: str, value: str) -> None:
        sid = setting_id(key)
        with self.transaction():
            if self.db.execute("SELECT 1 FROM settings WHERE id = ?", [sid]).fetchone():
                self.writer.update("settings", sid, {"value": value})
            else:
                self.writer.insert("settings", {"id": sid, "key": key, "value": value})

    # -- configuration -----------------------------------------------------------------------
    def channels(self) -> list[Row]:
        return _rows(self.db, "SELECT * FROM notify_channels ORDER BY kind, created_at, id")

    def channel(self, channel_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM notify_channels WHERE id = ?", [channel_id])
        return rows[0] if rows else None

    def templates(self) -> list[Row]:
        return _rows(self.db, "SELECT * FROM notify_templates ORDER BY category, type, name, id")

    def template(self, template_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM notify_templates WHERE id = ?", [template_id])
        return rows[0] if rows else None

    def rules(self) -> list[Row]:
        return _rows(self.db, "SELECT * FROM notify_rules ORDER BY created_at, id")

    def rule(self, rule_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM notify_rules WHERE id = ?", [rule_id])
        return rows[0] if rows else None

    def first_branch_address(self) -> str:
        row = self.db.execute(
            "SELECT address FROM branches WHERE coalesce(address, '') != '' "
            "ORDER BY created_at, id LIMIT 1"
        ).fetchone()
        return str(row[0]) if row else ""

    # -- what rules read ---------------------------------------------------------------------
    def visits_between(self, start: str, end: str) -> list[Row]:
        """Appointments whose visit is in ``[start, end)`` (UTC ISO), with client, car, adviser."""
        return _rows(
            self.db,
            _DOC_JOIN + "WHERE d.visit_at >= ? AND d.visit_at < ? AND d.doc_type = 'appointment' "
            "ORDER BY d.visit_at, d.id",
            [start, end],
        )

    def status_changes_since(self, since: str, doc_types: Sequence[str]) -> list[Row]:
        """Documents of ``doc_types`` whose status changed at or after ``since``."""
        return _rows(
            self.db,
            _DOC_JOIN + f"WHERE d.status_at >= ? AND d.doc_type IN ({_marks(len(doc_types))}) "
            "ORDER BY d.status_at, d.id",
            [since, *doc_types],
        )

    def document_rows(self, ids: Sequence[str]) -> list[Row]:
        """Documents as rules read them (for previews on real data)."""
        return _rows(self.db, _DOC_JOIN + f"WHERE d.id IN ({_marks(len(ids))})", list(ids))

    def latest_appointment_rows(self, limit: int) -> list[Row]:
        return _rows(
            self.db,
            _DOC_JOIN + "WHERE d.visit_at IS NOT NULL ORDER BY d.visit_at DESC LIMIT ?",
            [limit],
        )

    def recent_document_rows(self, doc_types: Sequence[str], limit: int) -> list[Row]:
        """The latest documents of ``doc_types`` (by visit, status change, date): what a
        template's preview offers as real data."""
        return _rows(
            self.db,
            _DOC_JOIN + f"WHERE d.doc_type IN ({_marks(len(doc_types))}) "
            "ORDER BY coalesce(d.visit_at, d.status_at, d.doc_date) DESC, d.id DESC LIMIT ?",
            [*doc_types, limit],
        )

    def party_rows(self, ids: Sequence[str]) -> list[Row]:
        """Counterparties shaped like document rows (no document, no car)."""
        return _rows(
            self.db,
            _PARTY_SELECT + f"WHERE id IN ({_marks(len(ids))}) ORDER BY id",
            list(ids),
        )

    def birthdays(self, month_days: Sequence[str]) -> list[Row]:
        """Counterparties born on one of ``month_days`` («12-04»), with no document."""
        likes = " OR ".join("birth_date LIKE ?" for _ in month_days)
        return _rows(
            self.db,
            _PARTY_SELECT + f"WHERE birth_date IS NOT NULL AND ({likes}) ORDER BY id",
            [f"%-{md}" for md in month_days],
        )

    def addresses_of(self, counterparty_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """The first valid phone (mobile first) and e-mail of each counterparty."""
        out: dict[str, dict[str, str]] = {}
        unique = list(dict.fromkeys(i for i in counterparty_ids if i))
        for part in _chunks(unique):
            for r in _rows(
                self.db,
                "SELECT counterparty_id, kind, value, phone_e164 FROM contacts "
                f"WHERE counterparty_id IN ({_marks(len(part))}) AND valid = 1 "
                "ORDER BY kind, (phone_e164 LIKE '+79%') DESC, created_at, id",
                part,
            ):
                have = out.setdefault(r["counterparty_id"], {})
                value = r["phone_e164"] or r["value"] if r["kind"] == "phone" else r["value"]
                have.setdefault(r["kind"], value)
        return out

    def counterparty(self, counterparty_id: str) -> Row | None:
        rows = _rows(
            self.db,
            "SELECT id, kind, full_name, consent_sms, consent_email, consent_phone_survey, "
            "manager_id FROM counterparties WHERE id = ?",
            [counterparty_id],
        )
        return rows[0] if rows else None

    def employees(self, ids: Sequence[str] = (), roles: Sequence[str] = ()) -> list[Row]:
        if not ids and not roles:
            return []
        clauses, params = [], []
        if ids:
            clauses.append(f"id IN ({_marks(len(ids))})")
            params += list(ids)
        if roles:
            clauses.append(f"role IN ({_marks(len(roles))})")
            params += list(roles)
        return _rows(
            self.db,
            f"SELECT id, short_name, role FROM employees WHERE active = 1 AND "
            f"({' OR '.join(clauses)}) ORDER BY short_name, id",
            params,
        )

    def employee(self, employee_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM employees WHERE id = ?", [employee_id])
        return rows[0] if rows else None

    def document(self, document_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM documents WHERE id = ?", [document_id])
        return rows[0] if rows else None

    # -- the outbox --------------------------------------------------------------------------
    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in _chunks(list(keys)):
            found.update(
                r[0]
                for r in self.db.execute(
                    f"SELECT idem_key FROM notify_messages WHERE idem_key IN ({_marks(len(part))})",
                    list(part),
                )
            )
        return found

    def insert_many(self, table: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        return self.writer.insert_many(table, rows)

    def insert(self, table: str, row: Mapping[str, Any]) -> str:
        return self.writer.insert(table, row)

    def update(self, table: str, row_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        return self.writer.update(table, row_id, changes)

    def delete(self, table: str, row_id: str) -> None:
        self.writer.delete(table, row_id)

    def due(self, now: str, limit: int) -> list[Row]:
        """Pending deliveries whose time has come, oldest first (and leases run out)."""
        return _rows(
            self.db,
            "SELECT * FROM notify_addressees WHERE status IN ('pending', 'sending') "
            "AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
            [now, limit],
        )

    def addressee(self, addressee_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM notify_addressees WHERE id = ?", [addressee_id])
        return rows[0] if rows else None

    def message(self, message_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM notify_messages WHERE id = ?", [message_id])
        return rows[0] if rows else None

    def message_by_number(self, number: int) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM notify_messages WHERE number = ?", [number])
        return rows[0] if rows else None

    def attempts(self, addressee_id: str) -> list[Row]:
        return _rows(
            self.db,
            "SELECT * FROM notify_attempts WHERE addressee_id = ? ORDER BY at, id",
            [addressee_id],
        )

    # -- the journal -------------------------------------------------------------------------
    def journal(
        self,
        *,
        category: str | None = None,
        type_: str | None = None,
        created_from: str | None = None,
        created_to: str | None = None,
        number: int | None = None,
        counterparty_id: str | None = None,
        channel_kind: str | None = None,
        unsent_only: bool = False,
        limit: int = 1000,
    ) -> list[Row]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("m.category", category),
            ("m.type", type_),
            ("m.number", number),
            ("m.counterparty_id", counterparty_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if created_from:
            clauses.append("m.created_at >= ?")
            params.append(created_from)
        if created_to:
            clauses.append("m.created_at < ?")
            params.append(created_to)
        exists = []
        if unsent_only:
            exists.append("a.sent_at IS NULL AND a.delivered_at IS NULL")
        if channel_kind:
            exists.append("a.channel_kind = ?")
            params.append(channel_kind)
        if exists:
            clauses.append(
                "EXISTS (SELECT 1 FROM notify_addressees a WHERE a.message_id = m.id AND "
                + " AND ".join(exists)
                + ")"
            )
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return _rows(
            self.db,
            "SELECT m.*, t.name AS template_name FROM notify_messages m "
            f"LEFT JOIN notify_templates t ON t.id = m.template_id {where} "
            "ORDER BY m.created_at DESC, m.id DESC LIMIT ?",
            [*params, limit],
        )

    def addressees_of(self, message_ids: Sequence[str]) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {i: [] for i in message_ids}
        for part in _chunks(list(message_ids)):
            for r in _rows(
                self.db,
                f"SELECT * FROM notify_addressees WHERE message_id IN ({_marks(len(part))}) "
                "ORDER BY created_at, id",
                part,
            ):
                out[r["message_id"]].append(r)
        return out

    def messages_of_document(self, document_id: str, limit: int = 50) -> list[Row]:
        """The messages made for one document (an appointment's confirmation, reminders),
        newest first, with their template's name."""
        return _rows(
            self.db,
            "SELECT m.*, t.name AS template_name FROM notify_messages m "
            "LEFT JOIN notify_templates t ON t.id = m.template_id WHERE m.document_id = ? "
            "ORDER BY m.created_at DESC, m.id DESC LIMIT ?",
            [document_id, limit],
        )

    def lan_messages(self, employee_id: str, unread_only: bool = True) -> list[Row]:
        extra = "AND read_at IS NULL " if unread_only else ""
        return _rows(
            self.db,
            f"SELECT * FROM lan_messages WHERE employee_id = ? {extra}ORDER BY created_at DESC",
            [employee_id],
        )

    def tasks_of(self, employee_id: str, open_only: bool = True) -> list[Row]:
        extra = "AND done_at IS NULL " if open_only else ""
        return _rows(
            self.db,
            f"SELECT * FROM tasks WHERE employee_id = ? {extra}ORDER BY due_at, id",
            [employee_id],
        )

    def counts(self) -> dict[str, int]:
        return {
            r[0]: int(r[1])
            for r in self.db.execute(
                "SELECT status, count(*) FROM notify_addressees GROUP BY status"
            )
        }

    def require(self, row: Row | None, what: str) -> Row:
        if row is None:
            raise NotFound(f"no such {what}")
        return row

    @staticmethod
    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    @staticmethod
    def loads(text: str | None) -> dict[str, Any]:
        try:
            value = json.loads(text or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


def _iso_of(clock: Clock) -> Callable[[], str]:
    def stamp() -> str:
        now: datetime = clock()
        return iso(now)

    return stamp
