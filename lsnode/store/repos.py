"""SQLite implementations of the store's ports (``ports.py``) for the client base and search.

Every search method is a single indexed look-up bounded by ``limit``: B-tree equality or range on
normalised columns, or FTS5 (unicode61 with prefix indexes for names, trigram for plate and VIN
substrings). ``bench/search.py`` measures them against a plain ``LIKE '%…%'`` scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlite_utils import Database

from lsnode.store.ports import Row

_CAR_LINKS = ("owner_id", "customer_id", "trusted_person_id")
#: SQLite's default limit on host parameters is 32766; stay far below it.
_CHUNK = 500
_BRIEF = ", ".join(
    (
        "id", "number", "kind", "full_name", "short_name", "name_key", "inn", "group_id",
        "registered_at", "last_in_contact_at", "last_out_contact_at", "note",
        "consent_sms", "consent_email",
    )
)  # fmt: skip
_BRIEF_CONTACT = "id, counterparty_id, kind, value, phone_e164, valid, note, created_at"
_BRIEF_CAR = (
    "id, number, plate, plate_key, vin, make, model, modification, year, mileage, owner_id, "
    "customer_id, trusted_person_id"
)


def _rows(db: Database, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    cur = db.conn.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _fts_phrase(text: str) -> str:
    """Quote a user's text as one FTS5 string, so no character of it is FTS syntax."""
    return '"' + text.replace('"', '""') + '"'


def _prefix_upper(prefix: str) -> str:
    """The least string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _unique(values: Iterable[str | None], limit: int) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v and v not in seen:
            seen[v] = None
            if len(seen) >= limit:
                break
    return list(seen)


class SqliteClients:
    """``ClientReader`` and ``SearchIndex`` over one store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- ClientReader ---------------------------------------------------------------------
    def counterparty(self, counterparty_id: str) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM counterparties WHERE id = ?", [counterparty_id])
        return rows[0] if rows else None

    def counterparty_by_number(self, number: int) -> Row | None:
        rows = _rows(self.db, "SELECT * FROM counterparties WHERE number = ?", [number])
        return rows[0] if rows else None

    def counterparties(self, ids: Sequence[str]) -> dict[str, Row]:
        """The list view of several clients (what a search hit shows; the card reads all)."""
        out: dict[str, Row] = {}
        for part in _chunks(ids):
            sql = f"SELECT {_BRIEF} FROM counterparties WHERE id IN ({_marks(len(part))})"
            out.update((r["id"], r) for r in _rows(self.db, sql, part))
        return out

    def contacts_of(
        self, counterparty_ids: Sequence[str], brief: bool = False
    ) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {i: [] for i in counterparty_ids}
        cols = _BRIEF_CONTACT if brief else "*"
        for part in _chunks(counterparty_ids):
            sql = (
                f"SELECT {cols} FROM contacts WHERE counterparty_id IN ({_marks(len(part))}) "
                "ORDER BY kind DESC, created_at, id"
            )
            for r in _rows(self.db, sql, part):
                out[r["counterparty_id"]].append(r)
        return out

    def cars_of(self, counterparty_ids: Sequence[str], brief: bool = False) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {i: [] for i in counterparty_ids}
        cols = _BRIEF_CAR if brief else "cars.*"
        for part in _chunks(counterparty_ids):
            # One indexed look-up per link column; a car linked twice to one client shows once.
            sql = " UNION ALL ".join(
                f"SELECT '{link}' AS link, {link} AS cp, {cols} FROM cars "
                f"WHERE {link} IN ({_marks(len(part))})"
                for link in _CAR_LINKS
            )
            rows = _rows(self.db, sql, list(part) * len(_CAR_LINKS))
            rows.sort(key=lambda r: (-(r["year"] or 0), r["id"]))
            for r in rows:
                cars = out[r.pop("cp")]
                link = r.pop("link")
                for car in cars:
                    if car["id"] == r["id"]:
                        car["links"].append(link)
                        break
                else:
                    r["links"] = [link]
                    cars.append(r)
        return out

    def open_documents_of(self, counterparty_ids: Sequence[str]) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {i: [] for i in counterparty_ids}
        for part in _chunks(counterparty_ids):
            sql = (
                f"SELECT * FROM documents WHERE counterparty_id IN ({_marks(len(part))}) "
                "AND is_open = 1 ORDER BY doc_date DESC, id"
            )
            for r in _rows(self.db, sql, part):
                out[r["counterparty_id"]].append(r)
        return out

    def documents_of(self, counterparty_id: str, limit: int = 500) -> list[Row]:
        """The client's documents for the card: open ones first, then newest first, with the
        employee's name."""
        return _rows(
            self.db,
            "SELECT d.*, e.short_name AS employee_name FROM documents d "
            "LEFT JOIN employees e ON e.id = d.employee_id WHERE d.counterparty_id = ? "
            "ORDER BY d.is_open DESC, d.doc_date DESC, d.id LIMIT ?",
            [counterparty_id, limit],
        )

    def lines_of(self, counterparty_id: str) -> dict[str, Row]:
        """CRM status and ABC letters per business line (``counterparty_lines``); a line the
        client has no row for is absent (its status is «Не установлен»)."""
        rows = _rows(
            self.db,
            "SELECT * FROM counterparty_lines WHERE counterparty_id = ? ORDER BY updated_at",
            [counterparty_id],
        )
        return {r["business_line"]: r for r in rows}

    def count_links(self, counterparty_id: str) -> dict[str, int]:
        docs = self.db.execute(
            "SELECT count(*) FROM documents WHERE counterparty_id = ?", [counterparty_id]
        ).fetchone()[0]
        traffic = self.db.execute(
            "SELECT count(*) FROM traffic WHERE counterparty_id = ?", [counterparty_id]
        ).fetchone()[0]
        return {"documents": int(docs), "traffic": int(traffic)}

    # -- SearchIndex ----------------------------------------------------------------------
    def by_phone_e164(self, e164: str, limit: int) -> list[str]:
        cur = self.db.execute(
            "SELECT counterparty_id FROM contacts WHERE phone_e164 = ? LIMIT ?", [e164, limit * 4]
        )
        return _unique((r[0] for r in cur), limit)

    def by_phone_suffix(self, reversed_digits: str, limit: int) -> list[str]:
        cur = self.db.execute(
            "SELECT counterparty_id FROM contacts WHERE phone_rev >= ? AND phone_rev < ? "
            "ORDER BY phone_rev LIMIT ?",
            [reversed_digits, _prefix_upper(reversed_digits), limit * 4],
        )
        return _unique((r[0] for r in cur), limit)

    def by_name_prefixes(self, tokens: Sequence[str], limit: int) -> list[str]:
        # Names are mostly typed surname first: a B-tree range on the whole key gives those
        # alphabetically and stops at ``limit``; FTS then adds any-word-order prefix matches
        # (in table order — ranking thousands of «Ива…» by bm25 would cost a sort of them all).
        phrase = " ".join(tokens)
        cur = self.db.execute(
            "SELECT id FROM counterparties WHERE name_key >= ? AND name_key < ? "
            "ORDER BY name_key LIMIT ?",
            [phrase, _prefix_upper(phrase), limit],
        )
        ids = [r[0] for r in cur]
        if len(ids) < limit:
            match = " ".join(_fts_phrase(t) + "*" for t in tokens)
            cur = self.db.execute(
                "SELECT c.id FROM counterparty_fts f JOIN counterparties c ON c.rowid = f.rowid "
                "WHERE counterparty_fts MATCH ? LIMIT ?",
                [match, limit * 2],
            )
            ids = _unique([*ids, *(r[0] for r in cur)], limit)
        return ids

    def _car_owners(self, sql: str, params: list[Any], limit: int) -> list[str]:
        cur = self.db.execute(sql, [*params, limit * 2])
        return _unique((cp for row in cur for cp in row), limit)

    def by_plate_exact(self, plate_key: str, limit: int) -> list[str]:
        links = ", ".join(_CAR_LINKS)
        sql = f"SELECT {links} FROM cars WHERE plate_key = ? LIMIT ?"
        return self._car_owners(sql, [plate_key], limit)

    def by_vin_exact(self, vin: str, limit: int) -> list[str]:
        links = ", ".join(_CAR_LINKS)
        return self._car_owners(f"SELECT {links} FROM cars WHERE vin = ? LIMIT ?", [vin], limit)

    def by_car_fragment(self, fragment: str, limit: int) -> list[str]:
        links = ", ".join(f"c.{x}" for x in _CAR_LINKS)
        sql = (
            f"SELECT {links} FROM car_fts f JOIN cars c ON c.rowid = f.rowid "
            "WHERE car_fts MATCH ? LIMIT ?"
        )
        return self._car_owners(sql, [_fts_phrase(fragment)], limit)
