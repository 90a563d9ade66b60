"""«Предварительная запись»: service appointments — the list and the appointment card.

Left, the appointments of a period (Сегодня, Завтра, Неделя, Все предстоящие): visit
date-time, client, car, status. Right, «Карточка предварительной записи на сервис»: the client
found with the one search box (name, any phone form, plate, VIN) with the brochure's facts —
contact phone, e-mail and the consents (Рассылка СМС, Обработка ПД: «Не опрошен» / Да / Нет),
so the adviser sees at once whether an SMS confirmation can go — the car from the client's
cars, the visit's date and time, the adviser (employees of the service department), the kind
(Вид предв.записи) and a note. Booking goes through ``lsnode.notify.appointments``: the
appointment is written locally, syncs to the hub at once, and the hub sends the confirmation
(«Напоминание о записи на сервис в момент записи»); the card lists the messages of the
appointment as they come back. An existing appointment can be moved (a new confirmation goes
out), edited, confirmed, marked arrived / done / no-show, or cancelled (confirmed first).

Logic in ``AppointmentsVM`` (tested without a window).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from lsnode.clock import iso, local_at, parse_hhmm
from lsnode.errors import LsnodeError, QueryError
from lsnode.notify.appointments import (
    AppointmentDraft,
    book_appointment,
    edit_appointment,
    set_appointment_status,
)
from lsnode.notify.catalog import TRANSITIONS, AppointmentStatus
from lsnode.store.notify import NotifyStore
from lsnode.ui import i18n
from lsnode.ui.screens import ORDER, LsScreen, load_kv, register
from lsnode.ui.screens._notify_common import (
    KIND_ICONS,
    STATE_TONES,
    dealer_zone,
    delivery_info,
    describe_error,
    notify_store,
    parse_day,
    show_at,
    store_open,
    type_label,
)
from lsnode.ui.shell import PRESENCE_STATES  # and the presence words
from lsnode.ui.theme.widgets import Column, numeric

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "appt.rail": ("Запись", "Bookings"),
    "appt.title": ("Предварительная запись", "Service appointments"),
    "appt.period.today": ("Сегодня", "Today"),
    "appt.period.tomorrow": ("Завтра", "Tomorrow"),
    "appt.period.week": ("Неделя", "Week"),
    "appt.period.all": ("Все предстоящие", "All upcoming"),
    "appt.new": ("Новая запись", "New booking"),
    "appt.col.visit": ("Дата/время", "Date/time"),
    "appt.col.client": ("Клиент", "Client"),
    "appt.col.car": ("Автомобиль", "Car"),
    "appt.col.status": ("Статус", "Status"),
    "appt.card_new": (
        "Карточка предварительной записи на сервис (Новая запись)",
        "Service appointment card (new booking)",
    ),
    "appt.card": ("Запись на {when}", "Booking for {when}"),
    "appt.client": ("Клиент", "Client"),
    "appt.search": ("ФИО, телефон, гос. номер или VIN", "Name, phone, plate or VIN"),
    "appt.change_client": ("Другой клиент", "Another client"),
    "appt.no_hits": ("Никого не нашли", "Nobody found"),
    "appt.f.name": ("Наименование", "Name"),
    "appt.f.phone": ("Контактный телефон", "Contact phone"),
    "appt.f.email": ("Email", "Email"),
    "appt.f.sms": ("Рассылка СМС", "SMS mailing"),
    "appt.f.pd": ("Обработка ПД", "Personal data"),
    "appt.consent.yes": ("Да", "Yes"),
    "appt.consent.no": ("Нет", "No"),
    "appt.consent.unknown": ("Не опрошен", "Not asked"),
    "appt.no_sms": (
        "Подтверждение по СМС не уйдёт: клиент не дал согласия на рассылку СМС",
        "No SMS confirmation: the client has not agreed to SMS mailings",
    ),
    "appt.car": ("Автомобиль", "Car"),
    "appt.no_car": ("Без автомобиля", "No car"),
    "appt.visit": ("Визит", "Visit"),
    "appt.date": ("Дата", "Date"),
    "appt.time": ("Время", "Time"),
    "appt.day_after": ("Послезавтра", "Day after"),
    "appt.adviser": ("Консультант", "Adviser"),
    "appt.no_adviser": ("Не назначен", "Not assigned"),
    "appt.kind": ("Вид предв.записи", "Kind"),
    "appt.note": ("Примечание", "Note"),
    "appt.book": ("Записать", "Book"),
    "appt.save": ("Сохранить", "Save"),
    "appt.revert": ("Отменить изменения", "Discard changes"),
    "appt.booked_ok": (
        "Клиент записан. Подтверждение отправит хаб",
        "Booked. The hub sends the confirmation",
    ),
    "appt.saved": ("Сохранено", "Saved"),
    "appt.moved": (
        "Время перенесено: клиенту уйдёт новое подтверждение",
        "Moved: the client gets a new confirmation",
    ),
    "appt.status": ("Статус", "Status"),
    "appt.do.confirmed": ("Подтвердить", "Confirm"),
    "appt.do.arrived": ("Клиент прибыл", "Arrived"),
    "appt.do.done": ("Выполнена", "Done"),
    "appt.do.no_show": ("Не явился", "No-show"),
    "appt.do.cancelled": ("Отменить запись", "Cancel booking"),
    "appt.do.booked": ("Записать снова", "Book again"),
    "appt.cancel_q": (
        "Отменить запись клиента {client} на {when}?",
        "Cancel the booking of {client} for {when}?",
    ),
    "appt.status_set": ("Статус: {status}", "Status: {status}"),
    "appt.messages": ("Сообщения по записи", "Messages of this booking"),
    "appt.no_messages": (
        "Пока нет: сообщения появятся, когда их сформирует хаб",
        "None yet: messages show once the hub makes them",
    ),
    "appt.count": ("{n} запись|{n} записи|{n} записей", "{n} booking|{n} bookings"),
    "appt.empty": ("На этот период записей нет", "No bookings for this period"),
}
i18n.register(STRINGS)
load_kv(__file__)

#: Вид предв.записи: the kinds offered as chips (stored as typed; rules filter by them).
KINDS = ("ТО", "Диагностика", "Ремонт", "Шиномонтаж", "Кузовной ремонт")
TIMES = ("09:00", "10:00", "11:00", "12:00", "14:00", "15:00", "16:00", "17:00")
PERIODS = ("today", "tomorrow", "week", "all")
_TIME = re.compile(r"^\s*([01]?\d|2[0-3])[:.\-\s]?([0-5]\d)\s*$")
COLUMNS = [
    numeric("visit", "appt.col.visit", 1.5),
    Column("client", "appt.col.client", 1.7),
    Column("car", "appt.col.car", 1.4),
    Column("status", "appt.col.status", 1.1),
]
STATUS_TONES = {
    "booked": "new",
    "confirmed": "in_work",
    "arrived": "processed",
    "done": "processed",
    "cancelled": "ignored",
    "no_show": "lost",
}
#: The order of the card's status buttons.
ACTIONS = ("confirmed", "arrived", "done", "no_show", "booked", "cancelled")


def parse_time(text: str) -> time:
    """«12:20», «1220», «12.20» → 12:20; else ValueError."""
    m = _TIME.match(text)
    if not m:
        raise ValueError(text)
    return time(int(m.group(1)), int(m.group(2)))


def _car_text(car: dict[str, Any]) -> str:
    name = " ".join(p for p in (car.get("make"), car.get("model"), car.get("modification")) if p)
    return " · ".join(p for p in (name, car.get("plate") or "") if p) or str(car.get("vin") or "")


def _status_text(status: str) -> str:
    key = f"notify.appt.{status}"
    return i18n.tr(key) if i18n.has(key) else status


class AppointmentsVM(EventDispatcher):  # type: ignore[misc]
    """The period's appointments and one appointment's card (new or existing)."""

    period = StringProperty("week")
    rows = ListProperty([])
    count_text = StringProperty("")

    document_id = StringProperty("")
    is_new = BooleanProperty(True)
    title = StringProperty("")
    status = StringProperty("")
    status_text = StringProperty("")
    status_tone = StringProperty("neutral")
    actions = ListProperty([])  # [(status, label, danger)]

    query = StringProperty("")
    client_hits = ListProperty([])
    hits_note = StringProperty("")
    client_id = StringProperty("")
    client_facts = ListProperty([])
    sms_warning = StringProperty("")
    car_id = StringProperty("")
    car_options = ListProperty([])
    date_text = StringProperty("")
    time_text = StringProperty("")
    adviser_id = StringProperty("")
    adviser_options = ListProperty([])
    kind = StringProperty("")
    note = StringProperty("")
    messages = ListProperty([])

    dirty = BooleanProperty(False)
    error = StringProperty("")
    notice = StringProperty("")

    def __init__(self, services: Any, store: NotifyStore | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.services = services
        self.store = store or notify_store(services)
        self._loading = False
        i18n.on_lang_change(self._on_lang)
        self._advisers()
        self.new()
        self.reload()

    @property
    def now(self) -> datetime:
        return self.services.clock()  # type: ignore[no-any-return]

    def _on_lang(self, _lang: str) -> None:
        if not store_open(self.store):
            return
        self._advisers()
        self.reload()
        self._card_words()
        if self.client_id:
            self._client(self.client_id)

    # -- the list ------------------------------------------------------------------------
    def set_period(self, period: str) -> None:
        if period not in PERIODS:
            raise ValueError(period)
        self.period = period
        self.reload()

    def _range(self) -> tuple[datetime, datetime]:
        tz = dealer_zone(self.store)
        today = self.now.astimezone(tz).date()
        midnight = parse_hhmm("00:00")
        start, days = {
            "today": (today, 1),
            "tomorrow": (today + timedelta(days=1), 1),
            "week": (today, 7),
            "all": (today, 366),
        }[self.period]
        return local_at(start, midnight, tz), local_at(start + timedelta(days=days), midnight, tz)

    def reload(self) -> None:
        tz = dealer_zone(self.store)
        start, end = self._range()
        found = self.store.visits_between(iso(start), iso(end))
        self.rows = [
            {
                "id": r["document_id"],
                "visit": show_at(r["visit_at"], tz),
                "client": r["full_name"] or "",
                "car": _car_text(r),
                "status": _status_text(r["status"]),
                "adviser": r["adviser"] or "",
                "kind": r["appointment_kind"] or "",
            }
            for r in found
        ]
        self.count_text = i18n.tr("appt.count", n=len(found)) if found else i18n.tr("appt.empty")
        if self.document_id and not self.dirty:
            self._load(self.document_id)
        elif self.document_id:
            self._messages()

    def tap_row(self, index: int) -> None:
        if 0 <= index < len(self.rows):
            self.open(self.rows[index]["id"])

    # -- the card ------------------------------------------------------------------------
    def _advisers(self) -> None:
        employees = self.services.reader.employees()
        service = [e for e in employees if "service" in _json(e.get("departments"))]
        self.adviser_options = [("", i18n.tr("appt.no_adviser"))] + [
            (e["id"], f"{e['short_name']} — {i18n.tr('presence.' + e['presence'])}")
            if e["presence"] in PRESENCE_STATES
            else (e["id"], e["short_name"])
            for e in sorted(service, key=lambda e: e["short_name"])
        ]

    def new(self) -> None:
        """An empty card: tomorrow at 10:00, the signed-in adviser if of the service."""
        tz = dealer_zone(self.store)
        self._loading = True
        try:
            self.document_id = ""
            self.is_new = True
            self.status = ""
            self.query = ""
            self.client_hits, self.hits_note = [], ""
            self._set_client("")
            self.date_text = (self.now.astimezone(tz).date() + timedelta(days=1)).strftime(
                "%d.%m.%Y"
            )
            self.time_text = "10:00"
            session = self.services.session
            mine = session.employee_id if session is not None else ""
            self.adviser_id = mine if any(o[0] == mine for o in self.adviser_options) else ""
            self.kind = ""
            self.note = ""
            self.messages = []
        finally:
            self._loading = False
        self.dirty = False
        self.error = self.notice = ""
        self._card_words()

    def open(self, document_id: str) -> None:
        self.error = self.notice = ""
        self._load(document_id)

    def _load(self, document_id: str) -> None:
        doc = self.store.document(document_id)
        if doc is None or doc["doc_type"] != "appointment":
            self.new()
            return
        tz = dealer_zone(self.store)
        self._loading = True
        try:
            self.document_id = document_id
            self.is_new = False
            self.status = doc["status"]
            self.query = ""
            self.client_hits, self.hits_note = [], ""
            self._set_client(doc["counterparty_id"] or "")
            self.car_id = doc["car_id"] or ""
            self.date_text = show_at(doc["visit_at"], tz, "%d.%m.%Y")
            self.time_text = show_at(doc["visit_at"], tz, "%H:%M")
            self.adviser_id = doc["employee_id"] or ""
            self.kind = doc["appointment_kind"] or ""
            self.note = doc["note"] or ""
        finally:
            self._loading = False
        self.dirty = False
        self._card_words()
        self._messages()

    def _card_words(self) -> None:
        tz = dealer_zone(self.store)
        if self.is_new:
            self.title = i18n.tr("appt.card_new")
        else:
            doc = self.store.document(self.document_id)
            when = show_at(doc["visit_at"], tz) if doc else ""
            self.title = i18n.tr("appt.card", when=when)
        self.status_text = _status_text(self.status) if self.status else ""
        self.status_tone = STATUS_TONES.get(self.status, "neutral")
        allowed = (
            TRANSITIONS.get(AppointmentStatus(self.status), frozenset())
            if self.status in AppointmentStatus._value2member_map_
            else frozenset()
        )
        self.actions = [
            (a, i18n.tr(f"appt.do.{a}"), a == "cancelled")
            for a in ACTIONS
            if AppointmentStatus(a) in allowed and a != self.status
        ]

    def _messages(self) -> None:
        if not self.document_id:
            self.messages = []
            return
        tz = dealer_zone(self.store)
        found = self.store.messages_of_document(self.document_id)
        addressees = self.store.addressees_of([m["id"] for m in found])
        rows = []
        for m in found:
            title = m["template_name"] or type_label(m["type"])
            for a in addressees.get(m["id"], []) or [{}]:
                rows.append(
                    {
                        "title": title,
                        "when": show_at(m["created_at"], tz),
                        "icon": KIND_ICONS.get(str(a.get("channel_kind")), "bell-outline"),
                        "state": delivery_info(a, tz) if a else "",
                        "tone": STATE_TONES.get(str(a.get("status")), "neutral"),
                    }
                )
        self.messages = rows

    # -- the client ----------------------------------------------------------------------
    def search(self, text: str) -> None:
        """The one search box: clients by name, any phone form, plate or VIN."""
        self.query = text
        if len(text.strip()) < 2:
            self.client_hits, self.hits_note = [], ""
            return
        try:
            result = self.services.search(text, limit=8)
        except QueryError:
            self.client_hits, self.hits_note = [], ""
            return
        hits = []
        for hit in result.hits:
            party = hit.counterparty
            phones = [c["value"] for c in hit.contacts if c.get("kind") == "phone"][:1]
            cars = [_car_text(c) for c in hit.cars][:2]
            hits.append(
                {
                    "id": party["id"],
                    "name": party.get("full_name") or "",
                    "detail": " · ".join([*phones, *cars]),
                }
            )
        self.client_hits = hits
        self.hits_note = "" if hits else i18n.tr("appt.no_hits")

    def pick_client(self, counterparty_id: str) -> None:
        if not self.is_new:
            return
        self._set_client(counterparty_id)
        self.client_hits, self.hits_note, self.query = [], "", ""
        self.dirty = True

    def change_client(self) -> None:
        if self.is_new:
            self._set_client("")
            self.dirty = True

    def _set_client(self, counterparty_id: str) -> None:
        self.client_id = counterparty_id
        self.car_id = ""
        if not counterparty_id:
            self.client_facts, self.sms_warning, self.car_options = [], "", []
            return
        self._client(counterparty_id)
        cars = [c[0] for c in self.car_options[1:]]
        self.car_id = cars[0] if len(cars) == 1 else ""

    def _client(self, counterparty_id: str) -> None:
        clients = self.services.clients
        party = clients.counterparty(counterparty_id)
        if party is None:
            self.client_facts, self.sms_warning, self.car_options = [], "", []
            return
        contacts = clients.contacts_of([counterparty_id]).get(counterparty_id, [])
        phone = next((c["value"] for c in contacts if c["kind"] == "phone"), "")
        email = next((c["value"] for c in contacts if c["kind"] == "email"), "")

        def consent(value: str) -> str:
            return (
                i18n.tr(f"appt.consent.{value}")
                if value in ("yes", "no")
                else i18n.tr("appt.consent.unknown")
            )

        self.client_facts = [
            (i18n.tr("appt.f.name"), party["full_name"]),
            (i18n.tr("appt.f.phone"), phone or "—"),
            (i18n.tr("appt.f.email"), email or "—"),
            (i18n.tr("appt.f.sms"), consent(party["consent_sms"])),
            (i18n.tr("appt.f.pd"), consent(party["consent_pd"])),
        ]
        self.sms_warning = "" if party["consent_sms"] == "yes" else i18n.tr("appt.no_sms")
        cars = clients.cars_of([counterparty_id]).get(counterparty_id, [])
        self.car_options = [("", i18n.tr("appt.no_car"))] + [
            (c["id"], _car_text(c), "car") for c in cars
        ]

    # -- editing -------------------------------------------------------------------------
    def set_value(self, name: str, value: str) -> None:
        if name not in ("car_id", "date_text", "time_text", "adviser_id", "kind", "note"):
            raise KeyError(name)
        if getattr(self, name) != value:
            setattr(self, name, value)
            if not self._loading:
                self.dirty = True

    def pick_day(self, days_ahead: int) -> None:
        tz = dealer_zone(self.store)
        day = self.now.astimezone(tz).date() + timedelta(days=days_ahead)
        self.set_value("date_text", day.strftime("%d.%m.%Y"))

    def _visit(self) -> datetime | None:
        """The visit as typed, in the dealer's zone; sets ``error`` when it is not valid."""
        try:
            day = parse_day(self.date_text)
        except ValueError:
            day = None
        if day is None:
            self.error = i18n.tr("notify.err.date")
            return None
        try:
            at = parse_time(self.time_text)
        except ValueError:
            self.error = i18n.tr("notify.err.time")
            return None
        visit = local_at(day, at, dealer_zone(self.store))
        if visit <= self.now:
            self.error = i18n.tr("notify.err.past")
            return None
        return visit

    def draft(self) -> AppointmentDraft | None:
        """The card as a draft, or None with ``error`` saying what to fix."""
        self.error = ""
        if not self.client_id:
            self.error = i18n.tr("notify.err.no_client")
            return None
        visit = self._visit()
        if visit is None:
            return None
        return AppointmentDraft(
            counterparty_id=self.client_id,
            visit_at=visit,
            car_id=self.car_id or None,
            adviser_id=self.adviser_id or None,
            kind=self.kind,
            note=self.note,
        )

    def save(self) -> bool:
        """«Записать» a new appointment, or save an existing one (moved: confirmed again)."""
        self.notice = ""
        draft = self.draft()
        if draft is None:
            return False
        try:
            if self.is_new:
                document_id = book_appointment(self.store, draft, self.now)
                notice = i18n.tr("appt.booked_ok")
            else:
                document_id = self.document_id
                moved = edit_appointment(self.store, document_id, draft, self.now)
                notice = i18n.tr("appt.moved" if moved else "appt.saved")
        except LsnodeError as exc:
            self.error = describe_error(exc)
            return False
        self._load(document_id)
        self.reload()
        self.notice = notice
        return True

    def revert(self) -> None:
        if self.is_new:
            self.new()
        else:
            self._load(self.document_id)
        self.error = self.notice = ""

    def set_status(self, status: str) -> bool:
        """Подтвердить, Клиент прибыл, Выполнена, Не явился, Отменить запись, Записать снова."""
        self.error = self.notice = ""
        if not self.document_id:
            return False
        try:
            set_appointment_status(self.store, self.document_id, status, self.now)
        except LsnodeError as exc:
            self.error = describe_error(exc)
            return False
        self._load(self.document_id)
        self.reload()
        self.notice = i18n.tr("appt.status_set", status=_status_text(status))
        return True

    def cancel_question(self) -> str:
        facts = dict(self.client_facts)
        client = facts.get(i18n.tr("appt.f.name"), "")
        return i18n.tr("appt.cancel_q", client=client, when=f"{self.date_text} {self.time_text}")


def _json(text: Any) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except (TypeError, ValueError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


class ApptHit(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A client found by the search box: name, phone, cars; a tap picks them."""

    counterparty_id = StringProperty("")
    name = StringProperty("")
    detail = StringProperty("")


class ApptMessage(BoxLayout):  # type: ignore[misc]
    """A message of the appointment: template, when, and how its delivery went."""

    title = StringProperty("")
    when = StringProperty("")
    icon = StringProperty("bell-outline")
    state = StringProperty("")
    tone = StringProperty("neutral")


class AppointmentsScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    columns = ListProperty(COLUMNS)

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        assert app.services is not None
        vm = AppointmentsVM(app.services)
        super().__init__(app, vm=vm, **kwargs)
        vm.fbind("client_hits", self._hits)
        vm.fbind("messages", self._message_rows)
        vm.fbind("actions", self._actions)

    def on_kv_post(self, _base: Any) -> None:
        from kivy.factory import Factory

        for box, values, field in (("times", TIMES, "time_text"), ("kinds", KINDS, "kind")):
            for value in values:
                chip = Factory.ApptChip(text=value)
                chip.bind(on_release=lambda b, f=field: self.vm.set_value(f, b.text))
                self.ids[box].add_widget(chip)
        self._hits()
        self._message_rows()
        self._actions()

    def _actions(self, *_: Any) -> None:
        from lsnode.ui.theme.widgets import FlatButton, FlatDangerButton

        box = self.ids.get("actions")
        if box is None:
            return
        box.clear_widgets()
        for status, label, danger in self.vm.actions:
            button = (FlatDangerButton if danger else FlatButton)(text=label)
            button.status = status
            button.bind(on_release=lambda b: self.do_status(b.status))
            box.add_widget(button)

    def refresh(self) -> None:
        self.vm.reload()

    def _hits(self, *_: Any) -> None:
        box = self.ids.get("hits")
        if box is None:
            return
        box.clear_widgets()
        for hit in self.vm.client_hits:
            row = ApptHit(counterparty_id=hit["id"], name=hit["name"], detail=hit["detail"])
            row.bind(on_release=lambda r: self.vm.pick_client(r.counterparty_id))
            box.add_widget(row)

    def _message_rows(self, *_: Any) -> None:
        box = self.ids.get("messages")
        if box is None:
            return
        box.clear_widgets()
        for m in self.vm.messages:
            box.add_widget(ApptMessage(**m))

    def do_status(self, status: str) -> None:
        if status != "cancelled":
            self.vm.set_status(status)
            return
        from lsnode.ui.theme.widgets import confirm

        confirm(
            self.vm.cancel_question(),
            i18n.tr("appt.do.cancelled"),
            lambda: self.vm.set_status("cancelled"),
        )

    def pick_day(self, days: int) -> None:
        self.vm.pick_day(days)


register(
    "appointments",
    lambda app: AppointmentsScreen(app),
    label="appt.rail",
    icon="calendar-clock",
    order=ORDER["appointments"],
)
