"""Client traffic (Учет клиентского трафика, SPEC §1): registration, the waiting queue, the
traffic card's actions and their history.

The status of a contact is a state machine kept as data: ``TRANSITIONS`` maps (status, action)
to the next status, and an action the table does not allow raises ``IllegalTransition`` before
anything is written. Every action writes the traffic row and one ``traffic_events`` row (the
card's history) in one transaction.

Contested actions — «Взять себе», «Назначить» from the queue — first ask the hub through an
``Arbiter`` (a compare-and-set on ``responsible_id`` decided in arrival order, ARCHITECTURE.md
«Intents»); only the winner writes the rest, and the loser's error names who won.

Statuses: ``new`` (registered, not taken: the responsible employee's popup and the «НЕОБРАБОТАННЫЙ
ВХОДЯЩИЙ ТРАФИК» counter; in the waiting queue while ``queued_at`` is set), ``in_work`` (taken),
``document_created`` / ``document_attached`` (Обработать), ``ignored`` (Игнорировать), ``lost``
(Упущенный контакт).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Protocol

from lsnode.clock import instant, parse_instant
from lsnode.crm.clients import phone_row
from lsnode.crm.normalize import normalize_phone, normalize_plate, normalize_vin
from lsnode.crm.staff import Right, Session
from lsnode.errors import InputError, NotFound
from lsnode.store.ports import ClientReader, Row, RowWriter, StaffReader, TrafficReader
from lsnode.store.schema import BUSINESS_LINES, CONTACT_TYPES, DEPARTMENTS, DOC_TYPES


class TrafficStatus(StrEnum):
    NEW = "new"
    IN_WORK = "in_work"
    DOCUMENT_CREATED = "document_created"  # Создан документ
    DOCUMENT_ATTACHED = "document_attached"  # Прикреплен к документу
    IGNORED = "ignored"  # Проигнорирован
    LOST = "lost"  # Упущенный контакт


class Action(StrEnum):
    REGISTER = "register"  # Зарегистрировать
    QUEUE = "queue"  # Поместить в очередь ожидания (also the kiosk's check-in)
    TRANSFER = "transfer"  # Перевести
    FINISH = "finish"  # Завершить
    TAKE = "take"  # Взять себе
    ASSIGN = "assign"  # Назначить / Переназначить
    CREATE_DOCUMENT = "create_document"  # Обработать: создать документ
    ATTACH_DOCUMENT = "attach_document"  # Обработать: прикрепить к документу
    IGNORE = "ignore"  # Игнорировать
    AUTO_IGNORE = "auto_ignore"  # the hub, after the purpose's day limit
    LOSE = "lose"  # Упущенный контакт
    CANCEL = "cancel"  # Отменить обработку
    NOTE = "note"  # a changed note or extra info
    LEAVE_QUEUE = "leave_queue"  # the caller hung up while waiting: unprocessed, not waiting


S, A = TrafficStatus, Action
_PROCESSED = (S.DOCUMENT_CREATED, S.DOCUMENT_ATTACHED, S.IGNORED)
_PROCESS = (A.CREATE_DOCUMENT, A.ATTACH_DOCUMENT, A.IGNORE, A.AUTO_IGNORE)

#: (status, action) -> next status. Actions on a new row (register, queue …) are not here.
TRANSITIONS: Final[Mapping[tuple[TrafficStatus, Action], TrafficStatus]] = {
    (S.NEW, A.TAKE): S.IN_WORK,
    (S.NEW, A.ASSIGN): S.NEW,  # the assignee gets the popup and takes it
    (S.NEW, A.TRANSFER): S.IN_WORK,
    (S.NEW, A.LOSE): S.LOST,
    (S.IN_WORK, A.TAKE): S.IN_WORK,
    (S.IN_WORK, A.ASSIGN): S.NEW,  # Переназначить: the new responsible accepts it
    (S.IN_WORK, A.TRANSFER): S.IN_WORK,
    **{(s, a): S.IGNORED for s in (S.NEW, S.IN_WORK) for a in (A.IGNORE, A.AUTO_IGNORE)},
    **{(s, A.CREATE_DOCUMENT): S.DOCUMENT_CREATED for s in (S.NEW, S.IN_WORK)},
    **{(s, A.ATTACH_DOCUMENT): S.DOCUMENT_ATTACHED for s in (S.NEW, S.IN_WORK)},
    **{(s, A.CANCEL): S.IN_WORK for s in _PROCESSED},
    (S.LOST, A.CANCEL): S.NEW,
    (S.NEW, A.LEAVE_QUEUE): S.NEW,
    **{(s, A.NOTE): s for s in S},
}

#: The brochure's reasons for «Игнорировать»; a person may also type their own.
IGNORE_REASONS: Final = (
    "Ошибся адресом",
    "Зашел/вышел",
    "Неудачный контакт",
    "Клиент сервиса (нет ответственного сотрудника)",
)
LOSS_REASONS: Final = ("Не дождался в очереди", "Пропущенный вызов", "Ушел к конкурентам")
#: What a document created from traffic starts as, by type (the DMS's own status words).
DOC_START_STATUS: Final = {
    "work_order": "Открыт",
    "pre_order": "Предв.РЗ",
    "appointment": "Записан",
    "car_sale": "Оформляется",
    "parts_sale": "Оформляется",
}
_LINE_OF: Final = {"service": "service", "shop": "parts", "salon": "sales"}
MAX_NOTE = 2000
DEFAULT_WAIT_S = 5 * 60


class IllegalTransition(InputError):
    """The action is not allowed from the contact's present status (nothing was changed)."""


class Taken(InputError):
    """Someone else got there first: ``winner`` is their employee id (or None)."""

    def __init__(self, message: str, winner: str | None) -> None:
        super().__init__(message)
        self.winner = winner


@dataclass(frozen=True, slots=True)
class Claim:
    ok: bool
    current: Any  # the value that holds now (the winner)
    reason: str = ""


class Arbiter(Protocol):
    """Decides contested actions in arrival order (the hub; ``lsnode.sync`` intents)."""

    def claim(self, table: str, row_id: str, column: str, value: Any, expect: Any) -> Claim: ...


def next_status(status: str, action: Action) -> TrafficStatus:
    try:
        return TRANSITIONS[(TrafficStatus(status), action)]
    except (KeyError, ValueError):
        raise IllegalTransition(f"cannot {action.value} a contact that is {status}") from None


@dataclass(frozen=True, slots=True)
class TrafficDraft:
    """The registration form (Регистрация входящего трафика)."""

    contact_type: str
    department: str
    purpose_id: str | None = None
    counterparty_id: str | None = None
    phone: str = ""
    vin: str = ""
    plate: str = ""
    car_id: str | None = None
    make_model: str = ""
    first_contact: bool | None = None  # None: decided from the client's history
    info_source_id: str | None = None
    branch_id: str | None = None
    region_id: str | None = None
    responsible_id: str | None = None
    contact_at: datetime | None = None  # None: now
    note: str = ""
    extra_info: str = ""
    origin: str = "desk"


@dataclass(frozen=True, slots=True)
class Registered:
    traffic_id: str
    status: TrafficStatus
    warnings: list[str] = field(default_factory=list)


@dataclass
class Traffic:
    """The traffic use cases over their ports; ``session`` is the signed-in employee (``None``:
    the kiosk, a script or the hub)."""

    writer: RowWriter
    traffic: TrafficReader
    staff: StaffReader
    clients: ClientReader
    now: Any  # Clock: () -> aware datetime
    arbiter: Arbiter | None = None
    region: str = "RU"

    # -- registration ------------------------------------------------------------------------

    def register(
        self, draft: TrafficDraft, session: Session | None, action: Action = Action.REGISTER
    ) -> Registered:
        """Зарегистрировать / Поместить в очередь / Перевести / Завершить a new contact."""
        if action not in (A.REGISTER, A.QUEUE, A.TRANSFER, A.FINISH):
            raise InputError(f"{action.value} does not register a contact")
        if session is not None:
            session.require(Right.REGISTER)
        now = self.now()
        values, warnings = self._validate(draft, action, now)
        by = session.employee_id if session else None
        values["registered_by"] = by
        if action is A.QUEUE:
            values["queued_at"] = instant(now)
        if action is A.FINISH:
            # The registrar handled the contact to the end: theirs, in work, with its length.
            values["responsible_id"] = values["responsible_id"] or by
            values["duration_s"] = max(
                0, int((now - parse_instant(values["contact_at"])).total_seconds())
            )
        status = S.IN_WORK if action in (A.TRANSFER, A.FINISH) else S.NEW
        if action is A.TRANSFER and not values["responsible_id"]:
            raise InputError("transfer: choose the employee to transfer the contact to")
        if status is S.IN_WORK:
            values["taken_at"] = instant(now)
        values["status"] = status.value
        with self.writer.transaction():
            tid = self.writer.insert("traffic", values)
            self._event(tid, action, by, now, _detail(values, ("responsible_id", "purpose_id")))
            if action is A.TRANSFER and values["responsible_id"] != by:
                self._switch(tid, by, values["responsible_id"], now)
            if values["counterparty_id"]:
                self.writer.update(
                    "counterparties",
                    values["counterparty_id"],
                    {"last_in_contact_at": values["contact_at"]},
                )
        return Registered(tid, status, warnings)

    def _validate(
        self, draft: TrafficDraft, action: Action, now: datetime
    ) -> tuple[dict[str, Any], list[str]]:
        warnings: list[str] = []
        if draft.contact_type not in CONTACT_TYPES:
            raise InputError(f"contact type must be one of {', '.join(CONTACT_TYPES)}")
        if draft.department not in DEPARTMENTS:
            raise InputError(f"department must be one of {', '.join(DEPARTMENTS)}")
        purpose = None
        if draft.purpose_id:
            purpose = self.staff.purpose(draft.purpose_id)
            if purpose is None:
                raise NotFound(f"no contact purpose {draft.purpose_id}")
            if not purpose["enabled"]:
                raise InputError(f"the purpose «{purpose['full_name']}» is switched off")
            if purpose["department"] != draft.department:
                raise InputError(
                    f"the purpose «{purpose['full_name']}» belongs to {purpose['department']}, "
                    f"not {draft.department}"
                )
        elif action is not A.TRANSFER:
            raise InputError("choose the purpose of the contact")
        client = None
        if draft.counterparty_id:
            client = self.clients.counterparty(draft.counterparty_id)
            if client is None:
                raise NotFound(f"no client {draft.counterparty_id}")
        phone, e164 = _one_line("phone", draft.phone, 40), None
        if phone:
            parsed = normalize_phone(phone, self.region)
            e164 = parsed.e164
            if e164 is None:
                warnings.append(f"phone «{phone}» not recognised: kept as typed")
        if action in (A.REGISTER, A.QUEUE, A.FINISH) and client is None and not phone:
            raise InputError("pick the client or type their phone («Создать нового» if new)")
        vin = normalize_vin(draft.vin).value if draft.vin.strip() else ""
        plate = normalize_plate(draft.plate).display if draft.plate.strip() else ""
        make_model = _one_line("make/model", draft.make_model, 120)
        # A call is registered by the hub from the voice menu: the employee asks for the car
        # and the region during the call, so the purpose's requirements wait until processing.
        by_phone = draft.origin == "phone"
        if (
            purpose is not None
            and not by_phone
            and purpose["require_car"]
            and not (draft.car_id or make_model or vin or plate)
        ):
            raise InputError(f"the purpose «{purpose['full_name']}» requires the car's make/model")
        if (
            purpose is not None
            and not by_phone
            and purpose["require_region"]
            and not draft.region_id
        ):
            raise InputError(f"the purpose «{purpose['full_name']}» requires the region")
        if draft.responsible_id:
            emp = self.staff.employee(draft.responsible_id)
            if emp is None or not emp["active"]:
                raise NotFound(f"no active employee {draft.responsible_id}")
        contact_at = draft.contact_at or now
        if contact_at - now > timedelta(minutes=5):
            raise InputError("the contact's time is in the future")
        first = draft.first_contact
        if first is None:
            first = client is None or not self.traffic.has_traffic(
                client["id"], instant(contact_at)
            )
        if draft.origin not in ("desk", "kiosk", "script", "phone"):
            raise InputError("origin must be desk, kiosk, script or phone")
        values: dict[str, Any] = {
            "contact_type": draft.contact_type,
            "department": draft.department,
            "purpose_id": draft.purpose_id,
            "first_contact": int(bool(first)),
            "info_source_id": draft.info_source_id,
            "branch_id": draft.branch_id,
            "region_id": draft.region_id or (client["region_id"] if client else None),
            "contact_at": instant(contact_at),
            "counterparty_id": draft.counterparty_id,
            "phone": phone,
            "phone_e164": e164,
            "vin": vin,
            "plate": plate,
            "car_id": draft.car_id,
            "make_model": make_model,
            "responsible_id": draft.responsible_id,
            "note": _note(draft.note),
            "extra_info": _one_line("extra info", draft.extra_info, 500),
            "origin": draft.origin,
        }
        return values, warnings

    def add_phone_to_client(self, counterparty_id: str, phone: str) -> list[str]:
        """«Добавить указанный телефон клиенту»: the phone typed at registration joins the
        client's contacts (kept as typed and flagged if it does not parse)."""
        if self.clients.counterparty(counterparty_id) is None:
            raise NotFound(f"no client {counterparty_id}")
        if not phone.strip():
            raise InputError("type the phone first")
        row, warning = phone_row(counterparty_id, phone, self.region)
        known = self.clients.contacts_of([counterparty_id]).get(counterparty_id, [])
        if row.get("phone_e164") and any(c["phone_e164"] == row["phone_e164"] for c in known):
            return ["the client already has this phone"]
        self.writer.insert("contacts", row)
        return [warning] if warning else []

    # -- the card's actions -----------------------------------------------------------------

    def take(self, traffic_id: str, session: Session) -> Row:
        """Взять себе: the hub decides who was first; the loser learns who won."""
        session.require(Right.TAKE)
        row = self._row(traffic_id)
        nxt = next_status(row["status"], A.TAKE)
        holder = row["responsible_id"]
        if holder not in (None, session.employee_id) and row["status"] == S.IN_WORK:
            raise Taken(f"already taken by {row['responsible_name']}", holder)
        self._claim(row, session.employee_id)
        now = self.now()
        changes: dict[str, Any] = {"responsible_id": session.employee_id, "status": nxt.value}
        if not row["taken_at"]:
            changes["taken_at"] = instant(now)
        self._apply(row, A.TAKE, session.employee_id, now, changes, {})
        return self._row(traffic_id)

    def assign(self, traffic_id: str, employee_id: str, session: Session | None) -> Row:
        """Назначить (from the queue) / Переназначить: the employee gets the popup."""
        if session is not None and employee_id != session.employee_id:
            session.require(Right.ASSIGN)
        row = self._row(traffic_id)
        nxt = next_status(row["status"], A.ASSIGN)
        emp = self.staff.employee(employee_id)
        if emp is None or not emp["active"]:
            raise NotFound(f"no active employee {employee_id}")
        if row["responsible_id"] == employee_id and row["status"] == S.NEW:
            return row
        self._claim(row, employee_id)
        now = self.now()
        by = session.employee_id if session else None
        with self.writer.transaction():
            self._apply(
                row,
                A.ASSIGN,
                by,
                now,
                {"responsible_id": employee_id, "status": nxt.value},
                {"from": row["responsible_id"], "to": employee_id},
            )
            if row["responsible_id"] and row["status"] == S.IN_WORK:
                self._switch(traffic_id, row["responsible_id"], employee_id, now)
        return self._row(traffic_id)

    def transfer(self, traffic_id: str, employee_id: str, session: Session) -> Row:
        """Перевести a live contact to a colleague: an internal switch, theirs at once."""
        row = self._row(traffic_id)
        nxt = next_status(row["status"], A.TRANSFER)
        if self.staff.employee(employee_id) is None:
            raise NotFound(f"no employee {employee_id}")
        self._claim(row, employee_id)
        now = self.now()
        with self.writer.transaction():
            changes = {"responsible_id": employee_id, "status": nxt.value}
            if not row["taken_at"]:
                changes["taken_at"] = instant(now)
            self._apply(row, A.TRANSFER, session.employee_id, now, changes, {"to": employee_id})
            self._switch(traffic_id, row["responsible_id"] or session.employee_id, employee_id, now)
        return self._row(traffic_id)

    def create_document(
        self,
        traffic_id: str,
        session: Session,
        doc_type: str,
        *,
        amount_kop: int = 0,
        doc_no: str = "",
        note: str = "",
    ) -> Row:
        """Обработать → создать документ: the document is made from the contact's client and car."""
        session.require(Right.PROCESS)
        row = self._row(traffic_id)
        nxt = next_status(row["status"], A.CREATE_DOCUMENT)
        if doc_type not in DOC_TYPES:
            raise InputError(f"document type must be one of {', '.join(DOC_TYPES)}")
        if amount_kop < 0:
            raise InputError("the sum cannot be negative")
        line = _LINE_OF.get(row["department"])
        if line is None:
            line = "sales" if doc_type == "car_sale" else "service"
        assert line in BUSINESS_LINES
        now = self.now()
        with self.writer.transaction():
            doc_id = self.writer.insert(
                "documents",
                {
                    "doc_no": _one_line("document number", doc_no, 40),
                    "doc_type": doc_type,
                    "business_line": line,
                    "doc_date": instant(now),
                    "amount_kop": amount_kop,
                    "status": DOC_START_STATUS[doc_type],
                    "is_open": 1,
                    "employee_id": session.employee_id,
                    "counterparty_id": row["counterparty_id"],
                    "car_id": row["car_id"],
                    "note": _note(note),
                },
            )
            self._processed(row, A.CREATE_DOCUMENT, nxt, session, now, document_id=doc_id)
        return self._row(traffic_id)

    def attach_document(self, traffic_id: str, document_id: str, session: Session) -> Row:
        """Обработать → прикрепить к документу (an existing one, usually the client's open one)."""
        session.require(Right.PROCESS)
        row = self._row(traffic_id)
        nxt = next_status(row["status"], A.ATTACH_DOCUMENT)
        doc = self.staff.document(document_id)
        if doc is None:
            raise NotFound(f"no document {document_id}")
        if row["counterparty_id"] and doc["counterparty_id"] not in (None, row["counterparty_id"]):
            raise InputError("the document belongs to another client")
        self._processed(row, A.ATTACH_DOCUMENT, nxt, session, self.now(), document_id=document_id)
        return self._row(traffic_id)

    def ignore(self, traffic_id: str, reason: str, session: Session | None) -> Row:
        """Игнорировать with a reason (one of ``IGNORE_REASONS`` or the person's own words)."""
        if session is not None:
            session.require(Right.PROCESS)
        reason = _one_line("reason", reason, 200)
        if not reason:
            raise InputError("choose the reason to ignore the contact")
        row = self._row(traffic_id)
        nxt = next_status(row["status"], A.IGNORE)
        self._processed(row, A.IGNORE, nxt, session, self.now(), ignore_reason=reason)
        return self._row(traffic_id)

    def lose(self, traffic_id: str, reason: str, session: Session | None) -> Row:
        """Упущенный контакт: the visitor left the queue unserved, the caller hung up."""
        reason = _one_line("reason", reason, 200) or LOSS_REASONS[0]
        row = self._row(traffic_id)
        nxt = next_status(row["status"], A.LOSE)
        now = self.now()
        by = session.employee_id if session else None
        changes = {"status": nxt.value, "loss_reason": reason, "processed_at": instant(now)}
        self._apply(row, A.LOSE, by, now, changes, {"reason": reason})
        return self._row(traffic_id)

    def leave_queue(self, traffic_id: str, reason: str) -> Row:
        """The caller hung up while waiting (the hub): off the waiting queue, still unprocessed
        — the callback task is how it gets processed."""
        row = self._row(traffic_id)
        nxt = next_status(row["status"], A.LEAVE_QUEUE)
        if not row["queued_at"]:
            return row
        reason = _one_line("reason", reason, 200)
        changes = {"status": nxt.value, "queued_at": None}
        detail = {"queued_at": row["queued_at"], "reason": reason}
        self._apply(row, A.LEAVE_QUEUE, None, self.now(), changes, detail)
        return self._row(traffic_id)

    def cancel(self, traffic_id: str, session: Session) -> Row:
        """Отменить обработку: back to work (a created document stays, only the link goes)."""
        session.require(Right.PROCESS)
        row = self._row(traffic_id)
        nxt = next_status(row["status"], A.CANCEL)
        now = self.now()
        changes = {
            "status": nxt.value,
            "document_id": None,
            "ignore_reason": "",
            "loss_reason": "",
            "processed_by": None,
            "processed_at": None,
        }
        detail = {"was": row["status"], "document_id": row["document_id"]}
        self._apply(row, A.CANCEL, session.employee_id, now, changes, detail)
        return self._row(traffic_id)

    def set_note(self, traffic_id: str, session: Session | None, note: str) -> Row:
        row = self._row(traffic_id)
        now = self.now()
        by = session.employee_id if session else None
        self._apply(row, A.NOTE, by, now, {"note": _note(note)}, {})
        return self._row(traffic_id)

    # -- the hub's and the kiosk's ----------------------------------------------------------

    def auto_ignore(self, limit: int = 500) -> int:
        """Ignore what stayed unprocessed past its purpose's day limit (runs on the hub)."""
        now = self.now()
        done = 0
        for purpose in self.staff.purposes(include_disabled=True):
            days = purpose["auto_ignore_days"]
            if not days or days <= 0:
                continue
            reason = f"Автоматически: не обработан за {days} дн."
            for tid in self.traffic.stale(
                purpose["id"], instant(now - timedelta(days=days)), limit
            ):
                row = self._row(tid)
                changes = {
                    "status": S.IGNORED.value,
                    "ignore_reason": reason,
                    "processed_at": instant(now),
                }
                self._apply(row, A.AUTO_IGNORE, None, now, changes, {"days": days})
                done += 1
        return done

    def queue_estimate(self, traffic_id: str) -> tuple[int, int]:
        """(place in the department's queue from 1, expected wait in minutes)."""
        row = self._row(traffic_id)
        queue = self.traffic.queue(row["department"])
        ids = [r["id"] for r in queue]
        place = ids.index(traffic_id) + 1 if traffic_id in ids else 0
        waits = self.traffic.recent_queue_waits_s(row["department"], 20)
        typical = statistics.median(waits) if waits else DEFAULT_WAIT_S
        serving = sum(
            1
            for e in self.staff.employees()
            if e["presence"] == "available" and row["department"] in json.loads(e["departments"])
        )
        minutes = round(place * typical / max(1, serving) / 60)
        return place, max(1, minutes) if place else 0

    # -- internals --------------------------------------------------------------------------

    def _row(self, traffic_id: str) -> Row:
        row = self.traffic.traffic(traffic_id)
        if row is None:
            raise NotFound(f"no traffic {traffic_id}")
        return row

    def _claim(self, row: Row, employee_id: str) -> None:
        if self.arbiter is None:
            return  # the hub itself, or a test without contention
        got = self.arbiter.claim(
            "traffic", row["id"], "responsible_id", employee_id, row["responsible_id"]
        )
        if not got.ok:
            winner = got.current if isinstance(got.current, str) else None
            emp = self.staff.employee(winner) if winner else None
            name = emp["short_name"] if emp else (got.reason or "someone else")
            raise Taken(f"already taken by {name}", winner)

    def _processed(
        self,
        row: Row,
        action: Action,
        nxt: TrafficStatus,
        session: Session | None,
        now: datetime,
        **extra: Any,
    ) -> None:
        by = session.employee_id if session else None
        changes = {"status": nxt.value, "processed_by": by, "processed_at": instant(now), **extra}
        if not row["responsible_id"] and by:
            changes["responsible_id"] = by
        self._apply(row, action, by, now, changes, extra)

    def _apply(
        self,
        row: Row,
        action: Action,
        by: str | None,
        now: datetime,
        changes: dict[str, Any],
        detail: Mapping[str, Any],
    ) -> None:
        with self.writer.transaction():
            self.writer.update("traffic", row["id"], changes)
            self._event(row["id"], action, by, now, detail)

    def _event(
        self, tid: str, action: Action, by: str | None, now: datetime, detail: Mapping[str, Any]
    ) -> None:
        self.writer.insert(
            "traffic_events",
            {
                "traffic_id": tid,
                "at": instant(now),
                "employee_id": by,
                "action": action.value,
                "detail": json.dumps(dict(detail), ensure_ascii=False, sort_keys=True),
            },
        )

    def _switch(self, tid: str, src: str | None, dst: str | None, now: datetime) -> None:
        self.writer.insert(
            "traffic_switches",
            {
                "traffic_id": tid,
                "from_employee_id": src,
                "to_employee_id": dst,
                "started_at": instant(now),
            },
        )


def _detail(values: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: values[k] for k in keys if values.get(k)}


def _one_line(label: str, text: str, limit: int) -> str:
    if any(ord(ch) < 32 for ch in text):
        raise InputError(f"{label}: control characters are not allowed")
    text = " ".join(text.split())
    if len(text) > limit:
        raise InputError(f"{label}: at most {limit} characters")
    return text


def _note(text: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise InputError("note: control characters are not allowed")
    text = text.strip()
    if len(text) > MAX_NOTE:
        raise InputError(f"note: at most {MAX_NOTE} characters")
    return text
