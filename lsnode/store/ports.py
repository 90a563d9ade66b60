"""The store's interfaces, as the domain sees them.

``lsnode.crm`` imports only this module from the store: typing protocols with no SQLite in
them, so every use case runs against the real SQLite implementation (``repos.py``) in tests and
could run against another one. Rows are plain dicts keyed by column name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Row = dict[str, Any]


class RowWriter(Protocol):
    """The write path (``lsnode.store.changes.Writer``): each call is one transaction.

    Calls inside ``with writer.transaction():`` commit together or not at all, so a use case
    that writes several rows never leaves half of them behind.
    """

    def transaction(self) -> AbstractContextManager[object]: ...

    def insert(self, table: str, values: Mapping[str, Any]) -> str: ...

    def insert_many(self, table: str, rows: Iterable[Mapping[str, Any]]) -> list[str]: ...

    def update(self, table: str, row_id: str, changes: Mapping[str, Any]) -> dict[str, Any]: ...

    def delete(self, table: str, row_id: str) -> None: ...


class ClientReader(Protocol):
    """Reads of the client base: counterparties with their contacts, cars and documents."""

    def counterparty(self, counterparty_id: str) -> Row | None: ...

    def counterparty_by_number(self, number: int) -> Row | None: ...

    def counterparties(self, ids: Sequence[str]) -> dict[str, Row]:
        """Several clients as a list shows them (id, number, names, INN, contact dates …)."""
        ...

    def contacts_of(
        self, counterparty_ids: Sequence[str], brief: bool = False
    ) -> dict[str, list[Row]]:
        """Phones and e-mails; ``brief``: only what a list shows."""
        ...

    def cars_of(self, counterparty_ids: Sequence[str], brief: bool = False) -> dict[str, list[Row]]:
        """Cars where the counterparty is owner, customer or trusted person (``brief``: as a list
        shows them — plate, VIN, make, model, year)."""
        ...

    def open_documents_of(self, counterparty_ids: Sequence[str]) -> dict[str, list[Row]]: ...

    def count_links(self, counterparty_id: str) -> dict[str, int]:
        """How many documents and traffic rows refer to the counterparty."""
        ...


class SearchIndex(Protocol):
    """Indexed look-ups behind the one search box; each returns counterparty ids, best first.

    Every method is bounded by ``limit`` and uses an index (B-tree range or FTS5): none scans
    the client base.
    """

    def by_phone_e164(self, e164: str, limit: int) -> list[str]: ...

    def by_phone_suffix(self, reversed_digits: str, limit: int) -> list[str]: ...

    def by_name_prefixes(self, tokens: Sequence[str], limit: int) -> list[str]: ...

    def by_plate_exact(self, plate_key: str, limit: int) -> list[str]: ...

    def by_vin_exact(self, vin: str, limit: int) -> list[str]: ...

    def by_car_fragment(self, fragment: str, limit: int) -> list[str]:
        """Counterparties linked to a car whose plate key or VIN contains ``fragment`` (≥ 3)."""
        ...
