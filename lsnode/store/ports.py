"""The store's interfaces, as the domain sees them.

``lsnode.crm`` imports only this module from the store: typing protocols with no SQLite in
them, so every use case runs against the real SQLite implementation (``repos.py``) in tests and
could run against another one. Rows are plain dicts keyed by column name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """The traffic journal's filters (Журнал входящего трафика); ``None``/empty: no filter.

    ``scope`` is the brochure's «показать мой / чужой / нераспределенный трафик» as a set of
    ``"mine"``, ``"others"``, ``"unassigned"`` seen from ``me``; the caller has already cut it
    down to what the signed-in employee's rights allow.
    """

    me: str | None = None
    scope: frozenset[str] = frozenset({"mine", "others", "unassigned"})
    contact_types: frozenset[str] = frozenset()
    purpose_ids: frozenset[str] = frozenset()
    employee_id: str | None = None  # responsible or processed by
    statuses: frozenset[str] = frozenset()
    date_from: str | None = None  # UTC ISO instants, inclusive / exclusive
    date_to: str | None = None
    number: int | None = None
    branch_id: str | None = None
    client_name_key: str = ""  # a normalised name prefix (lsnode.crm.normalize.name_key)
    phone_e164: str | None = None
    phone_suffix: str = ""  # last digits, reversed (as contacts.phone_rev)
    counterparty_id: str | None = None  # one client's traffic (the client card's events)
    limit: int = 10_000
    offset: int = 0


class TrafficReader(Protocol):
    """Reads of the traffic tables with the names a screen shows beside the ids."""

    def traffic(self, traffic_id: str) -> Row | None: ...

    def traffic_by_number(self, number: int) -> Row | None: ...

    def journal(self, query: JournalQuery) -> tuple[list[Row], int]:
        """Rows (newest first) with purpose, employee, client and document names; and the
        total that matches before ``limit``."""
        ...

    def queue(self, department: str | None = None) -> list[Row]:
        """The waiting queue, longest waiting first."""
        ...

    def inbox(self, employee_id: str) -> list[Row]:
        """Traffic assigned to the employee and not yet taken: what the popup announces."""
        ...

    def unprocessed_count(self, employee_id: str) -> int: ...

    def history(self, traffic_id: str) -> list[Row]: ...

    def switches(self, traffic_ids: Sequence[str]) -> dict[str, list[Row]]: ...

    def recent_queue_waits_s(self, department: str, limit: int) -> list[int]:
        """How long the last visitors taken from the queue had waited, newest first."""
        ...

    def has_traffic(self, counterparty_id: str, before: str) -> bool: ...

    def stale(self, purpose_id: str, before: str, limit: int) -> list[str]:
        """Unprocessed traffic of the purpose registered before ``before`` (auto-ignore)."""
        ...


class StaffReader(Protocol):
    """Employees, contact purposes and the small reference lists of the registration form."""

    def employee(self, employee_id: str) -> Row | None: ...

    def employees(self, active_only: bool = True) -> list[Row]: ...

    def employee_counts(self, day_start: str) -> dict[str, tuple[int, int]]:
        """Per employee: (unprocessed traffic, transferred to them since ``day_start``)."""
        ...

    def purpose(self, purpose_id: str) -> Row | None: ...

    def purposes(self, include_disabled: bool = False) -> list[Row]: ...

    def reference(self, table: str) -> list[Row]:
        """``regions``, ``branches``, ``info_sources``, ``counterparty_groups``: id and name."""
        ...

    def document(self, document_id: str) -> Row | None: ...
