"""The traffic card: one contact with every block of the brochure, and what can be done to it.

Opened from a row anywhere (queue, journal, popup)::

    app.go("traffic_card"); app.screen("traffic_card").open(traffic_id)

Header: number (or «ожидает номера» until the hub numbers it), type icon, date-time, status chip
in the status colour, purpose, responsible with the presence dot. Sections: registration fields
and the editable note; the client (registered, last incoming / outgoing contact, CRM status and
ABC code per business line); the client's cars; unclosed documents; internal switches; the
history of every change in words. Bottom bar: Взять себе, Переназначить, Набрать, Обработать,
Игнорировать, Отменить обработку — each enabled only if the state machine (``TRANSITIONS``) and
the signed-in employee's rights allow it (``card_actions``). Logic in ``TrafficCardVM``; layout
in ``traffic_card.kv``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from lsnode.crm.staff import Right, Session
from lsnode.crm.traffic import IGNORE_REASONS, TRANSITIONS, Action, TrafficStatus
from lsnode.store.ports import JournalQuery
from lsnode.ui import i18n
from lsnode.ui.dialogs import (
    STATUS_TONES,
    TYPE_ICONS,
    ProcessVM,
    ask_reason,
    dept_label,
    doc_type_label,
    format_money,
    pick_employee,
    process_contact,
    run_action,
    status_label,
    type_label,
)
from lsnode.ui.screens import ORDER, LsScreen, load_kv, register

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

log = logging.getLogger("lsavto.ui.traffic_card")

STRINGS = {
    "tcard.title": ("Карточка трафика", "Traffic card"),
    "tcard.number": ("Трафик № {n}", "Traffic no. {n}"),
    "tcard.pending_number": ("Трафик · ожидает номера", "Traffic · number pending"),
    "tcard.back": ("Назад", "Back"),
    "tcard.nothing": (
        "Откройте контакт из очереди ожидания или журнала трафика",
        "Open a contact from the waiting queue or the traffic journal",
    ),
    "tcard.missing": ("Контакт не найден: возможно, он удалён", "The contact is not found"),
    "tcard.sign_in": (
        "Войдите по PIN-коду, чтобы работать с контактом",
        "Sign in with your PIN to work on the contact",
    ),
    "tcard.no_dial": ("Набрать: телефония не подключена", "Dial: telephony is not connected"),
    "tcard.no_phone": ("Набрать: нет номера телефона", "Dial: no phone number"),
    # actions
    "tcard.take": ("Взять себе", "Take"),
    "tcard.reassign": ("Переназначить", "Reassign"),
    "tcard.dial": ("Набрать", "Dial"),
    "tcard.process": ("Обработать", "Process"),
    "tcard.ignore": ("Игнорировать", "Ignore"),
    "tcard.cancel": ("Отменить обработку", "Cancel processing"),
    "tcard.cancel_confirm": (
        "Контакт вернётся в работу. Созданный документ останется, снимется только связь с ним.",
        "The contact goes back to work. A created document stays; only the link is removed.",
    ),
    "tcard.save_note": ("Сохранить", "Save"),
    "tcard.done.take": ("Взят в работу", "Taken into work"),
    "tcard.done.reassign": ("Переназначен: {name}", "Reassigned to {name}"),
    "tcard.done.create": ("Создан документ", "Document created"),
    "tcard.done.attach": ("Прикреплен к документу", "Attached to the document"),
    "tcard.done.ignore": ("Контакт проигнорирован", "The contact is ignored"),
    "tcard.done.cancel": ("Обработка отменена", "Processing cancelled"),
    "tcard.done.note": ("Примечание сохранено", "Note saved"),
    "tcard.done.dial": ("Набираем {phone}…", "Dialling {phone}…"),
    # header facts
    "tcard.f.purpose": ("Цель", "Purpose"),
    "tcard.f.responsible": ("Ответственный", "Responsible"),
    "tcard.f.client": ("Клиент", "Client"),
    "tcard.f.department": ("Отдел", "Department"),
    "tcard.unassigned": ("не назначен", "unassigned"),
    "tcard.no_client": ("не указан", "not given"),
    # sections
    "tcard.s.registration": ("Регистрация", "Registration"),
    "tcard.s.outcome": ("Итог контакта", "Outcome"),
    "tcard.s.client": ("Клиент", "Client"),
    "tcard.s.cars": ("Автомобили клиента", "Client's cars"),
    "tcard.s.documents": ("Незакрытые документы", "Unclosed documents"),
    "tcard.s.switches": ("Внутренние коммутации", "Internal switches"),
    "tcard.s.history": ("История изменений", "History of changes"),
    "tcard.s.note": ("Примечание", "Note"),
    "tcard.note_hint": ("Что важно знать о контакте", "What matters about this contact"),
    # registration fields
    "tcard.r.type": ("Контакт", "Contact"),
    "tcard.r.purpose": ("Цель контакта", "Contact purpose"),
    "tcard.r.first": ("Первый / повторный", "First / repeat"),
    "tcard.r.first_yes": ("Первый контакт", "First contact"),
    "tcard.r.first_no": ("Повторный контакт", "Repeat contact"),
    "tcard.r.source": ("Источник", "Info source"),
    "tcard.r.branch": ("Филиал", "Branch"),
    "tcard.r.region": ("Регион", "Region"),
    "tcard.r.registered_by": ("Сотрудник", "Registered by"),
    "tcard.r.when": ("Дата/время", "Date/time"),
    "tcard.r.phone": ("Телефон", "Phone"),
    "tcard.r.car": ("Автомобиль", "Car"),
    "tcard.r.vin": ("VIN номер", "VIN"),
    "tcard.r.plate": ("Гос. номер", "Plate"),
    "tcard.r.extra": ("Дополнительная информация", "Extra information"),
    "tcard.r.origin": ("Откуда", "Came from"),
    "tcard.origin.desk": ("Рабочее место", "Desk"),
    "tcard.origin.kiosk": ("Киоск на ресепшн", "Reception kiosk"),
    "tcard.origin.script": ("Интеграция", "Integration"),
    "tcard.origin.phone": ("Телефония", "Telephony"),
    # outcome
    "tcard.o.queued": ("В очереди ожидания с", "Waiting since"),
    "tcard.o.taken": ("Взят в работу", "Taken"),
    "tcard.o.processed_by": ("Обработал", "Processed by"),
    "tcard.o.processed_at": ("Дата обработки", "Processed at"),
    "tcard.o.document": ("Документ", "Document"),
    "tcard.o.ignore_reason": ("Причина игнорирования", "Reason to ignore"),
    "tcard.o.loss_reason": ("Причина потери", "Reason lost"),
    "tcard.o.duration": ("Длительность", "Duration"),
    "tcard.o.none": ("Контакт ещё не обработан", "The contact is not processed yet"),
    # client
    "tcard.c.name": ("Наименование", "Name"),
    "tcard.c.phones": ("Контакты", "Contacts"),
    "tcard.c.registered": ("Зарегистрирован", "Registered"),
    "tcard.c.last_in": ("Последний вх. контакт", "Last incoming contact"),
    "tcard.c.last_out": ("Последний исх. контакт", "Last outgoing contact"),
    "tcard.c.note": ("Примечание", "Note"),
    "tcard.c.no_data": ("-нет данных-", "-no data-"),
    "tcard.c.none": (
        "Клиент не указан — выберите его при обработке или в журнале",
        "No client on this contact",
    ),
    "tcard.c.crm": ("CRM-статусы и категории ABC", "CRM statuses and ABC categories"),
    "tcard.line.service": ("Ремонт автомобилей", "Car repair"),
    "tcard.line.parts": ("Продажа запасных частей", "Parts sales"),
    "tcard.line.sales": ("Продажа автомобилей", "Car sales"),
    "tcard.crm.unset": ("Не установлен", "Not set"),
    "tcard.crm.potential": ("Потенциальный", "Potential"),
    "tcard.crm.in_work": ("В работе", "In work"),
    "tcard.crm.real": ("Реальный", "Real"),
    "tcard.crm.lost": ("Упущенный", "Lost"),
    "tcard.crm.inactive": ("Не активен", "Inactive"),
    "tcard.abc_none": ("Не установлена", "Not set"),
    # table columns
    "tcard.col.id": ("ID", "ID"),
    "tcard.col.plate": ("Гос.номер", "Plate"),
    "tcard.col.year": ("Год", "Year"),
    "tcard.col.mileage": ("Пробег", "Mileage"),
    "tcard.col.warranty": ("ДНГ", "Warranty"),
    "tcard.col.vin": ("VIN номер", "VIN"),
    "tcard.col.model": ("Автомобиль", "Car"),
    "tcard.col.car_note": ("Примечание по автомобилю", "Note on the car"),
    "tcard.col.doc": ("Документ", "Document"),
    "tcard.col.date": ("Дата", "Date"),
    "tcard.col.sum": ("Сумма", "Sum"),
    "tcard.col.status": ("Статус", "Status"),
    "tcard.col.employee": ("Сотрудник", "Employee"),
    "tcard.col.car": ("Автомобиль", "Car"),
    "tcard.col.doc_note": ("Примечание по документу", "Note on the document"),
    "tcard.col.no": ("№ п/п", "No."),
    "tcard.col.start": ("Начало", "Start"),
    "tcard.col.who": ("Сотрудники", "Employees"),
    "tcard.col.duration": ("Длительность", "Duration"),
    "tcard.col.note": ("Примечание", "Note"),
    "tcard.col.when": ("Когда", "When"),
    "tcard.col.by": ("Кто", "Who"),
    "tcard.col.what": ("Что изменилось", "What changed"),
    "tcard.empty.cars": ("У клиента нет автомобилей", "The client has no cars"),
    "tcard.empty.documents": ("Незакрытых документов нет", "No unclosed documents"),
    "tcard.empty.switches": ("Коммутаций не было", "No internal switches"),
    "tcard.empty.history": ("Изменений нет", "No changes"),
    # history, in words
    "tcard.h.register": ("Зарегистрирован", "Registered"),
    "tcard.h.queue": ("Помещён в очередь ожидания", "Put into the waiting queue"),
    "tcard.h.transfer": ("Переведён: {to}", "Transferred to {to}"),
    "tcard.h.finish": ("Зарегистрирован и завершён", "Registered and finished"),
    "tcard.h.take": ("Взят в работу", "Taken into work"),
    "tcard.h.assign": ("Назначен: {to}", "Assigned to {to}"),
    "tcard.h.reassign": ("Переназначен: {from_} → {to}", "Reassigned: {from_} → {to}"),
    "tcard.h.create_document": ("Создан документ {doc}", "Document {doc} created"),
    "tcard.h.attach_document": ("Прикреплен к документу {doc}", "Attached to document {doc}"),
    "tcard.h.ignore": ("Проигнорирован: {reason}", "Ignored: {reason}"),
    "tcard.h.auto_ignore": (
        "Проигнорирован автоматически: не обработан за {days} дн.",
        "Ignored automatically: unprocessed for {days} days",
    ),
    "tcard.h.lose": ("Упущенный контакт: {reason}", "Lost contact: {reason}"),
    "tcard.h.cancel": ("Обработка отменена (было: {was})", "Processing cancelled (was: {was})"),
    "tcard.h.note": ("Изменено примечание", "Note changed"),
    "tcard.h.leave_queue": ("Ушёл из очереди: {reason}", "Left the queue: {reason}"),
    "tcard.h.responsible": ("ответственный: {name}", "responsible: {name}"),
    "tcard.h.system": ("Система", "System"),
    "tcard.h.nobody": ("—", "—"),
}
i18n.register(STRINGS)
load_kv(__file__)

_S = TrafficStatus
CRM_TONES = {
    "in_work": "in_work",
    "potential": "new",
    "real": "processed",
    "lost": "lost",
    "inactive": "ignored",
    "unset": "neutral",
}
LINES = ("service", "parts", "sales")
CARD_ACTIONS = ("take", "reassign", "dial", "process", "ignore", "cancel", "note")


def _allowed(status: str, action: Action) -> bool:
    try:
        return (_S(status), action) in TRANSITIONS
    except ValueError:
        return False


def card_actions(
    row: Mapping[str, Any], session: Session | None, *, can_dial: bool = False
) -> dict[str, bool]:
    """Which of the card's actions are enabled: the state machine and the employee's rights.

    «Взять себе» also needs the contact not to be someone else's already in work (the domain
    would refuse it with ``Taken``); «Набрать» needs a dial hook and a phone."""
    status = str(row["status"])
    if session is None:
        return dict.fromkeys(
            ("take", "reassign", "dial", "process", "ignore", "cancel", "note"), False
        )
    holder = row["responsible_id"]
    return {
        "take": session.may(Right.TAKE)
        and _allowed(status, Action.TAKE)
        and (status == _S.NEW or holder is None),
        "reassign": session.may(Right.ASSIGN) and _allowed(status, Action.ASSIGN),
        "dial": can_dial,
        "process": session.may(Right.PROCESS) and _allowed(status, Action.CREATE_DOCUMENT),
        "ignore": session.may(Right.PROCESS) and _allowed(status, Action.IGNORE),
        "cancel": session.may(Right.PROCESS) and _allowed(status, Action.CANCEL),
        "note": _allowed(status, Action.NOTE),
    }


def format_duration(seconds: int | None) -> str:
    """«02:38», «1:02:38»: the journal's «Длительность»."""
    if seconds is None:
        return ""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _grouped(n: int | None) -> str:
    if n is None:
        return ""
    sep = "\u00a0" if i18n.current_lang() == "ru" else ","
    return f"{n:,}".replace(",", sep)


class TrafficCardVM(EventDispatcher):  # type: ignore[misc]
    """One contact as the card shows it, and the card's commands.

    ``services`` is ``app.services``; a ``dial(phone, counterparty_id=…, traffic_id=…)`` hook
    on it (telephony) enables «Набрать». Commands return ``None`` or the user's error and
    announce the outcome through ``on_message(text, tone)``."""

    traffic_id = StringProperty("")
    loaded = BooleanProperty(False)
    missing = BooleanProperty(False)
    signed_in = BooleanProperty(False)
    # header
    title = StringProperty("")
    type_icon = StringProperty("visit")
    type_text = StringProperty("")
    when_text = StringProperty("")
    status = StringProperty("")
    status_text = StringProperty("")
    status_tone = StringProperty("neutral")
    purpose_text = StringProperty("")
    department_text = StringProperty("")
    responsible_text = StringProperty("")
    responsible_presence = StringProperty("away")
    has_responsible = BooleanProperty(False)
    client_text = StringProperty("")
    # sections
    registration = ListProperty([])  # [(label, value)]
    outcome = ListProperty([])
    client = ListProperty([])
    has_client = BooleanProperty(False)
    crm_lines = ListProperty([])  # [{"line", "status", "tone", "abc"}]
    cars = ListProperty([])
    documents = ListProperty([])
    switches = ListProperty([])
    history = ListProperty([])
    note = StringProperty("")
    # actions
    enabled = DictProperty({})  # action -> allowed (``card_actions``); kv reads the can_*
    can_take = BooleanProperty(False)
    can_reassign = BooleanProperty(False)
    can_dial = BooleanProperty(False)
    can_process = BooleanProperty(False)
    can_ignore = BooleanProperty(False)
    can_cancel = BooleanProperty(False)
    can_note = BooleanProperty(False)
    bar_hint = StringProperty("")
    __events__ = ("on_message",)

    def __init__(self, services: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.row: dict[str, Any] | None = None
        self.cars_raw: list[dict[str, Any]] = []
        self._open_docs: list[dict[str, Any]] = []
        self._names: dict[str, str | None] = {}
        i18n.on_lang_change(self._on_lang)

    # -- reading ------------------------------------------------------------------------------

    def open(self, traffic_id: str) -> None:
        self.traffic_id = traffic_id
        self.reload()

    def _on_lang(self, _lang: str) -> None:
        if not self.traffic_id:
            return
        try:
            self.reload()
        except sqlite3.ProgrammingError:  # an app that was closed: its store is gone
            log.debug("language switched after the card's store closed")

    def reload(self, *_: Any) -> None:
        session = self.services.session
        self.signed_in = session is not None
        self._names = {}
        if not self.traffic_id:
            self.loaded, self.missing, self.row = False, False, None
            self.enabled = card_actions({"status": "", "responsible_id": None}, None)
            return
        row = self.services.reader.traffic(self.traffic_id)
        if row is None:
            self.loaded, self.missing, self.row = False, True, None
            self.enabled = card_actions({"status": "", "responsible_id": None}, None)
            return
        self.row = row
        self.missing = False
        self._header(row)
        self._registration(row)
        self._outcome(row)
        self._client(row)
        self._switches(row)
        self._history(row)
        self.note = row["note"] or ""
        phone = self._phone()
        dial = getattr(self.services, "dial", None)
        self.enabled = card_actions(row, session, can_dial=bool(dial and phone and session))
        if session is None:
            self.bar_hint = i18n.tr("tcard.sign_in")
        elif dial is None:
            self.bar_hint = i18n.tr("tcard.no_dial")
        elif not phone:
            self.bar_hint = i18n.tr("tcard.no_phone")
        else:
            self.bar_hint = ""
        self.loaded = True

    def on_enabled(self, _vm: Any, enabled: Mapping[str, bool]) -> None:
        for action in CARD_ACTIONS:
            setattr(self, f"can_{action}", bool(enabled.get(action, False)))

    def _name(self, employee_id: str | None) -> str | None:
        if not employee_id:
            return None
        if employee_id not in self._names:
            emp = self.services.reader.employee(employee_id)
            self._names[employee_id] = str(emp["short_name"]) if emp else None
        return self._names[employee_id]

    def _header(self, row: Mapping[str, Any]) -> None:
        number = row["number"]
        self.title = (
            i18n.tr("tcard.number", n=number) if number else i18n.tr("tcard.pending_number")
        )
        self.type_icon = TYPE_ICONS.get(row["contact_type"], "visit")
        self.type_text = type_label(row["contact_type"])
        self.when_text = i18n.format_datetime(row["contact_at"])
        self.status = row["status"]
        self.status_text = status_label(row["status"])
        self.status_tone = STATUS_TONES.get(row["status"], "neutral")
        purpose = self.services.reader.purpose(row["purpose_id"]) if row["purpose_id"] else None
        self.purpose_text = str(purpose["full_name"]) if purpose else (row["purpose_name"] or "—")
        self.department_text = dept_label(row["department"])
        self.has_responsible = bool(row["responsible_id"])
        self.responsible_text = row["responsible_name"] or i18n.tr("tcard.unassigned")
        self.responsible_presence = row["responsible_presence"] or "away"
        self.client_text = row["client_full_name"] or row["phone"] or i18n.tr("tcard.no_client")

    def _reference(self, table: str, ref_id: str | None) -> str:
        if not ref_id:
            return ""
        names = {r["id"]: r["name"] for r in self.services.reader.reference(table)}
        return str(names.get(ref_id, ""))

    def _registration(self, row: Mapping[str, Any]) -> None:
        car = row["make_model"]
        if row["car_id"]:
            found = self._car(row["car_id"])
            if found is not None:
                car = car or _car_model(found)
        first = i18n.tr("tcard.r.first_yes" if row["first_contact"] else "tcard.r.first_no")
        pairs = [
            ("tcard.r.type", f"{self.type_text} · {self.department_text}"),
            ("tcard.r.purpose", self.purpose_text),
            ("tcard.r.first", first),
            ("tcard.r.when", i18n.format_datetime(row["contact_at"])),
            ("tcard.r.source", self._reference("info_sources", row["info_source_id"])),
            ("tcard.r.branch", self._reference("branches", row["branch_id"])),
            ("tcard.r.region", self._reference("regions", row["region_id"])),
            ("tcard.r.registered_by", row["registered_by_name"] or ""),
            ("tcard.r.origin", i18n.tr(f"tcard.origin.{row['origin']}")),
            ("tcard.r.phone", row["phone"] or ""),
            ("tcard.r.car", car or ""),
            ("tcard.r.vin", row["vin"] or ""),
            ("tcard.r.plate", row["plate"] or ""),
            ("tcard.r.extra", row["extra_info"] or ""),
        ]
        self.registration = [(i18n.tr(k), v or "—") for k, v in pairs]

    def _outcome(self, row: Mapping[str, Any]) -> None:
        pairs: list[tuple[str, str]] = []
        if row["queued_at"]:
            pairs.append(("tcard.o.queued", i18n.format_datetime(row["queued_at"])))
        if row["taken_at"]:
            pairs.append(("tcard.o.taken", i18n.format_datetime(row["taken_at"])))
        if row["document_id"]:
            pairs.append(("tcard.o.document", self._doc_label(row["document_id"])))
        if row["ignore_reason"]:
            pairs.append(("tcard.o.ignore_reason", row["ignore_reason"]))
        if row["loss_reason"]:
            pairs.append(("tcard.o.loss_reason", row["loss_reason"]))
        if row["processed_by_name"]:
            pairs.append(("tcard.o.processed_by", row["processed_by_name"]))
        if row["processed_at"]:
            pairs.append(("tcard.o.processed_at", i18n.format_datetime(row["processed_at"])))
        if row["duration_s"] is not None:
            pairs.append(("tcard.o.duration", format_duration(row["duration_s"])))
        self.outcome = [(i18n.tr(k), v) for k, v in pairs]

    def _doc_label(self, document_id: str) -> str:
        doc = self.services.reader.document(document_id)
        if doc is None:
            return "—"
        return _doc_title(doc)

    def _car(self, car_id: str) -> dict[str, Any] | None:
        return next((c for c in self.cars_raw if c["id"] == car_id), None)

    def _client(self, row: Mapping[str, Any]) -> None:
        cp_id = row["counterparty_id"]
        clients = self.services.clients
        cp = clients.counterparty(cp_id) if cp_id else None
        self.has_client = cp is not None
        if cp is None:
            self.client, self.crm_lines, self.cars, self.documents = [], [], [], []
            self.cars_raw, self._open_docs = [], []
            self._registration_car_fix(row)
            return
        contacts = clients.contacts_of([cp_id]).get(cp_id, [])
        none = i18n.tr("tcard.c.no_data")
        self.client = [
            (i18n.tr("tcard.c.name"), cp["full_name"]),
            (i18n.tr("tcard.c.phones"), ", ".join(c["value"] for c in contacts) or "—"),
            (i18n.tr("tcard.c.registered"), i18n.format_date(cp["registered_at"]) or none),
            (i18n.tr("tcard.c.last_in"), i18n.format_date(cp["last_in_contact_at"]) or none),
            (i18n.tr("tcard.c.last_out"), i18n.format_date(cp["last_out_contact_at"]) or none),
            (i18n.tr("tcard.c.note"), cp["note"] or "—"),
        ]
        lines = clients.lines_of(cp_id)
        self.crm_lines = [
            {
                "line": i18n.tr(f"tcard.line.{line}"),
                "status": _crm_label(lines[line]["crm_status"] if line in lines else "unset"),
                "tone": CRM_TONES.get(
                    lines[line]["crm_status"] if line in lines else "", "neutral"
                ),
                "abc": (lines[line]["abc"] if line in lines else "") or i18n.tr("tcard.abc_none"),
            }
            for line in LINES
        ]
        self.cars_raw = clients.cars_of([cp_id]).get(cp_id, [])
        self.cars = [
            {
                "id": str(c["number"] or ""),
                "plate": c["plate"] or "",
                "year": str(c["year"] or ""),
                "mileage": _grouped(c["mileage"]),
                "warranty": i18n.format_date(c["warranty_start"]),
                "vin": c["vin"] or "",
                "model": _car_model(c),
                "note": c["note"] or "",
                "mark": c["id"] == row["car_id"],
            }
            for c in self.cars_raw
        ]
        self._registration_car_fix(row)
        self._open_docs = clients.open_documents_of([cp_id]).get(cp_id, [])
        cars = {c["id"]: c for c in self.cars_raw}
        self.documents = [
            {
                "doc_id": d["id"],
                "doc": _doc_title(d),
                "date": i18n.format_date(d["doc_date"]),
                "sum": format_money(d["amount_kop"]),
                "status": d["status"] or "",
                "employee": self._name(d["employee_id"]) or "",
                "car": _car_short(cars.get(d["car_id"])),
                "note": d["note"] or "",
                "mark": d["id"] == row["document_id"],
            }
            for d in self._open_docs
        ]

    @staticmethod
    def _crm_line(line: str, found: Mapping[str, Any] | None) -> dict[str, str]:
        status = str(found["crm_status"]) if found else "unset"
        return {
            "line": i18n.tr(f"tcard.line.{line}"),
            "status": _crm_label(status),
            "tone": CRM_TONES.get(status, "neutral"),
            "abc": (str(found["abc"]) if found else "") or i18n.tr("tcard.abc_none"),
        }

    def _registration_car_fix(self, row: Mapping[str, Any]) -> None:
        """The car line of the registration block, once the client's cars are known."""
        if not row["car_id"] or row["make_model"]:
            return
        car = self._car(row["car_id"])
        if car is None:
            return
        label = i18n.tr("tcard.r.car")
        self.registration = [
            (k, _car_model(car) if k == label else v) for k, v in self.registration
        ]

    def _switches(self, row: Mapping[str, Any]) -> None:
        found = self.services.reader.switches([row["id"]]).get(row["id"], [])
        self.switches = [
            {
                "no": str(i),
                "start": i18n.format_datetime(s["started_at"]),
                "who": f"{s['from_name'] or '—'} → {s['to_name'] or '—'}",
                "duration": format_duration(s["duration_s"]) or "—",
                "note": s["note"] or "",
            }
            for i, s in enumerate(found, 1)
        ]

    def _history(self, row: Mapping[str, Any]) -> None:
        events = self.services.reader.history(row["id"])
        self.history = [
            {
                "when": i18n.format_datetime(e["at"]),
                "by": e["employee_name"] or self._actor(e, row),
                "what": self.describe(e),
            }
            for e in reversed(events)  # newest first
        ]

    def _actor(self, event: Mapping[str, Any], row: Mapping[str, Any]) -> str:
        if event["action"] in (Action.REGISTER, Action.QUEUE) and row["origin"] != "desk":
            return i18n.tr(f"tcard.origin.{row['origin']}")
        return i18n.tr("tcard.h.system")

    def describe(self, event: Mapping[str, Any]) -> str:
        """One history event in words (``traffic_events.action`` + its JSON detail)."""
        action = str(event["action"])
        try:
            detail = json.loads(event["detail"] or "{}")
        except ValueError:
            detail = {}
        name = self._name
        nobody = i18n.tr("tcard.h.nobody")
        if action in (Action.REGISTER, Action.QUEUE, Action.FINISH):
            text = i18n.tr(f"tcard.h.{action}")
            who = name(detail.get("responsible_id"))
            return f"{text}, {i18n.tr('tcard.h.responsible', name=who)}" if who else text
        if action == Action.TRANSFER:
            to = name(detail.get("to") or detail.get("responsible_id")) or nobody
            return i18n.tr("tcard.h.transfer", to=to)
        if action == Action.ASSIGN:
            to = name(detail.get("to")) or nobody
            src = name(detail.get("from"))
            if src:
                return i18n.tr("tcard.h.reassign", from_=src, to=to)
            return i18n.tr("tcard.h.assign", to=to)
        if action in (Action.CREATE_DOCUMENT, Action.ATTACH_DOCUMENT):
            doc_id = detail.get("document_id")
            return i18n.tr(f"tcard.h.{action}", doc=self._doc_label(doc_id) if doc_id else "")
        if action == Action.IGNORE:
            return i18n.tr("tcard.h.ignore", reason=detail.get("ignore_reason", ""))
        if action == Action.AUTO_IGNORE:
            return i18n.tr("tcard.h.auto_ignore", days=detail.get("days", "?"))
        if action == Action.LOSE:
            return i18n.tr("tcard.h.lose", reason=detail.get("reason", ""))
        if action == Action.LEAVE_QUEUE:
            return i18n.tr("tcard.h.leave_queue", reason=detail.get("reason", "") or nobody)
        if action == Action.CANCEL:
            return i18n.tr("tcard.h.cancel", was=status_label(detail.get("was")))
        if action in (Action.TAKE, Action.NOTE):
            return i18n.tr(f"tcard.h.{action}")
        return action

    def _phone(self) -> str:
        row = self.row or {}
        if row.get("phone"):
            return str(row["phone"])
        cp_id = row.get("counterparty_id")
        if cp_id:
            for c in self.services.clients.contacts_of([cp_id]).get(cp_id, []):
                if c["kind"] == "phone":
                    return str(c["value"])
        return ""

    # -- commands -----------------------------------------------------------------------------

    def _act(self, action: Callable[[], Any], ok: str, *, in_dialog: bool = False) -> str | None:
        _, error = run_action(action, self._name)
        self.reload()
        if error is None:
            self.dispatch("on_message", ok, "processed")
        elif not in_dialog:
            self.dispatch("on_message", error, "danger")
        return error

    def _session(self) -> Session:
        session: Session = self.services.require_session()
        return session

    def take(self) -> str | None:
        tid = self.traffic_id
        return self._act(
            lambda: self.services.traffic.take(tid, self._session()), i18n.tr("tcard.done.take")
        )

    def reassign(self, employee_id: str) -> str | None:
        tid = self.traffic_id
        return self._act(
            lambda: self.services.traffic.assign(tid, employee_id, self._session()),
            i18n.tr("tcard.done.reassign", name=self._name(employee_id) or ""),
            in_dialog=True,
        )

    def create_document(self, doc_type: str, amount_kop: int, doc_no: str, note: str) -> str | None:
        tid = self.traffic_id
        return self._act(
            lambda: self.services.traffic.create_document(
                tid, self._session(), doc_type, amount_kop=amount_kop, doc_no=doc_no, note=note
            ),
            i18n.tr("tcard.done.create"),
            in_dialog=True,
        )

    def attach_document(self, document_id: str) -> str | None:
        tid = self.traffic_id
        return self._act(
            lambda: self.services.traffic.attach_document(tid, document_id, self._session()),
            i18n.tr("tcard.done.attach"),
            in_dialog=True,
        )

    def ignore(self, reason: str) -> str | None:
        tid = self.traffic_id
        return self._act(
            lambda: self.services.traffic.ignore(tid, reason, self._session()),
            i18n.tr("tcard.done.ignore"),
            in_dialog=True,
        )

    def cancel(self) -> str | None:
        tid = self.traffic_id
        return self._act(
            lambda: self.services.traffic.cancel(tid, self._session()),
            i18n.tr("tcard.done.cancel"),
        )

    def save_note(self, text: str) -> str | None:
        tid = self.traffic_id
        return self._act(
            lambda: self.services.traffic.set_note(tid, self._session(), text),
            i18n.tr("tcard.done.note"),
        )

    def dial(self) -> str | None:
        hook = getattr(self.services, "dial", None)
        phone = self._phone()
        row = self.row or {}
        return self._act(
            lambda: (
                hook(phone, counterparty_id=row.get("counterparty_id"), traffic_id=row["id"])
                if hook
                else None
            ),
            i18n.tr("tcard.done.dial", phone=phone),
        )

    def process_vm(self) -> ProcessVM:
        """The «Обработать» dialog's view-model, over this contact and its client's documents."""
        row = self.row or {}
        cars = {c["id"]: c for c in self.cars_raw}
        documents = [
            {
                "doc_id": d["id"],
                "title": _doc_title(d),
                "detail": " · ".join(
                    x
                    for x in (
                        i18n.format_date(d["doc_date"]),
                        self._name(d["employee_id"]) or "",
                        _car_short(cars.get(d["car_id"])),
                        d["note"] or "",
                    )
                    if x
                ),
                "amount": format_money(d["amount_kop"]),
                "status": d["status"] or "",
            }
            for d in self._open_docs
        ]
        return ProcessVM(
            department=str(row.get("department") or ""),
            documents=documents,
            has_client=bool(row.get("counterparty_id")),
            on_create=self.create_document,
            on_attach=self.attach_document,
        )

    def on_message(self, text: str, tone: str) -> None:
        pass


def _crm_label(status: str) -> str:
    key = f"tcard.crm.{status}"
    return i18n.tr(key) if i18n.has(key) else status


def _car_model(car: Mapping[str, Any]) -> str:
    return " ".join(x for x in (car["make"], car["model"], car["modification"]) if x)


def _car_short(car: Mapping[str, Any] | None) -> str:
    if car is None:
        return ""
    return " ".join(x for x in (_car_model(car), car["plate"]) if x)


def _doc_title(doc: Mapping[str, Any]) -> str:
    if doc["doc_no"]:
        return str(doc["doc_no"])
    return f"{doc_type_label(doc['doc_type'])} {i18n.tr('dlg.proc.no_number')}"


#: The card's tables: (row key, title i18n key, width share, alignment).
CAR_COLUMNS = (
    ("id", "tcard.col.id", 0.5, "right"),
    ("plate", "tcard.col.plate", 0.9, "left"),
    ("year", "tcard.col.year", 0.45, "right"),
    ("mileage", "tcard.col.mileage", 0.7, "right"),
    ("warranty", "tcard.col.warranty", 0.8, "right"),
    ("vin", "tcard.col.vin", 1.5, "left"),
    ("model", "tcard.col.model", 1.4, "left"),
    ("note", "tcard.col.car_note", 1.3, "left"),
)
DOC_COLUMNS = (
    ("doc", "tcard.col.doc", 0.9, "left"),
    ("date", "tcard.col.date", 0.7, "right"),
    ("sum", "tcard.col.sum", 0.9, "right"),
    ("status", "tcard.col.status", 0.8, "left"),
    ("employee", "tcard.col.employee", 0.9, "left"),
    ("car", "tcard.col.car", 1.4, "left"),
    ("note", "tcard.col.doc_note", 1.3, "left"),
)
SWITCH_COLUMNS = (
    ("no", "tcard.col.no", 0.4, "right"),
    ("start", "tcard.col.start", 1.0, "right"),
    ("who", "tcard.col.who", 2.0, "left"),
    ("duration", "tcard.col.duration", 0.7, "right"),
    ("note", "tcard.col.note", 1.5, "left"),
)
HISTORY_COLUMNS = (
    ("when", "tcard.col.when", 1.0, "right"),
    ("by", "tcard.col.by", 1.0, "left"),
    ("what", "tcard.col.what", 3.0, "left"),
)


# --- widgets -----------------------------------------------------------------------------------


class TcTable(BoxLayout):  # type: ignore[misc]
    """A short table inside a card section: header + rows that wrap (never clip), zebra.

    ``columns``: ``(key, title i18n key, weight, align)``; ``rows``: dicts of strings (a
    ``mark`` key highlights the row: the contact's own car or document)."""

    columns = ListProperty([])
    rows = ListProperty([])
    empty_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("rows", "columns", "empty_text"):
            self.fbind(name, self._rebuild)
        i18n.on_lang_change(self._on_lang)
        self._rebuild()

    def _on_lang(self, _lang: str) -> None:
        self._rebuild()

    def _rebuild(self, *_: Any) -> None:
        self.clear_widgets()
        if not self.columns:
            return
        header = TcTableRow(header=True)
        for _key, title, weight, align in self.columns:
            header.add_widget(
                TcTableCell(text=i18n.tr(title), size_hint_x=weight, halign=align, header=True)
            )
        self.add_widget(header)
        if not self.rows:
            self.add_widget(TcTableEmpty(text=self.empty_text))
            return
        for index, row in enumerate(self.rows):
            line = TcTableRow(zebra=index % 2 == 1, mark=bool(row.get("mark")))
            for key, _title, weight, align in self.columns:
                line.add_widget(
                    TcTableCell(text=str(row.get(key, "")), size_hint_x=weight, halign=align)
                )
            self.add_widget(line)


class TcTableRow(BoxLayout):  # type: ignore[misc]
    header = BooleanProperty(False)
    zebra = BooleanProperty(False)
    mark = BooleanProperty(False)


class TcTableCell(Label):  # type: ignore[misc]
    """A table cell that wraps to its width and grows (a long note never clips)."""

    header = BooleanProperty(False)


class TcTableEmpty(Label):  # type: ignore[misc]
    pass


class TcFacts(BoxLayout):  # type: ignore[misc]
    """«Label: value» rows, as the brochure's card lists its fields."""

    facts = ListProperty([])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fbind("facts", self._rebuild)
        self._rebuild()

    def _rebuild(self, *_: Any) -> None:
        from lsnode.ui.theme.widgets import FactRow

        self.clear_widgets()
        for label, value in self.facts:
            self.add_widget(FactRow(label=label, value=str(value)))


class TcCrmLine(BoxLayout):  # type: ignore[misc]
    line = StringProperty("")
    status = StringProperty("")
    tone = StringProperty("neutral")
    abc = StringProperty("")


class TrafficCardScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    back_to = StringProperty("queue")
    car_columns: Any = ObjectProperty(CAR_COLUMNS)
    doc_columns: Any = ObjectProperty(DOC_COLUMNS)
    switch_columns: Any = ObjectProperty(SWITCH_COLUMNS)
    history_columns: Any = ObjectProperty(HISTORY_COLUMNS)

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        vm = TrafficCardVM(app.services)
        super().__init__(app, vm=vm, **kwargs)
        vm.bind(on_message=lambda _vm, text, tone: app.toast(text, tone))
        vm.fbind("crm_lines", self._crm_lines)
        if app.services is not None:
            app.services.on_session.append(lambda _s: self.vm.reload())

    def _crm_lines(self, *_: Any) -> None:
        box = self.ids.crm
        box.clear_widgets()
        for line in self.vm.crm_lines:
            box.add_widget(TcCrmLine(**line))

    def open(self, traffic_id: str, back: str | None = None) -> None:
        """Show ``traffic_id``; «Назад» returns to ``back`` (by default the screen it came from)."""
        if back:
            self.back_to = back
        self.vm.open(traffic_id)
        self.stale = False
        scroll = self.ids.get("scroll")
        if scroll is not None:
            scroll.scroll_y = 1

    def on_pre_enter(self, *args: Any) -> None:
        manager = self.manager
        came_from = getattr(getattr(manager, "transition", None), "screen_out", None)
        if came_from is not None and came_from is not self and came_from.name:
            self.back_to = came_from.name
        super().on_pre_enter(*args)

    def refresh(self) -> None:
        self.vm.reload()

    def screenshot_sample(self) -> None:
        """``lsavto screenshots``: with nothing opened, show the first waiting visitor (else
        the latest contact with a client), as a person would open it from the queue."""
        if self.vm.traffic_id:
            return
        reader = self.app.services.reader
        rows = reader.queue(None)
        if not rows:
            rows, _ = reader.journal(JournalQuery(limit=50))
            rows = [r for r in rows if r["counterparty_id"]] or rows
        if rows:
            self.open(rows[0]["id"], back="queue")

    def go_back(self) -> None:
        self.app.go(self.back_to or "queue")

    # -- actions ----------------------------------------------------------------------------

    def take(self) -> None:
        self.vm.take()

    def reassign(self) -> Any:
        row = self.vm.row or {}
        return pick_employee(
            self.app.services,
            self.vm.reassign,
            title=i18n.tr("tcard.reassign"),
            department=row.get("department"),
            current_id=row.get("responsible_id"),
        )

    def dial(self) -> None:
        self.vm.dial()

    def process(self) -> Any:
        return process_contact(self.vm.process_vm())

    def ignore(self) -> Any:
        return ask_reason(
            IGNORE_REASONS,
            self.vm.ignore,
            title=i18n.tr("dlg.reason.ignore_title"),
            text=i18n.tr("dlg.reason.ignore_text"),
            confirm_text=i18n.tr("tcard.ignore"),
        )

    def cancel_processing(self) -> Any:
        from lsnode.ui.theme.widgets import confirm

        return confirm(
            i18n.tr("tcard.cancel_confirm"),
            i18n.tr("tcard.cancel"),
            self.vm.cancel,
            title=i18n.tr("tcard.cancel") + "?",
            danger=False,
        )

    def save_note(self, text: str) -> None:
        self.vm.save_note(text)


register(
    "traffic_card",
    lambda app: TrafficCardScreen(app),
    label="tcard.title",
    icon="journal",
    order=ORDER.get("journal", 30) + 1,
    nav=False,
)
