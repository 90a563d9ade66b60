"""«Трафик»: Регистрация входящего трафика — the reception's and the call centre's form.

As the brochure has it: the contact type (Звонок / Визит / Интернет), the department tab
(СЕРВИС, АВТОСАЛОН, МАГАЗИН, ОБРАТНАЯ СВЯЗЬ, ПРОЧЕЕ) with its incoming purposes, first or repeat
contact (from the client's history, switchable), info source, branch, region, date-time; the
client found by the one search box as you type («Создать нового», «Добавить указанный телефон
клиенту»), then their cars, open documents, CRM statuses and ABC categories; phone, VIN, plate,
note and extra info; «Итог контакта» — the purpose's responsible employees with presence and
«unprocessed / transferred today» counts, Available first. Actions: Зарегистрировать, Поместить
в очередь ожидания, Перевести, Завершить (``Traffic.register``); then «Зарегистрирован» and a
clean form for the next contact.

``RegistrationVM`` holds all of it (tested without a window); ``TrafficScreen`` and the kv only
draw it. The purpose's settings (require make/model, require region) are checked here first, so
the message names the purpose in the user's language.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.dropdown import DropDown
from kivy.uix.modalview import ModalView

from lsnode.clock import instant
from lsnode.crm.clients import ClientDraft, add_client
from lsnode.crm.normalize import normalize_phone, phone_problem_message
from lsnode.crm.purposes import responsible_for
from lsnode.crm.staff import Right
from lsnode.crm.traffic import Action, Registered, TrafficDraft
from lsnode.errors import InputError, LsnodeError, QueryError
from lsnode.store.ports import Row
from lsnode.store.schema import BUSINESS_LINES, CONTACT_TYPES, DEPARTMENTS
from lsnode.ui import i18n
from lsnode.ui.screens import ORDER, LsScreen, load_kv, register

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "traffic.nav": ("Трафик", "Traffic"),
    "traffic.title": ("Регистрация входящего трафика", "Incoming traffic registration"),
    "traffic.contact": ("Контакт", "Contact"),
    "traffic.type.call": ("Звонок", "Call"),
    "traffic.type.visit": ("Визит", "Visit"),
    "traffic.type.internet": ("Интернет", "Internet"),
    "traffic.dept.service": ("СЕРВИС", "SERVICE"),
    "traffic.dept.salon": ("АВТОСАЛОН", "SHOWROOM"),
    "traffic.dept.shop": ("МАГАЗИН", "SHOP"),
    "traffic.dept.feedback": ("ОБРАТНАЯ СВЯЗЬ", "FEEDBACK"),
    "traffic.dept.other": ("ПРОЧЕЕ", "OTHER"),
    "traffic.no_purposes": (
        "В этом отделе нет целей входящих контактов: их добавляют в «Целях контактов»",
        "This department has no incoming purposes: add them in Contact purposes",
    ),
    "traffic.first": ("Первый контакт", "First contact"),
    "traffic.repeat": ("Повторный контакт", "Repeat contact"),
    "traffic.info_source": ("Источник информации", "Info source"),
    "traffic.branch": ("Филиал", "Branch"),
    "traffic.region": ("Регион", "Region"),
    "traffic.when": ("Дата и время", "Date and time"),
    "traffic.when_hint": ("ДД.ММ.ГГГГ ЧЧ:ММ", "DD.MM.YYYY HH:MM"),
    "traffic.now": ("Сейчас", "Now"),
    "traffic.not_set": ("Не указан", "Not set"),
    "traffic.client": ("Клиент", "Client"),
    "traffic.search_hint": (
        "Имя, телефон, гос. номер или VIN",
        "Name, phone, plate or VIN",
    ),
    "traffic.search_none": (
        "Никого не нашли. Проверьте написание или создайте нового клиента",
        "Nobody found. Check the spelling or create a new client",
    ),
    "traffic.search_more": (
        "Показаны первые {n}: уточните запрос",
        "Showing the first {n}: narrow the search",
    ),
    "traffic.create": ("Создать нового", "Create new"),
    "traffic.add_phone": ("Добавить указанный телефон клиенту", "Add this phone to the client"),
    "traffic.phone_added": ("Телефон добавлен клиенту", "The phone was added to the client"),
    "traffic.phone_known": ("У клиента уже есть этот телефон", "The client already has it"),
    "traffic.change_client": ("Другой клиент", "Another client"),
    "traffic.registered_at": ("Зарегистрирован", "Registered"),
    "traffic.last_in": ("Последний вх. контакт", "Last incoming contact"),
    "traffic.last_out": ("Последний исх. контакт", "Last outgoing contact"),
    "traffic.no_data": ("нет данных", "no data"),
    "traffic.cars": ("Автомобили клиента", "Client's cars"),
    "traffic.no_cars": ("Автомобилей нет", "No cars"),
    "traffic.documents": ("Открытые документы", "Open documents"),
    "traffic.no_documents": ("Открытых документов нет", "No open documents"),
    "traffic.phone": ("Телефон", "Phone"),
    "traffic.vin": ("VIN номер", "VIN"),
    "traffic.plate": ("Гос. номер", "Plate"),
    "traffic.make_model": ("Марка и модель", "Make and model"),
    "traffic.make_model_hint": ("Например: Kia Rio", "E.g. Kia Rio"),
    "traffic.note": ("Примечание", "Note"),
    "traffic.extra": ("Дополнительная информация", "Extra information"),
    "traffic.required": ("обязательно для этой цели", "required for this purpose"),
    "traffic.outcome": ("Итог контакта", "Contact outcome"),
    "traffic.responsible": ("Ответственный сотрудник", "Responsible employee"),
    "traffic.counts_hint": (
        "Количество необработанного трафика / переведенного за сегодня",
        "Unprocessed traffic / transferred today",
    ),
    "traffic.nobody": (
        "Для этой цели нет ответственных сотрудников",
        "Nobody is responsible for this purpose",
    ),
    "traffic.register": ("Зарегистрировать", "Register"),
    "traffic.queue": ("Поместить в очередь ожидания", "Put in the waiting queue"),
    "traffic.transfer": ("Перевести", "Transfer"),
    "traffic.finish": ("Завершить", "Finish"),
    "traffic.done.register": ("Зарегистрирован", "Registered"),
    "traffic.done.register_to": ("Зарегистрирован: {name}", "Registered: {name}"),
    "traffic.done.queue": ("Помещён в очередь ожидания", "Put in the waiting queue"),
    "traffic.done.transfer": ("Переведён: {name}", "Transferred: {name}"),
    "traffic.done.finish": ("Завершён", "Finished"),
    "traffic.warn.phone": (
        "Телефон сохранён как введён: он не распознан",
        "The phone was kept as typed: it was not recognised",
    ),
    "traffic.err.sign_in": (
        "Войдите в систему, чтобы регистрировать контакты",
        "Sign in to register contacts",
    ),
    "traffic.err.right": (
        "У вас нет права регистрировать входящий трафик",
        "You have no right to register incoming traffic",
    ),
    "traffic.err.purpose": ("Выберите цель контакта", "Choose the purpose of the contact"),
    "traffic.err.client": (
        "Выберите клиента или введите его телефон («Создать нового», если клиент новый)",
        "Pick the client or type their phone (“Create new” for a new client)",
    ),
    "traffic.err.car": (
        "Для цели «{purpose}» укажите марку и модель автомобиля (или выберите автомобиль)",
        "The purpose “{purpose}” needs the car's make and model (or pick a car)",
    ),
    "traffic.err.region": (
        "Для цели «{purpose}» укажите регион",
        "The purpose “{purpose}” needs the region",
    ),
    "traffic.err.transfer": (
        "Выберите в «Итоге контакта» сотрудника, которому перевести контакт",
        "Choose the employee to transfer the contact to under Contact outcome",
    ),
    "traffic.err.when": (
        "Дата и время — в виде ДД.ММ.ГГГГ ЧЧ:ММ, например 18.12.2017 17:31",
        "Date and time as DD.MM.YYYY HH:MM, e.g. 18.12.2017 17:31",
    ),
    "traffic.err.future": (
        "Время контакта ещё не наступило: проверьте дату и время",
        "The contact's time is in the future: check the date and time",
    ),
    "traffic.err.other": (
        "Не удалось зарегистрировать контакт: {detail}",
        "Could not register the contact: {detail}",
    ),
    "traffic.new.title": ("Новый клиент", "New client"),
    "traffic.new.name": ("ФИО или наименование", "Full name or company name"),
    "traffic.new.name_hint": ("Иванов Василий Алибабаевич", "John Smith"),
    "traffic.new.person": ("Физ. лицо", "Person"),
    "traffic.new.company": ("Юр. лицо", "Company"),
    "traffic.new.save": ("Создать", "Create"),
    "traffic.new.cancel": ("Отмена", "Cancel"),
    "traffic.new.done": ("Клиент создан: {name}", "Client created: {name}"),
    "traffic.new.err_name": (
        "Введите ФИО клиента или наименование организации",
        "Type the client's full name or the company's name",
    ),
    "traffic.new.err": ("Клиент не создан: {detail}", "The client was not created: {detail}"),
    "traffic.line.service": ("Сервис", "Service"),
    "traffic.line.parts": ("Запчасти", "Parts"),
    "traffic.line.sales": ("Продажи", "Sales"),
    "traffic.crm.unset": ("Не установлен", "Not set"),
    "traffic.crm.potential": ("Потенциальный", "Potential"),
    "traffic.crm.in_work": ("В работе", "In work"),
    "traffic.crm.real": ("Реальный", "Real"),
    "traffic.crm.lost": ("Упущенный", "Lost"),
    "traffic.crm.inactive": ("Неактивный", "Inactive"),
}
i18n.register(STRINGS)
load_kv(__file__)

SEARCH_LIMIT = 8
DEBOUNCE_S = 0.15
PRESENCE_RANK = {"available": 0, "busy": 1, "away": 2}
CRM_TONES = {
    "potential": "new",
    "in_work": "in_work",
    "real": "processed",
    "lost": "lost",
    "inactive": "ignored",
}
DONE_KEYS = {
    Action.REGISTER: "traffic.done.register",
    Action.QUEUE: "traffic.done.queue",
    Action.TRANSFER: "traffic.done.transfer",
    Action.FINISH: "traffic.done.finish",
}
Notify = Callable[[str, str], None]


def car_title(car: Row) -> str:
    """«Mercedes-Benz E 220 CDI» — make, model and modification as the brochure shows a car."""
    return " ".join(p for p in (car.get("make"), car.get("model"), car.get("modification")) if p)


def _phone_like(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    return digits >= 5 and all(c.isdigit() or c in "+-() ." for c in text.strip())


def _local_tz() -> Any:
    return i18n.local(datetime.now().astimezone()).tzinfo


class RegistrationVM(EventDispatcher):  # type: ignore[misc]
    """The registration form. ``services`` is ``app.services``; ``notify(message, tone)`` shows
    a toast. Lists are dicts ready to draw; ``message`` is the last problem, in words."""

    contact_type = OptionProperty("call", options=list(CONTACT_TYPES))
    department = OptionProperty("service", options=list(DEPARTMENTS))
    purposes = ListProperty([])  # {id, name, require_car, require_region, selected}
    purpose_id = StringProperty("")
    require_car = BooleanProperty(False)
    require_region = BooleanProperty(False)
    first_contact = BooleanProperty(True)
    first_auto = BooleanProperty(True)  # decided from the client's history
    info_sources = ListProperty([])  # {id, name}
    branches = ListProperty([])
    regions = ListProperty([])
    info_source_id = StringProperty("")
    branch_id = StringProperty("")
    region_id = StringProperty("")
    info_source_name = StringProperty("")
    branch_name = StringProperty("")
    region_name = StringProperty("")
    contact_at_text = StringProperty("")
    contact_at_edited = BooleanProperty(False)
    query = StringProperty("")
    hits = ListProperty([])  # {cp_id, name, phones, cars}
    search_message = StringProperty("")
    client_id = StringProperty("")
    client_name = StringProperty("")
    client_facts = ListProperty([])  # (label, value)
    client_phones = StringProperty("")
    client_lines = ListProperty([])  # {text, tone}
    cars = ListProperty([])  # {car_id, title, plate, year, vin, selected}
    car_id = StringProperty("")
    documents = ListProperty([])  # {doc_no, date, status, employee}
    phone = StringProperty("")
    phone_problem = StringProperty("")
    vin = StringProperty("")
    plate = StringProperty("")
    make_model = StringProperty("")
    note = StringProperty("")
    extra_info = StringProperty("")
    responsible = ListProperty([])  # {emp_id, name, extension, presence, note, counts, selected}
    responsible_id = StringProperty("")
    can_add_phone = BooleanProperty(False)
    can_register = BooleanProperty(False)
    message = StringProperty("")

    def __init__(
        self,
        services: Any,
        *,
        notify: Notify | None = None,
        debounce_s: float = DEBOUNCE_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.notify: Notify = notify if notify is not None else (lambda _m, _t: None)
        self.debounce_s = debounce_s
        self._search_trigger = (
            Clock.create_trigger(lambda _dt: self.search_now(), debounce_s) if debounce_s else None
        )
        self._purpose_rows: dict[str, Row] = {}
        self._contacts: list[Row] = []
        self._employees: dict[str, Row] = {}
        self._session_seen: str | None = None
        self.fbind("phone", self._phone_changed)
        for name in (
            "contact_type", "department", "purpose_id", "client_id", "car_id", "phone", "vin",
            "plate", "make_model", "region_id", "responsible_id", "contact_at_text",
        ):  # fmt: skip
            self.fbind(name, self._form_changed)
        i18n.on_lang_change(self._on_lang)
        self.reset_time()

    def _form_changed(self, *_: Any) -> None:
        self.message = ""  # the person is fixing it

    # -- reading --------------------------------------------------------------------------

    @property
    def reader(self) -> Any:
        return self.services.reader

    def reload(self) -> None:
        """Re-read what the form offers (purposes, lists, employees); keeps what is typed."""
        if self.services is None:
            return
        session = self.services.session
        me = session.employee_id if session is not None else None
        if me != self._session_seen:  # a new employee at the desk: their department, branch
            self._session_seen = me
            self._defaults_for(me)
        self.can_register = session is not None and session.may(Right.REGISTER)
        self._employees = {e["id"]: e for e in self.reader.employees(active_only=False)}
        for kind in ("info_sources", "branches", "regions"):
            rows = self.reader.reference(kind)
            setattr(self, kind, [{"id": r["id"], "name": r["name"]} for r in rows])
        self._names()
        self._load_purposes()
        if not self.contact_at_edited:
            self.reset_time()

    def _defaults_for(self, employee_id: str | None) -> None:
        emp = self.reader.employee(employee_id) if employee_id else None
        if emp is None:
            return
        try:
            depts = json.loads(emp["departments"] or "[]")
        except ValueError:
            depts = []
        mine = [d for d in DEPARTMENTS if d in depts]
        if mine:
            self.department = mine[0]
        if emp.get("branch_id"):
            self.branch_id = emp["branch_id"]

    def _names(self) -> None:
        def name(rows: list[dict[str, str]], row_id: str) -> str:
            return next((r["name"] for r in rows if r["id"] == row_id), "")

        self.info_source_name = name(self.info_sources, self.info_source_id)
        self.branch_name = name(self.branches, self.branch_id)
        self.region_name = name(self.regions, self.region_id)

    def _load_purposes(self) -> None:
        rows = [
            p
            for p in self.reader.purposes()
            if p["department"] == self.department and p["direction"] == "in"
        ]
        self._purpose_rows = {p["id"]: p for p in rows}
        if self.purpose_id not in self._purpose_rows:
            self.purpose_id = rows[0]["id"] if rows else ""
        self.purposes = [
            {"id": p["id"], "name": p["full_name"], "selected": p["id"] == self.purpose_id}
            for p in rows
        ]
        purpose = self._purpose_rows.get(self.purpose_id)
        self.require_car = bool(purpose and purpose["require_car"])
        self.require_region = bool(purpose and purpose["require_region"])
        self._load_responsible()

    def _load_responsible(self) -> None:
        purpose = self._purpose_rows.get(self.purpose_id)
        people = responsible_for(purpose, self.reader) if purpose is not None else []
        counts = self.reader.employee_counts(self.services.day_start())
        people = sorted(people, key=lambda e: PRESENCE_RANK.get(e["presence"], 3))
        if self.responsible_id and not any(e["id"] == self.responsible_id for e in people):
            self.responsible_id = ""
        rows = []
        for emp in people:
            unprocessed, moved = counts.get(emp["id"], (0, 0))
            rows.append(
                {
                    "emp_id": emp["id"],
                    "name": emp["short_name"],
                    "extension": emp.get("extension") or "",
                    "presence": emp["presence"] or "away",
                    "note": emp.get("presence_note") or "",
                    "counts": f"{unprocessed}/{moved}" if unprocessed or moved else "",
                    "selected": emp["id"] == self.responsible_id,
                }
            )
        self.responsible = rows

    # -- the contact ----------------------------------------------------------------------

    def set_contact_type(self, kind: str) -> None:
        self.contact_type = kind

    def set_department(self, department: str) -> None:
        if department == self.department:
            return
        self.department = department
        self.purpose_id = ""
        self.responsible_id = ""
        self._load_purposes()

    def set_purpose(self, purpose_id: str) -> None:
        if purpose_id not in self._purpose_rows:
            raise ValueError(f"not a purpose of {self.department}: {purpose_id}")
        self.purpose_id = purpose_id
        self.purposes = [dict(p, selected=p["id"] == purpose_id) for p in self.purposes]
        purpose = self._purpose_rows[purpose_id]
        self.require_car = bool(purpose["require_car"])
        self.require_region = bool(purpose["require_region"])
        self.message = ""
        self._load_responsible()

    def set_first_contact(self, first: bool) -> None:
        """The person's own choice overrides what the client's history says."""
        self.first_contact = first
        self.first_auto = False

    def pick(self, kind: str, row_id: str) -> None:
        """Choose an info source, branch or region (``""``: none)."""
        if kind not in ("info_source", "branch", "region"):
            raise ValueError(f"not a list of the form: {kind}")
        setattr(self, f"{kind}_id", row_id)
        self._names()

    def options(self, kind: str) -> list[dict[str, str]]:
        rows: list[dict[str, str]] = {
            "info_source": self.info_sources,
            "branch": self.branches,
            "region": self.regions,
        }[kind]
        return [{"id": "", "name": i18n.tr("traffic.not_set")}, *rows]

    # -- date and time --------------------------------------------------------------------

    def reset_time(self) -> None:
        """«Сейчас»: the contact happens now (the time is taken when it is registered)."""
        now = self.services.clock() if self.services is not None else datetime.now().astimezone()
        self.contact_at_text = i18n.format_datetime(now)
        self.contact_at_edited = False

    def tick(self, *_: Any) -> None:
        if not self.contact_at_edited:
            self.reset_time()

    def set_contact_at_text(self, text: str) -> None:
        if text != self.contact_at_text:
            self.contact_at_text = text
            self.contact_at_edited = True

    def _contact_at(self) -> datetime | None:
        if not self.contact_at_edited:
            return None
        try:
            naive = datetime.strptime(" ".join(self.contact_at_text.split()), "%d.%m.%Y %H:%M")
        except ValueError:
            raise InputError(i18n.tr("traffic.err.when")) from None
        moment = naive.replace(tzinfo=_local_tz())
        if moment - self.services.clock() > timedelta(minutes=5):
            raise InputError(i18n.tr("traffic.err.future"))
        return moment

    # -- the client -----------------------------------------------------------------------

    def set_query(self, text: str) -> None:
        """Typed into the search box: search once typing pauses (``debounce_s``)."""
        if text == self.query:
            return
        self.query = text
        if self._search_trigger is not None:
            self._search_trigger()
        else:
            self.search_now()

    def search_now(self) -> None:
        text = self.query.strip()
        if not text:
            self.hits, self.search_message = [], ""
            return
        try:
            result = self.services.search(text, limit=SEARCH_LIMIT)
        except QueryError:
            self.hits, self.search_message = [], ""
            return
        except sqlite3.ProgrammingError:  # typed just before the app closed its store
            return
        rows = []
        for hit in result.hits:
            cp = hit.counterparty
            phones = [c["value"] for c in hit.contacts if c["kind"] == "phone"]
            cars = [" ".join(p for p in (car_title(c), c.get("plate")) if p) for c in hit.cars[:3]]
            rows.append(
                {
                    "cp_id": cp["id"],
                    "name": cp["full_name"],
                    "phones": ", ".join(phones[:3]),
                    "cars": " · ".join(c for c in cars if c),
                }
            )
        self.hits = rows
        if not rows:
            self.search_message = i18n.tr("traffic.search_none")
        elif len(rows) >= SEARCH_LIMIT:
            self.search_message = i18n.tr("traffic.search_more", n=SEARCH_LIMIT)
        else:
            self.search_message = ""

    def pick_client(self, counterparty_id: str) -> None:
        """A hit tapped: the client's card facts, cars and open documents fill the form."""
        clients = self.services.clients
        row = clients.counterparty(counterparty_id)
        if row is None:
            self.message = i18n.tr("traffic.err.other", detail=counterparty_id)
            return
        if not self.phone.strip() and _phone_like(self.query):
            self.phone = self.query.strip()
        self.client_id = counterparty_id
        self.client_name = row["full_name"]
        self.hits, self.search_message = [], ""
        self._fill_client(row)
        if self.first_auto:
            now = self.services.clock()
            self.first_contact = not self.reader.has_traffic(counterparty_id, instant(now))
        if not self.region_id and row.get("region_id"):
            self.pick("region", row["region_id"])
        if not self.info_source_id and row.get("info_source_id"):
            self.pick("info_source", row["info_source_id"])
        self.message = ""

    def _fill_client(self, row: Row) -> None:
        clients = self.services.clients
        cp_id = row["id"]
        self._contacts = clients.contacts_of([cp_id])[cp_id]
        phones = [c["value"] for c in self._contacts if c["kind"] == "phone"]
        self.client_phones = ", ".join(phones)
        none = i18n.tr("traffic.no_data")
        when = i18n.format_datetime
        self.client_facts = [
            (i18n.tr("traffic.registered_at"), i18n.format_date(row.get("registered_at")) or none),
            (i18n.tr("traffic.last_in"), when(row.get("last_in_contact_at")) or none),
            (i18n.tr("traffic.last_out"), when(row.get("last_out_contact_at")) or none),
        ]
        lines = clients.lines_of(cp_id) if hasattr(clients, "lines_of") else {}
        chips = []
        for line in BUSINESS_LINES:
            got = lines.get(line)
            status = got["crm_status"] if got else "unset"
            key = f"traffic.crm.{status}" if i18n.has(f"traffic.crm.{status}") else ""
            label = i18n.tr(key) if key else status
            abc = f" · {got['abc']}" if got and got["abc"] else ""
            chips.append(
                {
                    "text": f"{i18n.tr(f'traffic.line.{line}')}: {label}{abc}",
                    "tone": CRM_TONES.get(status, "neutral"),
                }
            )
        self.client_lines = chips
        cars = clients.cars_of([cp_id])[cp_id]
        self.cars = [
            {
                "car_id": c["id"],
                "title": car_title(c) or c.get("vin") or "—",
                "plate": c.get("plate") or "",
                "year": str(c["year"]) if c.get("year") else "",
                "vin": c.get("vin") or "",
                "selected": c["id"] == self.car_id,
            }
            for c in cars
        ]
        docs = clients.open_documents_of([cp_id])[cp_id]
        self.documents = [
            {
                "doc_no": d.get("doc_no") or "—",
                "date": i18n.format_date(d.get("doc_date")),
                "status": d.get("status") or "",
                "employee": (self._employees.get(d.get("employee_id") or "") or {}).get(
                    "short_name", ""
                ),
            }
            for d in docs
        ]
        self._phone_changed()

    def clear_client(self) -> None:
        self.client_id = self.client_name = self.client_phones = self.car_id = ""
        self.client_facts, self.client_lines, self.cars, self.documents = [], [], [], []
        self._contacts = []
        if self.first_auto:
            self.first_contact = True
        self._phone_changed()
        self.search_now()

    def pick_car(self, car_id: str) -> None:
        """Tap a car: it is the contact's car (its VIN and plate fill the fields); again: none."""
        car = next((c for c in self.cars if c["car_id"] == car_id), None)
        if car is None or self.car_id == car_id:
            self.car_id = ""
        else:
            self.car_id = car_id
            self.vin, self.plate = car["vin"], car["plate"]
            self.make_model = car["title"]
        self.cars = [dict(c, selected=c["car_id"] == self.car_id) for c in self.cars]

    def _phone_changed(self, *_: Any) -> None:
        text = self.phone.strip()
        parsed = normalize_phone(text, self.services.region) if text else None
        self.phone_problem = (
            phone_problem_message(parsed, i18n.current_lang()) or ""
            if parsed is not None and len([c for c in text if c.isdigit()]) >= 10
            else ""
        )
        if not (self.client_id and text):
            self.can_add_phone = False
            return
        known_e164 = {c["phone_e164"] for c in self._contacts if c.get("phone_e164")}
        known_raw = {" ".join(c["value"].split()) for c in self._contacts}
        e164 = parsed.e164 if parsed is not None else None
        self.can_add_phone = not ((e164 and e164 in known_e164) or text in known_raw)

    def add_phone_to_client(self) -> bool:
        """«Добавить указанный телефон клиенту»."""
        if not (self.client_id and self.phone.strip()):
            return False
        try:
            warnings = self.services.traffic.add_phone_to_client(self.client_id, self.phone)
        except LsnodeError as exc:
            self._fail(exc)
            return False
        if warnings and "already" in warnings[0]:
            self.notify(i18n.tr("traffic.phone_known"), "neutral")
        else:
            self.notify(i18n.tr("traffic.phone_added"), "processed")
        row = self.services.clients.counterparty(self.client_id)
        if row is not None:
            self._fill_client(row)
        return True

    def new_client_defaults(self) -> tuple[str, str]:
        """(name, phone) for «Создать нового» from what was typed."""
        query = self.query.strip()
        if _phone_like(query):
            return "", self.phone.strip() or query
        return query, self.phone.strip()

    def create_client(self, name: str, phone: str, kind: str = "person") -> str:
        """Create the client (``lsnode.crm.clients.add_client``) and pick them; returns an
        error message, or "" when created."""
        if not any(c.isalpha() for c in name):
            return i18n.tr("traffic.new.err_name")
        today = i18n.local(self.services.clock()).date()
        draft = ClientDraft(name=name, kind=kind, phones=[phone] if phone.strip() else [])
        try:
            region = self.services.region
            saved = add_client(self.services.writer, draft, today=today, region=region)
        except LsnodeError as exc:
            return i18n.tr("traffic.new.err", detail=str(exc))
        if phone.strip() and not self.phone.strip():
            self.phone = phone.strip()
        self.pick_client(saved.counterparty_id)
        self.notify(i18n.tr("traffic.new.done", name=self.client_name), "processed")
        return ""

    # -- the outcome ----------------------------------------------------------------------

    def choose_responsible(self, employee_id: str) -> None:
        """Tap a name in «Итог контакта»; tapping it again clears the choice."""
        self.responsible_id = "" if self.responsible_id == employee_id else employee_id
        self.responsible = [
            dict(r, selected=r["emp_id"] == self.responsible_id) for r in self.responsible
        ]

    # -- actions --------------------------------------------------------------------------

    def validate(self, action: Action) -> str:
        """The first thing missing for ``action``, in words ("" when the form is complete)."""
        session = self.services.session
        if session is None:
            return i18n.tr("traffic.err.sign_in")
        if not session.may(Right.REGISTER):
            return i18n.tr("traffic.err.right")
        purpose = self._purpose_rows.get(self.purpose_id)
        if purpose is None and action is not Action.TRANSFER:
            return i18n.tr("traffic.err.purpose")
        if action is not Action.TRANSFER and not (self.client_id or self.phone.strip()):
            return i18n.tr("traffic.err.client")
        if purpose is not None:
            name = purpose["full_name"]
            has_car = self.car_id or self.make_model.strip() or self.vin.strip()
            if purpose["require_car"] and not (has_car or self.plate.strip()):
                return i18n.tr("traffic.err.car", purpose=name)
            if purpose["require_region"] and not self.region_id:
                return i18n.tr("traffic.err.region", purpose=name)
        if action is Action.TRANSFER and not self.responsible_id:
            return i18n.tr("traffic.err.transfer")
        try:
            self._contact_at()
        except InputError as exc:
            return str(exc)
        return ""

    def draft(self) -> TrafficDraft:
        return TrafficDraft(
            contact_type=self.contact_type,
            department=self.department,
            purpose_id=self.purpose_id or None,
            counterparty_id=self.client_id or None,
            phone=self.phone,
            vin=self.vin,
            plate=self.plate,
            car_id=self.car_id or None,
            make_model=self.make_model,
            first_contact=None if self.first_auto else self.first_contact,
            info_source_id=self.info_source_id or None,
            branch_id=self.branch_id or None,
            region_id=self.region_id or None,
            responsible_id=self.responsible_id or None,
            contact_at=self._contact_at(),
            note=self.note,
            extra_info=self.extra_info,
            origin="desk",
        )

    def submit(self, action: Action) -> Registered | None:
        """Зарегистрировать / Поместить в очередь / Перевести / Завершить; on success a toast
        and a clean form, else ``message`` (and a toast) says what to fix."""
        problem = self.validate(action)
        if problem:
            self.message = problem  # shown above the actions until the form changes
            return None
        try:
            done: Registered = self.services.traffic.register(
                self.draft(), self.services.session, action
            )
        except LsnodeError as exc:
            self._fail(exc)
            return None
        name = self._employees.get(self.responsible_id, {}).get("short_name", "")
        if action is Action.REGISTER and name:
            text = i18n.tr("traffic.done.register_to", name=name)
        else:
            text = i18n.tr(DONE_KEYS[action], name=name)
        if any("not recognised" in w for w in done.warnings):
            text = f"{text}. {i18n.tr('traffic.warn.phone')}"
        self.notify(text, "processed")
        self.reset()
        return done

    def _fail(self, exc: LsnodeError) -> None:
        key = getattr(exc, "message_key", None)
        text = str(exc)
        if key:
            message = i18n.tr(key)
        elif "pick the client" in text:
            message = i18n.tr("traffic.err.client")
        elif "transfer: choose" in text:
            message = i18n.tr("traffic.err.transfer")
        elif "in the future" in text:
            message = i18n.tr("traffic.err.future")
        else:
            message = i18n.tr("traffic.err.other", detail=text)
        self.message = message

    def reset(self) -> None:
        """A clean form for the next contact (type, department, purpose and branch stay)."""
        self.query = ""
        self.hits, self.search_message = [], ""
        self.clear_client()
        self.phone = self.vin = self.plate = self.make_model = ""
        self.note = self.extra_info = ""
        self.responsible_id = ""
        self.first_contact, self.first_auto = True, True
        self.info_source_id = self.region_id = ""
        self.message = ""
        self._names()
        self.reset_time()
        self._load_responsible()

    def _on_lang(self, _lang: str) -> None:
        try:
            if self.client_id:
                row = self.services.clients.counterparty(self.client_id)
                if row is not None:
                    self._fill_client(row)
            if self.query:
                self.search_now()
        except sqlite3.ProgrammingError:  # the app that made this form has closed its store
            return
        if not self.contact_at_edited:
            self.reset_time()


# --- widgets ---------------------------------------------------------------------------------


def _screen_of(widget: Any) -> Any:
    while widget is not None and not isinstance(widget, TrafficScreen):
        widget = widget.parent
    return widget


class RegHitRow(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A search hit: name, phones, cars; a tap picks the client."""

    cp_id = StringProperty("")
    name = StringProperty("")
    phones = StringProperty("")
    cars = StringProperty("")


class RegCarRow(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    car_id = StringProperty("")
    title = StringProperty("")
    plate = StringProperty("")
    year = StringProperty("")
    vin = StringProperty("")
    selected = BooleanProperty(False)


class RegDocRow(BoxLayout):  # type: ignore[misc]
    doc_no = StringProperty("")
    date = StringProperty("")
    status = StringProperty("")
    employee = StringProperty("")


class RegPersonRow(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One responsible employee: presence, extension, name, note and «4/0»."""

    emp_id = StringProperty("")
    name = StringProperty("")
    extension = StringProperty("")
    presence = StringProperty("away")
    note = StringProperty("")
    counts = StringProperty("")
    selected = BooleanProperty(False)


class RegPicker(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A labelled choice from a list (info source, branch, region): opens ``RegPickerMenu``."""

    kind = StringProperty("")
    label = StringProperty("")
    value = StringProperty("")
    required = BooleanProperty(False)


class RegPickerMenu(DropDown):  # type: ignore[misc]
    pass


class RegPickerOption(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    text = StringProperty("")
    selected = BooleanProperty(False)


class RegNewClientDialog(ModalView):  # type: ignore[misc]
    """«Создать нового»: name, phone, person or company."""

    vm: Any = ObjectProperty(None)
    kind = StringProperty("person")
    error = StringProperty("")

    def save(self, name: str, phone: str) -> None:
        self.error = self.vm.create_client(name, phone, self.kind)
        if not self.error:
            self.dismiss()


class TrafficScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        vm = RegistrationVM(app.services, notify=app.toast)
        super().__init__(app, vm=vm, **kwargs)
        self._ticker: Any = None
        self.dialog: RegNewClientDialog | None = None
        self.menu: RegPickerMenu | None = None
        for name, builder in (
            ("purposes", self._build_purposes),
            ("hits", self._build_hits),
            ("cars", self._build_cars),
            ("documents", self._build_documents),
            ("responsible", self._build_responsible),
            ("client_lines", self._build_lines),
        ):
            vm.fbind(name, builder)
        if app.services is not None:  # another employee at the desk: a clean form, theirs
            app.services.on_session.append(self._session_changed)

    def _session_changed(self, _session: Any) -> None:
        self.vm.reset()
        self.vm.reload()

    def refresh(self) -> None:
        self.vm.reload()

    def on_pre_enter(self, *_: Any) -> None:
        super().on_pre_enter()
        self.vm.tick()
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(self.vm.tick, 15)

    def on_leave(self, *_: Any) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    # -- lists drawn from the view-model ----------------------------------------------------

    def _fill(self, box_id: str, widgets: list[Any]) -> None:
        box = self.ids.get(box_id)
        if box is None:
            return
        box.clear_widgets()
        for widget in widgets:
            box.add_widget(widget)

    def _build_purposes(self, *_: Any) -> None:
        from lsnode.ui.theme.widgets import BodyLabel, SegmentButton

        if not self.vm.purposes:
            self._fill("purposes_box", [BodyLabel(text=i18n.tr("traffic.no_purposes"))])
            return
        buttons = []
        for p in self.vm.purposes:
            button = SegmentButton(text=p["name"], selected=p["selected"], icon="check")
            if not p["selected"]:
                button.icon = ""
            button.bind(on_release=lambda _b, pid=p["id"]: self.vm.set_purpose(pid))
            buttons.append(button)
        self._fill("purposes_box", buttons)

    def _build_hits(self, *_: Any) -> None:
        rows = []
        for hit in self.vm.hits:
            row = RegHitRow(**hit)
            row.bind(on_release=lambda r: self.vm.pick_client(r.cp_id))
            rows.append(row)
        self._fill("hits_box", rows)

    def _build_cars(self, *_: Any) -> None:
        rows = []
        for car in self.vm.cars:
            row = RegCarRow(**car)
            row.bind(on_release=lambda r: self.vm.pick_car(r.car_id))
            rows.append(row)
        self._fill("cars_box", rows)

    def _build_documents(self, *_: Any) -> None:
        self._fill("docs_box", [RegDocRow(**d) for d in self.vm.documents])

    def _build_responsible(self, *_: Any) -> None:
        from lsnode.ui.theme.widgets import CaptionLabel

        if not self.vm.responsible:
            self._fill("people_box", [CaptionLabel(text=i18n.tr("traffic.nobody"))])
            return
        rows = []
        for person in self.vm.responsible:
            row = RegPersonRow(**person)
            row.bind(on_release=lambda r: self.vm.choose_responsible(r.emp_id))
            rows.append(row)
        self._fill("people_box", rows)

    def _build_lines(self, *_: Any) -> None:
        from lsnode.ui.theme.widgets import Chip

        chips = [Chip(text=c["text"], tone=c["tone"]) for c in self.vm.client_lines]
        self._fill("lines_box", chips)

    def _show_client_part(self, *_: Any) -> None:
        """The search box and its hits, or the client picked — never both."""
        area = self.ids.get("client_area")
        if area is None:
            return
        part = self._client_part if self.vm.client_id else self._search_part
        if len(area.children) != 1 or area.children[0] is not part:
            area.clear_widgets()
            area.add_widget(part)

    def on_kv_post(self, _base: Any) -> None:
        self._search_part = self.ids.search_part.__self__  # strong: ids are weak proxies
        self._client_part = self.ids.client_part.__self__
        self.vm.fbind("client_id", self._show_client_part)
        self._show_client_part()
        for builder in (
            self._build_purposes,
            self._build_hits,
            self._build_cars,
            self._build_documents,
            self._build_responsible,
            self._build_lines,
        ):
            builder()

    # -- commands ---------------------------------------------------------------------------

    def open_picker(self, picker: RegPicker) -> None:
        menu = RegPickerMenu()
        current = getattr(self.vm, f"{picker.kind}_id")
        for option in self.vm.options(picker.kind):
            item = RegPickerOption(text=option["name"], selected=option["id"] == current)
            item.bind(
                on_release=lambda _i, oid=option["id"]: (
                    self.vm.pick(picker.kind, oid),
                    menu.dismiss(),
                )
            )
            menu.add_widget(item)
        self.menu = menu
        menu.open(picker)

    def new_client(self) -> RegNewClientDialog:
        name, phone = self.vm.new_client_defaults()
        dialog = RegNewClientDialog(vm=self.vm)
        dialog.ids.name.text = name
        dialog.ids.phone.text = phone
        self.dialog = dialog
        dialog.open()
        return dialog

    def act(self, action: str) -> None:
        self.vm.submit(Action(action))


register(
    "traffic",
    lambda app: TrafficScreen(app),
    label="traffic.nav",
    icon="traffic",
    order=ORDER["traffic"],
    right=Right.REGISTER.value,
)
