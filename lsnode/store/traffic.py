"""SQLite implementations of ``TrafficReader`` and ``StaffReader`` (``ports.py``).

Lists come back with the names a screen shows next to each id (purpose, responsible employee,
client, document), joined here so a journal of 10,000 rows is one query, not 10,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from lsnode.store.ports import JournalQuery, Row
from lsnode.store.repos import _chunks, _marks, _prefix_upper, _rows

#: The journal's row: the traffic columns plus the names beside each id.
_LISTED = """
SELECT t.id, t.number, t.contact_type, t.department, t.purpose_id, t.contact_at, t.status,
       t.counterparty_id, t.phone, t.phone_e164, t.responsible_id, t.processed_by,
       t.registered_by, t.document_id, t.duration_s, t.note, t.make_model, t.queued_at,
       t.taken_at, t.processed_at, t.ignore_reason, t.loss_reason, t.origin, t.branch_id,
       t.extra_info, t.car_id, t.first_contact, t.plate, t.vin, t.region_id, t.info_source_id,
       p.short_name AS purpose_name, p.code AS purpose_code,
       r.short_name AS responsible_name, r.presence AS responsible_presence,
       pb.short_name AS processed_by_name, rb.short_name AS registered_by_name,
       c.short_name AS client_name, c.full_name AS client_full_name,
       d.doc_no AS document_no,
       (SELECT count(*) FROM traffic_switches s WHERE s.traffic_id = t.id) AS switch_count
FROM traffic t
LEFT JOIN contact_purposes p ON p.id = t.purpose_id
LEFT JOIN employees r ON r.id = t.responsible_id
LEFT JOIN employees pb ON pb.id = t.processed_by
LEFT JOIN employees rb ON rb.id = t.registered_by
LEFT JOIN counterparties c ON c.id = t.counterparty_id
LEFT JOIN documents d ON d.id = t.document_id
"""
#: The journal's table row (``journal_brief``): no joins to employees or purposes.
_BRIEF = """
SELECT t.id, t.number, t.contact_type, t.purpose_id, t.contact_at, t.status, t.counterparty_id,
       t.phone, t.responsible_id, t.processed_by, t.document_id, t.duration_s, t.note,
       c.short_name AS client_name, d.doc_no AS document_no,
       (SELECT count(*) FROM traffic_switches s WHERE s.traffic_id = t.id) AS switch_count
FROM traffic t
LEFT JOIN counterparties c ON c.id = t.counterparty_id
LEFT JOIN documents d ON d.id = t.document_id
"""
_OPEN = "('new', 'in_work')"
_REFERENCE = frozenset({"regions", "branches", "info_sources", "counterparty_groups"})


def _in(column: str, values: Sequence[str], where: list[str], params: list[Any]) -> None:
    where.append(f"{column} IN ({_marks(len(values))})")
    params.extend(values)


def _journal_where(q: JournalQuery) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    scope = []
    if "mine" in q.scope and q.me:
        scope.append("t.responsible_id = ?")
        params.append(q.me)
    if "others" in q.scope:
        if q.me:
            scope.append("(t.responsible_id IS NOT NULL AND t.responsible_id != ?)")
            params.append(q.me)
        else:
            scope.append("t.responsible_id IS NOT NULL")
    if "unassigned" in q.scope:
        scope.append("t.responsible_id IS NULL")
    where.append(f"({' OR '.join(scope)})" if scope else "0")
    if q.contact_types:
        _in("t.contact_type", sorted(q.contact_types), where, params)
    if q.purpose_ids:
        _in("t.purpose_id", sorted(q.purpose_ids), where, params)
    if q.statuses:
        _in("t.status", sorted(q.statuses), where, params)
    if q.employee_id:
        where.append("(t.responsible_id = ? OR t.processed_by = ?)")
        params += [q.employee_id, q.employee_id]
    if q.date_from:
        where.append("t.contact_at >= ?")
        params.append(q.date_from)
    if q.date_to:
        where.append("t.contact_at < ?")
        params.append(q.date_to)
    if q.counterparty_id:
        where.append("t.counterparty_id = ?")
        params.append(q.counterparty_id)
    if q.number is not None:
        where.append("t.number = ?")
        params.append(q.number)
    if q.branch_id:
        where.append("t.branch_id = ?")
        params.append(q.branch_id)
    if q.client_name_key:
        # Word prefixes of the client's name, through the name index (never a LIKE scan).
        where.append(
            "t.counterparty_id IN (SELECT id FROM counterparties WHERE rowid IN "
            "(SELECT rowid FROM counterparty_fts WHERE counterparty_fts MATCH ?))"
        )
        params.append(" ".join(f'"{w}"*' for w in q.client_name_key.replace('"', " ").split()))
    if q.phone_e164:
        where.append(
            "(t.phone_e164 = ? OR t.counterparty_id IN "
            "(SELECT counterparty_id FROM contacts WHERE phone_e164 = ?))"
        )
        params += [q.phone_e164, q.phone_e164]
    elif q.phone_suffix:
        where.append(
            "t.counterparty_id IN (SELECT counterparty_id FROM contacts "
            "WHERE phone_rev >= ? AND phone_rev < ?)"
        )
        params += [q.phone_suffix, _prefix_upper(q.phone_suffix)]
    return " AND ".join(where), params


class SqliteTraffic:
    """``TrafficReader`` and ``StaffReader`` over one store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- traffic ----------------------------------------------------------------------------

    def traffic(self, traffic_id: str) -> Row | None:
        rows = _rows(self.db, _LISTED + "WHERE t.id = ?", [traffic_id])
        return rows[0] if rows else None

    def traffic_by_number(self, number: int) -> Row | None:
        rows = _rows(self.db, _LISTED + "WHERE t.number = ?", [number])
        return rows[0] if rows else None

    def journal(self, query: JournalQuery) -> tuple[list[Row], int]:
        where, params = _journal_where(query)
        total = self.db.execute(f"SELECT count(*) FROM traffic t WHERE {where}", params).fetchone()
        rows = _rows(
            self.db,
            f"{_LISTED} WHERE {where} ORDER BY t.contact_at DESC, t.id DESC LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        return rows, int(total[0])

    def journal_brief(self, query: JournalQuery) -> tuple[list[Row], int]:
        """``journal`` with only what the journal's table shows, for 10,000 rows at once: the
        traffic's own columns, the client's and the document's names and the switch count.
        Employee and purpose names are left to the caller (a few dozen rows it already has)."""
        where, params = _journal_where(query)
        total = self.db.execute(f"SELECT count(*) FROM traffic t WHERE {where}", params).fetchone()
        rows = _rows(
            self.db,
            f"{_BRIEF} WHERE {where} ORDER BY t.contact_at DESC, t.id DESC LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        return rows, int(total[0])

    def queue(self, department: str | None = None) -> list[Row]:
        sql = _LISTED + "WHERE t.status = 'new' AND t.queued_at IS NOT NULL"
        params: list[Any] = []
        if department:
            sql += " AND t.department = ?"
            params.append(department)
        return _rows(self.db, sql + " ORDER BY t.queued_at, t.id", params)

    def inbox(self, employee_id: str) -> list[Row]:
        return _rows(
            self.db,
            _LISTED + "WHERE t.responsible_id = ? AND t.status = 'new' ORDER BY t.contact_at",
            [employee_id],
        )

    def unprocessed_count(self, employee_id: str) -> int:
        row = self.db.execute(
            f"SELECT count(*) FROM traffic WHERE responsible_id = ? AND status IN {_OPEN}",
            [employee_id],
        ).fetchone()
        return int(row[0])

    def history(self, traffic_id: str) -> list[Row]:
        return _rows(
            self.db,
            "SELECT e.*, emp.short_name AS employee_name FROM traffic_events e "
            "LEFT JOIN employees emp ON emp.id = e.employee_id "
            "WHERE e.traffic_id = ? ORDER BY e.at, e.id",
            [traffic_id],
        )

    def switches(self, traffic_ids: Sequence[str]) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {t: [] for t in traffic_ids}
        for chunk in _chunks(list(traffic_ids)):
            for row in _rows(
                self.db,
                "SELECT s.*, f.short_name AS from_name, t.short_name AS to_name "
                "FROM traffic_switches s "
                "LEFT JOIN employees f ON f.id = s.from_employee_id "
                "LEFT JOIN employees t ON t.id = s.to_employee_id "
                f"WHERE s.traffic_id IN ({_marks(len(chunk))}) ORDER BY s.started_at, s.id",
                chunk,
            ):
                out[row["traffic_id"]].append(row)
        return out

    def recent_queue_waits_s(self, department: str, limit: int) -> list[int]:
        rows = self.db.execute(
            "SELECT CAST(round((julianday(taken_at) - julianday(queued_at)) * 86400) AS INTEGER) "
            "FROM traffic WHERE department = ? AND queued_at IS NOT NULL AND taken_at IS NOT NULL "
            "ORDER BY taken_at DESC LIMIT ?",
            [department, limit],
        ).fetchall()
        return [max(0, int(r[0])) for r in rows if r[0] is not None]

    def has_traffic(self, counterparty_id: str, before: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM traffic WHERE counterparty_id = ? AND contact_at < ? LIMIT 1",
            [counterparty_id, before],
        ).fetchone()
        return row is not None

    def stale(self, purpose_id: str, before: str, limit: int) -> list[str]:
        rows = self.db.execute(
            f"SELECT id FROM traffic WHERE purpose_id = ? AND status IN {_OPEN} "
            "AND contact_at < ? ORDER BY contact_at LIMIT ?",
            [purpose_id, before, limit],
        ).fetchall()
        return [r[0] for r in rows]

    # -- staff and reference lists ----------------------------------------------------------

    def employee(self, employee_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM employees WHERE id = ?", [employee_id])
        return rows[0] if rows else None

    def employees(self, active_only: bool = True) -> list[Row]:
        where = "WHERE active = 1 " if active_only else ""
        return _rows(self.db, f"SELECT * FROM employees {where}ORDER BY surname, given_name, id")

    def employee_counts(self, day_start: str) -> dict[str, tuple[int, int]]:
        open_rows = self.db.execute(
            f"SELECT responsible_id, count(*) FROM traffic WHERE status IN {_OPEN} "
            "AND responsible_id IS NOT NULL GROUP BY responsible_id"
        ).fetchall()
        moved = self.db.execute(
            "SELECT to_employee_id, count(*) FROM traffic_switches WHERE started_at >= ? "
            "AND to_employee_id IS NOT NULL GROUP BY to_employee_id",
            [day_start],
        ).fetchall()
        counts: dict[str, tuple[int, int]] = {}
        for emp, n in open_rows:
            counts[emp] = (int(n), 0)
        for emp, n in moved:
            counts[emp] = (counts.get(emp, (0, 0))[0], int(n))
        return counts

    def purpose(self, purpose_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM contact_purposes WHERE id = ?", [purpose_id])
        return rows[0] if rows else None

    def purposes(self, include_disabled: bool = False) -> list[Row]:
        where = "" if include_disabled else "WHERE enabled = 1 "
        return _rows(
            self.db,
            f"SELECT * FROM contact_purposes {where}ORDER BY department, direction, code, id",
        )

    def reference(self, table: str) -> list[Row]:
        if table not in _REFERENCE:
            raise ValueError(f"not a reference list: {table}")
        return _rows(self.db, f"SELECT id, name FROM {table} ORDER BY name, id")

    def document(self, document_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM documents WHERE id = ?", [document_id])
        return rows[0] if rows else None
