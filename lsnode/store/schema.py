"""The replicated tables and their columns, as data.

One description serves the migrations (``migrations.py``), the write path (``changes.py``, which
refuses unknown tables and columns) and later the sync layer (which validates remote ops against
it). Every replicated table has a UUIDv7 text ``id``, ``created_at``/``updated_at`` as ISO 8601
UTC text, and — where people quote numbers aloud — a nullable ``number`` the hub assigns on
accept (ARCHITECTURE.md «Sync rules»).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

#: Columns every replicated table has; written by the store, not by callers.
COMMON: Final = ("id", "created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: dict[str, str]  # column -> SQL type incl. constraints, beyond COMMON
    numbered: bool = False  # has a hub-assigned human ``number``
    indexes: tuple[tuple[str, ...], ...] = ()
    since: int = 1  # the schema version whose migration creates the table
    added: dict[str, int] = field(default_factory=dict)  # column -> version that adds it later

    def columns_at(self, version: int) -> dict[str, str]:
        """The columns as the migration of ``version`` knew them (applied migrations are fixed)."""
        return {c: d for c, d in self.columns.items() if self.added.get(c, self.since) <= version}

    def indexes_at(self, version: int) -> tuple[tuple[str, ...], ...]:
        have = self.columns_at(version)
        return tuple(ix for ix in self.indexes if all(c in have for c in ix))

    @property
    def writable(self) -> frozenset[str]:
        """Columns a write may name: its own, ``id``, and ``number`` where the hub assigns one."""
        cached = _WRITABLE.get(self.name)
        if cached is None:
            cols = set(self.columns) | {"id"}
            if self.numbered:
                cols.add("number")
            cached = _WRITABLE[self.name] = frozenset(cols)
        return cached


_WRITABLE: dict[str, frozenset[str]] = {}


# Enumerations shared by the domain and the CHECK constraints.
PARTY_KINDS: Final = ("person", "company")
CONSENTS: Final = ("unknown", "yes", "no")
BUSINESS_LINES: Final = ("service", "parts", "sales")
DEPARTMENTS: Final = ("service", "salon", "shop", "feedback", "other")
CONTACT_TYPES: Final = ("call", "visit", "internet")
PRESENCE: Final = ("available", "busy", "away")
DIRECTIONS: Final = ("in", "out")
TRAFFIC_STATUSES: Final = (
    "new",  # registered, not yet taken
    "in_work",  # taken / transferred to an employee
    "document_created",  # Создан документ
    "document_attached",  # Прикреплен к документу
    "ignored",  # Проигнорирован
    "lost",  # Упущенный контакт
)
DOC_TYPES: Final = ("work_order", "pre_order", "appointment", "car_sale", "parts_sale")


def _check(col: str, values: tuple[str, ...], null: bool = False) -> str:
    allowed = ", ".join(f"'{v}'" for v in values)
    nullable = "" if null else " NOT NULL"
    return f"TEXT{nullable} CHECK ({col} IN ({allowed}))"


def _consent(col: str) -> str:
    return f"TEXT NOT NULL DEFAULT 'unknown' CHECK ({col} IN ('unknown', 'yes', 'no'))"


REF = "TEXT"  # a UUIDv7 of another replicated row; not a FOREIGN KEY: rows arrive in any order

TABLES: Final[tuple[Table, ...]] = (
    Table("regions", {"name": "TEXT NOT NULL"}),
    Table("branches", {"name": "TEXT NOT NULL", "address": "TEXT", "region_id": REF}),
    Table("info_sources", {"name": "TEXT NOT NULL", "enabled": "INTEGER NOT NULL DEFAULT 1"}),
    Table("counterparty_groups", {"name": "TEXT NOT NULL"}),
    Table(
        "employees",
        {
            "short_name": "TEXT NOT NULL",  # «Петухов В.П.»
            "surname": "TEXT NOT NULL DEFAULT ''",
            "given_name": "TEXT NOT NULL DEFAULT ''",
            "patronymic": "TEXT NOT NULL DEFAULT ''",
            "extension": "TEXT",  # internal phone extension «1102»
            "departments": "TEXT NOT NULL DEFAULT '[]'",  # JSON list of DEPARTMENTS
            "role": "TEXT NOT NULL DEFAULT 'staff'",
            "pin_hash": "TEXT",  # scrypt, see lsnode.crm; never the PIN
            "presence": "TEXT NOT NULL DEFAULT 'away' CHECK (presence IN "
            "('available', 'busy', 'away'))",
            "presence_note": "TEXT NOT NULL DEFAULT ''",  # Доп. информация
            "branch_id": REF,
            "active": "INTEGER NOT NULL DEFAULT 1",
            "presence_at": "TEXT",  # v2: since when the presence holds
        },
        added={"presence_at": 2},
    ),
    Table(
        "counterparties",
        {
            "kind": _check("kind", PARTY_KINDS),
            "surname": "TEXT NOT NULL DEFAULT ''",
            "given_name": "TEXT NOT NULL DEFAULT ''",
            "patronymic": "TEXT NOT NULL DEFAULT ''",
            "company_name": "TEXT NOT NULL DEFAULT ''",
            "full_name": "TEXT NOT NULL",  # as shown: «Иванов Василий Алибабаевич» / «ООО Ромашка»
            "short_name": "TEXT NOT NULL",  # «Иванов В.А.»
            "name_key": "TEXT NOT NULL",  # normalised for search (casefold, ё→е)
            "group_id": REF,
            "inn": "TEXT",
            "note": "TEXT NOT NULL DEFAULT ''",
            "registered_at": "TEXT NOT NULL",  # Зарегистрирован
            "birth_date": "TEXT",
            "info_source_id": REF,
            "region_id": REF,
            "manager_id": REF,  # personal manager (employee)
            "consent_pd": _consent("consent_pd"),
            "consent_phone_survey": _consent("consent_phone_survey"),
            "consent_sms": _consent("consent_sms"),
            "consent_email": _consent("consent_email"),
            "last_in_contact_at": "TEXT",
            "last_out_contact_at": "TEXT",
        },
        numbered=True,
        indexes=(("name_key",), ("inn",)),
    ),
    Table(
        "counterparty_lines",  # CRM status and ABC categories per business line
        {
            "counterparty_id": f"{REF} NOT NULL",
            "business_line": _check("business_line", BUSINESS_LINES),
            "crm_status": "TEXT NOT NULL DEFAULT 'unset'",
            "abc": "TEXT NOT NULL DEFAULT ''",  # four letters: sum, count, recency, average check
        },
        indexes=(("counterparty_id", "business_line"),),
    ),
    Table(
        "contacts",
        {
            "counterparty_id": f"{REF} NOT NULL",
            "kind": "TEXT NOT NULL CHECK (kind IN ('phone', 'email'))",
            "value": "TEXT NOT NULL",  # as entered, never dropped
            "phone_e164": "TEXT",
            "phone_rev": "TEXT",  # reversed digits: «last N digits» is a prefix range
            "email_key": "TEXT",
            "valid": "INTEGER NOT NULL DEFAULT 1",
            "note": "TEXT NOT NULL DEFAULT ''",
        },
        indexes=(("counterparty_id",), ("phone_e164",), ("phone_rev",), ("email_key",)),
    ),
    Table(
        "cars",
        {
            "plate": "TEXT NOT NULL DEFAULT ''",  # display form, Cyrillic
            "plate_key": "TEXT NOT NULL DEFAULT ''",  # look-alikes folded to Latin
            "vin": "TEXT NOT NULL DEFAULT ''",  # upper-cased, as normalised
            "year": "INTEGER",
            "make": "TEXT NOT NULL DEFAULT ''",
            "model": "TEXT NOT NULL DEFAULT ''",
            "modification": "TEXT NOT NULL DEFAULT ''",
            "mileage": "INTEGER",
            "warranty_start": "TEXT",  # ДНГ
            "note": "TEXT NOT NULL DEFAULT ''",
            "owner_id": REF,
            "customer_id": REF,
            "trusted_person_id": REF,
        },
        numbered=True,
        indexes=(("owner_id",), ("customer_id",), ("trusted_person_id",), ("plate_key",), ("vin",)),
    ),
    Table(
        "documents",
        {
            "doc_no": "TEXT NOT NULL DEFAULT ''",  # the DMS's own number «ЗН 14029»
            "doc_type": _check("doc_type", DOC_TYPES),
            "business_line": _check("business_line", BUSINESS_LINES),
            "doc_date": "TEXT NOT NULL",
            "amount_kop": "INTEGER NOT NULL DEFAULT 0",  # money in kopecks, never float
            "status": "TEXT NOT NULL DEFAULT ''",  # as the DMS names it: «Предв.РЗ», «Закрыт» …
            "is_open": "INTEGER NOT NULL DEFAULT 1",
            "employee_id": REF,
            "counterparty_id": REF,
            "car_id": REF,
            "note": "TEXT NOT NULL DEFAULT ''",
        },
        indexes=(("counterparty_id", "is_open"), ("car_id",), ("doc_date",)),
    ),
    Table(
        "contact_purposes",
        {
            "code": "INTEGER",  # the brochure's visible ID («→ 2 Ремонт автомобиля»)
            "department": _check("department", DEPARTMENTS),
            "direction": _check("direction", DIRECTIONS),
            "full_name": "TEXT NOT NULL",
            "short_name": "TEXT NOT NULL",
            "enabled": "INTEGER NOT NULL DEFAULT 1",
            "require_car": "INTEGER NOT NULL DEFAULT 0",  # make/model/class
            "require_region": "INTEGER NOT NULL DEFAULT 0",
            "auto_ignore_days": "INTEGER",
            "use_timesheet": "INTEGER NOT NULL DEFAULT 0",
            "employee_ids": "TEXT NOT NULL DEFAULT '[]'",  # responsible employees, JSON list
        },
    ),
    Table(
        "traffic",
        {
            "contact_type": _check("contact_type", CONTACT_TYPES),
            "department": _check("department", DEPARTMENTS),
            "purpose_id": REF,
            "first_contact": "INTEGER NOT NULL DEFAULT 1",
            "info_source_id": REF,
            "branch_id": REF,
            "region_id": REF,
            "registered_by": REF,  # employee who registered (secretary)
            "contact_at": "TEXT NOT NULL",
            "counterparty_id": REF,
            "phone": "TEXT NOT NULL DEFAULT ''",
            "phone_e164": "TEXT",
            "vin": "TEXT NOT NULL DEFAULT ''",
            "plate": "TEXT NOT NULL DEFAULT ''",
            "car_id": REF,
            "make_model": "TEXT NOT NULL DEFAULT ''",
            "responsible_id": REF,
            "processed_by": REF,
            "status": _check("status", TRAFFIC_STATUSES),
            "ignore_reason": "TEXT NOT NULL DEFAULT ''",
            "loss_reason": "TEXT NOT NULL DEFAULT ''",
            "document_id": REF,
            "duration_s": "INTEGER",
            "note": "TEXT NOT NULL DEFAULT ''",
            "extra_info": "TEXT NOT NULL DEFAULT ''",
            "processed_at": "TEXT",
            # v2: the waiting queue and where a contact came from
            "queued_at": "TEXT",  # put into the waiting queue (Очередь ожидания); NULL: never
            "taken_at": "TEXT",  # first taken or assigned: queue waits are taken_at - queued_at
            "origin": "TEXT NOT NULL DEFAULT 'desk'",  # desk, kiosk, script, phone
        },
        numbered=True,
        indexes=(
            ("contact_at",),
            ("counterparty_id",),
            ("responsible_id", "status"),
            ("status",),
            ("phone_e164",),
        ),
        added={"queued_at": 2, "taken_at": 2, "origin": 2},
    ),
    Table(
        "traffic_switches",  # internal switches: who talked to whom, when, how long
        {
            "traffic_id": f"{REF} NOT NULL",
            "from_employee_id": REF,
            "to_employee_id": REF,
            "started_at": "TEXT NOT NULL",
            "duration_s": "INTEGER",
            "note": "TEXT NOT NULL DEFAULT ''",
        },
        indexes=(("traffic_id",),),
    ),
    Table(
        "traffic_events",  # the traffic card's history: every change, who, when
        {
            "traffic_id": f"{REF} NOT NULL",
            "at": "TEXT NOT NULL",
            "employee_id": REF,  # who did it; NULL: the kiosk, a script, the hub
            "action": "TEXT NOT NULL",  # lsnode.crm.traffic.Action values
            "detail": "TEXT NOT NULL DEFAULT '{}'",  # JSON: the action's arguments
        },
        indexes=(("traffic_id", "at"),),
        since=2,
    ),
)

BY_NAME: Final[dict[str, Table]] = {t.name: t for t in TABLES}
