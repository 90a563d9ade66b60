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
# v3: notifications (SPEC §3). Categories and channel kinds as the brochure groups them.
NOTIFY_CATEGORIES: Final = ("service", "salon", "warehouse", "crm", "general")
CHANNEL_KINDS: Final = ("email", "sms", "lan", "file", "ftp", "phone")
RULE_TRIGGERS: Final = ("event", "schedule")
#: An addressee's delivery state; only ``pending`` is ever picked up by the sender.
DELIVERY_STATUSES: Final = (
    "pending",  # waiting for its time, or for a retry
    "sending",  # claimed by the sender; after a crash it is never sent again (at most once)
    "sent",  # handed to the SMTP server / SMS gateway / FTP server
    "delivered",  # written where it is read (a LAN message, a call task, a file)
    "failed",  # every attempt failed (or a crash left it unknown): see ``outcome``
    "refused",  # not sent on purpose: no consent, a company, no address, channel off
    "expired",  # its relevance window closed before it could go
)

# v4: telephony (SPEC §5; lsnode.voice). Call states are lsnode.voice.call.CallState's values.
CALL_STATES: Final = (
    "incoming", "menu", "queued", "ringing", "dialing", "talking", "transferred", "ended",
    "missed",
)  # fmt: skip
LINE_MODES: Final = ("bridge", "redirect", "refer")
LINE_STATES: Final = ("off", "registering", "registered", "down")
CALL_REQUEST_KINDS: Final = ("dial", "transfer", "hangup")
CALL_REQUEST_STATUSES: Final = ("pending", "running", "done", "failed")


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
            # v3: the service appointment (Предварительная запись) is a document of type
            # 'appointment': client, car, the adviser (employee_id, «Консультант») and these.
            "visit_at": "TEXT",  # the booked date-time of the visit, UTC
            "appointment_kind": "TEXT NOT NULL DEFAULT ''",  # Вид предв.записи: «ТО», «Ремонт» …
            "status_at": "TEXT",  # when ``status`` last changed: event rules fire on it
        },
        indexes=(
            ("counterparty_id", "is_open"),
            ("car_id",),
            ("doc_date",),
            ("visit_at",),
            ("status_at",),
        ),
        added={"visit_at": 3, "appointment_kind": 3, "status_at": 3},
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
            "ring_s": "INTEGER",  # v4: how long a call of this purpose rings one employee
        },
        added={"ring_s": 4},
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
    # -- v3: notifications (SPEC §3; lsnode.notify). Nodes edit settings, channels, templates,
    # rules; the hub alone writes the journal (messages, addressees, attempts) and the rows its
    # internal channels deliver (LAN messages, call tasks), which nodes read and mark done.
    Table(
        "settings",  # the dealer's settings, one row per key (id derived from the key)
        {"key": "TEXT NOT NULL", "value": "TEXT NOT NULL DEFAULT ''"},
        indexes=(("key",),),
        since=3,
    ),
    Table(
        "notify_channels",  # Способы уведомлений
        {
            "kind": _check("kind", CHANNEL_KINDS),
            "name": "TEXT NOT NULL",  # «Сообщение по электронной почте»
            "enabled": "INTEGER NOT NULL DEFAULT 1",
            "settings": "TEXT NOT NULL DEFAULT '{}'",  # JSON, no secret: host, port, url …
            "secret_sealed": "TEXT",  # the password, sealed to the hub's key; never plain
        },
        since=3,
    ),
    Table(
        "notify_templates",  # Шаблоны оповещений
        {
            "category": _check("category", NOTIFY_CATEGORIES),
            "type": "TEXT NOT NULL",  # lsnode.notify.catalog: «Напоминание … накануне визита»
            "name": "TEXT NOT NULL",  # «ОповещениеПредваритЗапись»
            "enabled": "INTEGER NOT NULL DEFAULT 1",
            "channel_kind": _check("channel_kind", CHANNEL_KINDS),
            "channel_id": REF,  # a particular channel of that kind; NULL: the first enabled
            "subject": "TEXT NOT NULL DEFAULT ''",
            "body": "TEXT NOT NULL DEFAULT ''",  # with {placeholders}
            "test_address": "TEXT NOT NULL DEFAULT ''",  # Тестовый получатель
        },
        since=3,
    ),
    Table(
        "notify_rules",  # when a template produces messages, and for whom
        {
            "template_id": f"{REF} NOT NULL",
            "trigger": _check("trigger", RULE_TRIGGERS),
            "event": "TEXT NOT NULL",  # what fires it: a type of lsnode.notify.catalog
            "enabled": "INTEGER NOT NULL DEFAULT 1",
            "calc_time": "TEXT",  # «20:00», the dealer's local time (schedule)
            "offset_minutes": "INTEGER NOT NULL DEFAULT 0",  # «right before the visit»: ahead
            "relevance_hours": "REAL NOT NULL DEFAULT 1",  # Актуальность сообщений (часов)
            "appointment_kinds": "TEXT NOT NULL DEFAULT '[]'",  # JSON; empty: all («Все»)
            "statuses": "TEXT NOT NULL DEFAULT '[]'",  # JSON; event rules on status changes
            "persons_only": "INTEGER NOT NULL DEFAULT 1",
            "to_client": "INTEGER NOT NULL DEFAULT 1",  # Контрагенты из контекста
            "employee_ids": "TEXT NOT NULL DEFAULT '[]'",  # JSON: employees who get a copy
            "roles": "TEXT NOT NULL DEFAULT '[]'",  # JSON: employee roles who get a copy
            "counterparty_ids": "TEXT NOT NULL DEFAULT '[]'",  # JSON: fixed counterparties
        },
        indexes=(("template_id",),),
        since=3,
    ),
    Table(
        "notify_messages",  # Журнал сообщений: the generated notifications (hub writes)
        {
            "category": _check("category", NOTIFY_CATEGORIES),
            "type": "TEXT NOT NULL",
            "template_id": REF,
            "rule_id": REF,
            "document_id": REF,
            "counterparty_id": REF,
            "occasion": "TEXT NOT NULL",  # «booked», «day_before:2026-12-04», «status:Закрыт»
            "subject": "TEXT NOT NULL DEFAULT ''",
            "text": "TEXT NOT NULL",
            # template + document + recipient + occasion: the same message is never made twice
            "idem_key": "TEXT NOT NULL UNIQUE",
        },
        numbered=True,
        indexes=(("document_id",), ("counterparty_id",)),
        since=3,
    ),
    Table(
        "notify_addressees",  # АДРЕСАТЫ: one delivery of a message (the outbox; hub writes)
        {
            "message_id": f"{REF} NOT NULL",
            "recipient_kind": "TEXT NOT NULL CHECK (recipient_kind IN "
            "('counterparty', 'employee', 'test'))",
            "recipient_id": REF,
            "recipient": "TEXT NOT NULL DEFAULT ''",  # Получатель, as shown
            "channel_kind": _check("channel_kind", CHANNEL_KINDS),
            "channel_id": REF,
            "address": "TEXT NOT NULL DEFAULT ''",  # Назначение: phone, e-mail, folder …
            "status": _check("status", DELIVERY_STATUSES),
            "not_before": "TEXT NOT NULL",  # UTC; the relevance window opens
            "expires_at": "TEXT NOT NULL",  # UTC; and closes: never sent after it
            "next_attempt_at": "TEXT NOT NULL",
            "attempts": "INTEGER NOT NULL DEFAULT 0",
            "sent_at": "TEXT",  # Дата отправки
            "delivered_at": "TEXT",  # Получено (GMT)
            "outcome": "TEXT NOT NULL DEFAULT ''",  # a code: no_consent_sms, smtp_error …
            "info": "TEXT NOT NULL DEFAULT ''",  # Доп.информация
        },
        indexes=(("message_id",), ("status", "next_attempt_at")),
        since=3,
    ),
    Table(
        "notify_attempts",  # every try of every addressee (hub writes)
        {
            "addressee_id": f"{REF} NOT NULL",
            "at": "TEXT NOT NULL",
            "outcome": "TEXT NOT NULL",  # ok, error, refused, expired, interrupted
            "info": "TEXT NOT NULL DEFAULT ''",
        },
        indexes=(("addressee_id",),),
        since=3,
    ),
    Table(
        "lan_messages",  # LAN channel: an internal message shown in the app (hub writes)
        {
            "employee_id": REF,  # the employee it is for; NULL with node_id: a workstation
            "node_id": "TEXT",
            "addressee_id": REF,
            "title": "TEXT NOT NULL DEFAULT ''",
            "text": "TEXT NOT NULL",
            "read_at": "TEXT",  # set by the node that showed it
        },
        indexes=(("employee_id", "read_at"), ("node_id", "read_at")),
        since=3,
    ),
    Table(
        "tasks",  # an employee's task (SPEC §7); the Phone channel makes «call» tasks
        {
            "employee_id": REF,
            "action": "TEXT NOT NULL DEFAULT 'call'",
            "due_at": "TEXT NOT NULL",
            "counterparty_id": REF,
            "phone": "TEXT NOT NULL DEFAULT ''",
            "car_id": REF,
            "document_id": REF,
            "text": "TEXT NOT NULL DEFAULT ''",
            "source": "TEXT NOT NULL DEFAULT ''",  # notify, campaign, missed_call …
            "source_id": REF,  # e.g. the notify addressee
            "done_at": "TEXT",
            "outcome": "TEXT NOT NULL DEFAULT ''",
            "confirmed_at": "TEXT",
        },
        indexes=(("employee_id", "done_at"), ("due_at",)),
        since=3,
    ),
    # -- v4: telephony (SPEC §5; lsnode.voice). The hub alone writes calls, their routing
    # decisions and the line's state; nodes insert call_requests (Набрать, Перевести, hang up)
    # that the hub executes once. Missed-call callbacks are ``tasks`` (source 'missed_call').
    Table(
        "sip_lines",  # the hub's SIP line: its settings (no password) and its state
        {
            "name": "TEXT NOT NULL DEFAULT ''",
            "server": "TEXT NOT NULL",  # the PBX or SIP trunk, «192.168.150.101»
            "port": "INTEGER NOT NULL DEFAULT 5060",
            "username": "TEXT NOT NULL",
            "mode": _check("mode", LINE_MODES),  # bridge: the hub relays and records
            "enabled": "INTEGER NOT NULL DEFAULT 1",
            "menu": "TEXT NOT NULL DEFAULT ''",  # JSON of lsnode.voice.ivr.Menu; '' = default
            "ring_s": "INTEGER NOT NULL DEFAULT 20",
            "state": _check("state", LINE_STATES),  # Статус телефонной линии
            "state_since": "TEXT",
            "state_detail": "TEXT NOT NULL DEFAULT ''",
        },
        since=4,
    ),
    Table(
        "calls",  # one call on the line: what the popup and the call list read
        {
            "line_id": REF,
            "direction": _check("direction", DIRECTIONS),
            "state": _check("state", CALL_STATES),
            "sip_call_id": "TEXT NOT NULL DEFAULT ''",
            "caller_number": "TEXT NOT NULL DEFAULT ''",  # as the PBX sent it
            "caller_name": "TEXT NOT NULL DEFAULT ''",  # the display name, cleaned
            "phone_e164": "TEXT",
            "counterparty_id": REF,  # the client found by the number (NULL: «Создать нового»)
            "department": "TEXT",  # from the voice menu
            "purpose_id": REF,
            "menu_digits": "TEXT NOT NULL DEFAULT ''",
            "employee_id": REF,  # ringing / talking now (or last)
            "extension": "TEXT NOT NULL DEFAULT ''",  # the employee's internal number
            "traffic_id": REF,
            "recording": "TEXT NOT NULL DEFAULT ''",  # WAV on the hub, relative to its data dir
            "codec": "TEXT NOT NULL DEFAULT ''",
            "started_at": "TEXT NOT NULL",  # the INVITE
            "menu_at": "TEXT",
            "queued_at": "TEXT",
            "ringing_at": "TEXT",
            "answered_at": "TEXT",  # first talk
            "ended_at": "TEXT",
            "talk_s": "INTEGER",
            "end_reason": "TEXT NOT NULL DEFAULT ''",
        },
        indexes=(
            ("employee_id", "state"),
            ("counterparty_id",),
            ("traffic_id",),
            ("started_at",),
            ("phone_e164",),
        ),
        since=4,
    ),
    Table(
        "call_routes",  # each routing decision: who was chosen, why, who was skipped and why
        {
            "call_id": f"{REF} NOT NULL",
            "at": "TEXT NOT NULL",
            "attempt": "INTEGER NOT NULL",
            "employee_id": REF,  # NULL: nobody available
            "reason": "TEXT NOT NULL",
            "skipped": "TEXT NOT NULL DEFAULT '[]'",  # JSON [{employee_id, reason}]
            "outcome": "TEXT NOT NULL DEFAULT ''",  # answered, busy, no_answer, unregistered …
        },
        indexes=(("call_id",),),
        since=4,
    ),
    Table(
        "call_requests",  # a node asks the hub: dial a client, transfer or hang up a call
        {
            "kind": _check("kind", CALL_REQUEST_KINDS),
            "employee_id": REF,  # who asks (dial: whose extension rings first)
            "call_id": REF,  # transfer / hangup: which call
            "to_employee_id": REF,  # transfer: to whom
            "phone": "TEXT NOT NULL DEFAULT ''",  # dial: the client's number
            "counterparty_id": REF,
            "status": _check("status", CALL_REQUEST_STATUSES),
            "result": "TEXT NOT NULL DEFAULT ''",  # the call made, or why it failed
            "done_at": "TEXT",
        },
        indexes=(("status",),),
        since=4,
    ),
)

BY_NAME: Final[dict[str, Table]] = {t.name: t for t in TABLES}
