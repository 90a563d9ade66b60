"""What the notification screens and the appointment screen share: words, formats, widgets.

Not a screen (the leading underscore keeps ``load_all`` from treating it as one); imported by
``notify_journal``, ``notify_templates``, ``notify_channels`` and ``appointments``.

- Words: categories (Сервис, Салон продаж, Склад, CRM, Общее), the brochure's message types,
  channel kinds (Email, SMS, LAN, FTP, File, Phone), delivery states and refusal reasons,
  appointment statuses — and ``describe_error``, the user's one line for every error the
  screens can meet (the domain raises English messages).
- Formats: instants in the dealer's time zone (setting ``time_zone``; the SMS texts use it too,
  so what the screen shows is what the client reads); a delivery's «Доп.информация».
- Widgets (layout in ``_notify_common.kv``): ``NtChoice`` (a touch-sized picker opening a
  list), ``NtToggle`` (an on/off switch with its label), ``NtTabs`` (Журнал сообщений ·
  Шаблоны сообщений · Способы уведомлений), ``NtTextArea``, ``NtStateLine``, ``NtListRow``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.dropdown import DropDown
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.textinput import TextInput

from lsnode.clock import show, zone
from lsnode.errors import InputError, LsnodeError, NotFound
from lsnode.notify.catalog import TYPES
from lsnode.store.notify import NotifyStore
from lsnode.store.schema import CHANNEL_KINDS, NOTIFY_CATEGORIES
from lsnode.sync.keys import SecretError
from lsnode.ui import i18n
from lsnode.ui.screens import load_kv

_TYPE_EN = {
    "work_orders_report": 'Digest from the report "Work order register"',
    "repair_due": "Repair due date approaching",
    "appointments_report": "Digest from the service appointment journal",
    "shipment_event": "Shipment notices (on event)",
    "sale_status": "Car sale document status change",
    "shipment_schedule": "Shipment notices (scheduled)",
    "handover_due": "Car hand-over date approaching",
    "free_stock_export": "Distributor free stock export",
    "parts_arrived": "Parts reserved on arrival at the warehouse",
    "reserves_report": 'Digest from the report "Current reserves"',
    "demand_report": 'Digest from the report "Current demand"',
    "stock_report": 'Digest from the report "Current stock in warehouses"',
    "stock_at_date_report": 'Digest from the report "Stock at a given date"',
    "issues_report": 'Digest from the report "Warehouse issues"',
    "appointment_day_before": "Service appointment reminder the day before the visit",
    "appointment_booked": "Service appointment reminder at the moment of booking",
    "repair_status": "Repair status notice",
    "birthday": "Birthday greeting",
    "appointment_before_visit": "Service appointment reminder right before the visit",
    "access_requests": "Unprocessed requests for rights and user sessions",
    "counterparties_report": "Digest from the counterparties report",
}

STRINGS: dict[str, tuple[str, str]] = {
    # the three notification screens
    "notify.rail": ("Уведомления", "Notifications"),
    "notify.tab.journal": ("Журнал сообщений", "Message journal"),
    "notify.tab.templates": ("Шаблоны сообщений", "Message templates"),
    "notify.tab.channels": ("Способы уведомлений", "Notification channels"),
    # categories (Типы оповещений are grouped by them)
    "notify.cat.service": ("Сервис", "Service"),
    "notify.cat.salon": ("Салон продаж", "Showroom"),
    "notify.cat.warehouse": ("Склад", "Warehouse"),
    "notify.cat.crm": ("CRM", "CRM"),
    "notify.cat.general": ("Общее", "General"),
    "notify.trigger.event": ("По событию", "On event"),
    "notify.trigger.schedule": ("По расписанию", "Scheduled"),
    "notify.type.channel_test": ("Проверка способа уведомления", "Channel check"),
    # channel kinds, as the brochure's «Тип» column
    "notify.kind.email": ("Email", "Email"),
    "notify.kind.sms": ("SMS", "SMS"),
    "notify.kind.lan": ("LAN", "LAN"),
    "notify.kind.file": ("File", "File"),
    "notify.kind.ftp": ("FTP", "FTP"),
    "notify.kind.phone": ("Phone", "Phone"),
    # delivery states of an addressee
    "notify.state.pending": ("В очереди", "Queued"),
    "notify.state.sending": ("Отправляется", "Sending"),
    "notify.state.sent": ("Отправлено", "Sent"),
    "notify.state.delivered": ("Доставлено", "Delivered"),
    "notify.state.failed": ("Ошибка", "Failed"),
    "notify.state.refused": ("Отказ", "Refused"),
    "notify.state.expired": ("Неактуально", "Expired"),
    "notify.state.retry": ("Повтор в {time}", "Retry at {time}"),
    "notify.state.none": ("Нет адресатов", "No addressees"),
    "notify.state.mixed": ("Частично отправлено", "Partly sent"),
    # why a delivery was refused or failed (outbox outcome codes)
    "notify.why.template_disabled": ("шаблон выключен", "the template is switched off"),
    "notify.why.no_channel": ("нет способа уведомления", "no notification channel"),
    "notify.why.channel_disabled": (
        "способ уведомления выключен",
        "the notification channel is switched off",
    ),
    "notify.why.no_recipient": ("нет получателя", "no recipient"),
    "notify.why.not_a_person": (
        "не физическое лицо (сообщения только физ. лицам)",
        "not a person (messages go to persons only)",
    ),
    "notify.why.no_consent_sms": (
        "нет согласия клиента на рассылку СМС",
        "the client has not agreed to SMS mailings",
    ),
    "notify.why.no_consent_email": (
        "нет согласия клиента на рассылку Email",
        "the client has not agreed to e-mail mailings",
    ),
    "notify.why.no_address": ("нет телефона или адреса", "no phone or address"),
    "notify.why.no_employee": (
        "нет сотрудника для задачи звонка",
        "no employee to give the call task to",
    ),
    "notify.why.secret_error": (
        "хаб не смог открыть пароль способа: введите пароль заново",
        "the hub could not open the channel's password: enter it again",
    ),
    "notify.why.interrupted": (
        "отправка прервана; повторно не отправляется",
        "sending was interrupted; not sent again",
    ),
    "notify.why.expired": (
        "истекла актуальность сообщения",
        "the message's relevance window closed",
    ),
    # errors a person can cause on these screens
    "notify.err.generic": ("Не сохранено: {detail}", "Not saved: {detail}"),
    "notify.err.not_found": (
        "Запись уже удалена или ещё не пришла с хаба",
        "The record is gone or has not arrived from the hub yet",
    ),
    "notify.err.no_hub_cert": (
        "Пароль не сохранён: это устройство ещё не получило ключ хаба. "
        "Дождитесь синхронизации и введите пароль снова",
        "Password not saved: this device has not received the hub's key yet. "
        "Wait for sync and enter the password again",
    ),
    "notify.err.hub_cert_mismatch": (
        "Пароль не сохранён: ключ хаба не совпадает с закреплённым при подключении",
        "Password not saved: the hub's key is not the one pinned at pairing",
    ),
    "notify.err.port": ("Порт — число от 1 до 65535", "The port is a number from 1 to 65535"),
    "notify.err.url_password": (
        "В адресе шлюза есть пароль или ключ: введите его в поле «Пароль», "
        "а в адресе напишите {password}",
        "The gateway URL holds a password or key: put it into the Password field and write "
        "{password} in the URL",
    ),
    "notify.err.url_to": (
        "В адресе шлюза нужен {to} — туда подставится телефон получателя",
        "The gateway URL needs {to} where the recipient's phone goes",
    ),
    "notify.err.url_unknown": (
        "Адрес шлюза не распознан (нужен адрес apprise: json://, form://, smsc:// …)",
        "The gateway URL is not understood (an apprise URL: json://, form://, smsc:// …)",
    ),
    "notify.err.name": (
        "Наименование — от 1 до 200 символов",
        "The name is 1 to 200 characters",
    ),
    "notify.err.placeholder": (
        "Неизвестная подстановка {names}: выберите из списка ниже",
        "Unknown placeholder {names}: pick one from the list below",
    ),
    "notify.err.too_long": ("Текст слишком длинный", "The text is too long"),
    "notify.err.calc_time": (
        "Время расчёта — ЧЧ:ММ, например 20:00",
        "The calculation time is HH:MM, e.g. 20:00",
    ),
    "notify.err.relevance": (
        "Актуальность — больше 0 и не более 336 часов",
        "Relevance is more than 0 and at most 336 hours",
    ),
    "notify.err.offset": (
        "За сколько минут до визита — от 0 до 10080",
        "Minutes before the visit: 0 to 10080",
    ),
    "notify.err.number": ("Нужно число: {field}", "A number is needed: {field}"),
    "notify.err.no_test_address": (
        "Укажите тестового получателя",
        "Enter a test recipient",
    ),
    "notify.err.sign_in": (
        "Войдите (PIN), чтобы получить проверочное сообщение",
        "Sign in (PIN) to receive the check message",
    ),
    "notify.err.channel_kind": (
        "Выбранный способ другого типа, чем шаблон",
        "The chosen channel is of another kind than the template",
    ),
    "notify.err.date": (
        "Дата — ДД.ММ.ГГГГ, например 20.12.2026",
        "A date is DD.MM.YYYY, e.g. 20.12.2026",
    ),
    "notify.err.time": ("Время — ЧЧ:ММ, например 12:20", "A time is HH:MM, e.g. 12:20"),
    "notify.err.past": (
        "Время визита уже прошло: выберите будущее",
        "The visit time has passed: choose one in the future",
    ),
    "notify.err.transition": (
        "Нельзя: запись в статусе «{status}»",
        "Not possible: the appointment is «{status}»",
    ),
    "notify.err.client_fixed": (
        "Клиента записи не изменить: создайте новую запись",
        "An appointment's client cannot change: book a new one",
    ),
    "notify.err.no_client": ("Выберите клиента", "Choose a client"),
    # the service appointment's statuses (lsnode.notify.catalog.AppointmentStatus)
    "notify.appt.booked": ("Записан", "Booked"),
    "notify.appt.confirmed": ("Подтверждена", "Confirmed"),
    "notify.appt.arrived": ("Клиент прибыл", "Arrived"),
    "notify.appt.done": ("Выполнена", "Done"),
    "notify.appt.cancelled": ("Отменена", "Cancelled"),
    "notify.appt.no_show": ("Не явился", "No-show"),
    # widgets
    "notify.hint_date": ("ДД.ММ.ГГГГ", "DD.MM.YYYY"),
}
STRINGS.update({f"notify.type.{t.code}": (t.brochure, _TYPE_EN[t.code]) for t in TYPES})
i18n.register(STRINGS)
load_kv(__file__)

KIND_ICONS: Mapping[str, str] = {
    "email": "email-outline",
    "sms": "message-text-outline",
    "lan": "lan",
    "file": "folder-outline",
    "ftp": "server-network",
    "phone": "phone",
}
TRIGGER_ICONS: Mapping[str, str] = {"event": "lightning-bolt", "schedule": "calendar-clock"}
#: The brochure's order of the «Способы уведомлений» list.
KIND_ORDER: Sequence[str] = ("email", "sms", "lan", "ftp", "file", "phone")
#: Tones of delivery states (chips and result lines).
STATE_TONES: Mapping[str, str] = {
    "pending": "new",
    "sending": "in_work",
    "sent": "processed",
    "delivered": "processed",
    "failed": "danger",
    "refused": "ignored",
    "expired": "ignored",
}

assert set(KIND_ORDER) == set(CHANNEL_KINDS)


def category_label(code: str) -> str:
    return i18n.tr(f"notify.cat.{code}") if code in NOTIFY_CATEGORIES else code


def type_label(code: str) -> str:
    key = f"notify.type.{code}"
    return i18n.tr(key) if i18n.has(key) else code


def kind_label(kind: str) -> str:
    return i18n.tr(f"notify.kind.{kind}") if kind in CHANNEL_KINDS else kind


def notify_store(services: Any) -> NotifyStore:
    """The notification tables over the app's connection; writes announce themselves (the
    sync agent pushes at once, screens refresh)."""
    return NotifyStore(services.ctx.db, writer=services.writer)


def setting(settings: Any, key: str) -> Any:
    """A form field's value for kv: a call with ``settings`` as its argument binds to it,
    where ``settings.get(…)`` would not re-run when the dict is replaced."""
    return settings.get(key, "")


def store_open(store: NotifyStore) -> bool:
    """Whether the store's connection is still open: a view-model of a closed app (language
    listeners outlive it) must not touch it."""
    try:
        store.db.conn.total_changes  # noqa: B018  (raises on a closed connection)
    except Exception:
        return False
    return True


def dealer_zone(store: NotifyStore) -> ZoneInfo:
    """The dealer's time zone (setting ``time_zone``): the one the SMS texts are written in."""
    try:
        return zone(store.settings().get("time_zone"))
    except InputError:
        return zone(None)


def show_at(value: str | None, tz: ZoneInfo, fmt: str = "%d.%m.%Y %H:%M") -> str:
    """A stored instant as ``ДД.ММ.ГГГГ ЧЧ:ММ`` in the dealer's zone; empty for none."""
    if not value:
        return ""
    try:
        return show(value, tz, fmt)
    except InputError:
        return str(value)


def parse_day(text: str) -> date | None:
    """«20.12.2017» (or «20.12.17», «2017-12-20») → a date; empty → None; else ValueError."""
    text = text.strip()
    if not text:
        return None
    for fmt in ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def why_text(outcome: str) -> str:
    key = f"notify.why.{outcome}"
    return i18n.tr(key) if i18n.has(key) else ""


def delivery_info(row: Mapping[str, Any], tz: ZoneInfo) -> str:
    """«Доп.информация» of one addressee: its state and, when it did not go, why."""
    status = str(row.get("status") or "")
    outcome = str(row.get("outcome") or "")
    info = " ".join(str(row.get("info") or "").split())
    if status == "pending" and outcome == "retry":
        head = i18n.tr("notify.state.retry", time=show_at(row.get("next_attempt_at"), tz, "%H:%M"))
        return f"{head}: {info}" if info else head
    head = i18n.tr(f"notify.state.{status}") if status in STATE_TONES else status
    why = why_text(outcome) if status in ("refused", "failed", "expired") else ""
    if why:
        return f"{head}: {why}"
    if status == "failed" and info:
        return f"{head}: {info}"
    if status in ("sent", "delivered") and info and row.get("channel_kind") in ("file", "ftp"):
        return f"{head}: {info}"
    return head


def message_state(addressees: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """One word for a message's deliveries, and its tone: what the journal's row shows."""
    states = {str(a.get("status")) for a in addressees}
    if not states:
        return i18n.tr("notify.state.none"), "ignored"
    if len(states) == 1:
        (only,) = states
        return i18n.tr(f"notify.state.{only}"), STATE_TONES.get(only, "neutral")
    if states & {"pending", "sending"}:
        return i18n.tr("notify.state.pending"), "new"
    if states & {"sent", "delivered"}:
        return i18n.tr("notify.state.mixed"), "new"
    if "failed" in states:
        return i18n.tr("notify.state.failed"), "danger"
    return i18n.tr("notify.state.refused"), "ignored"


_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"port must be"), "notify.err.port"),
    (re.compile(r"must be a number"), "notify.err.port"),
    (re.compile(r"holds a password or key"), "notify.err.url_password"),
    (re.compile(r"needs \{to\}"), "notify.err.url_to"),
    (re.compile(r"apprise does not understand"), "notify.err.url_unknown"),
    (re.compile(r"name is 1–200"), "notify.err.name"),
    (re.compile(r"too long"), "notify.err.too_long"),
    (re.compile(r"calculation time is HH:MM"), "notify.err.calc_time"),
    (re.compile(r"relevance is"), "notify.err.relevance"),
    (re.compile(r"offset is"), "notify.err.offset"),
    (re.compile(r"no test recipient"), "notify.err.no_test_address"),
    (re.compile(r"sign in first"), "notify.err.sign_in"),
    (re.compile(r"another kind"), "notify.err.channel_kind"),
    (re.compile(r"visit must be later"), "notify.err.past"),
    (re.compile(r"client cannot change"), "notify.err.client_fixed"),
)
_UNKNOWN_PLACEHOLDER = re.compile(r"unknown placeholder\(s\) ([^;]+);")


class Shown(InputError):
    """An input error whose message is already the user's line (translated)."""


def describe_error(exc: BaseException) -> str:
    """The user's one line for an error of these screens, in the current language."""
    text = str(exc)
    if isinstance(exc, Shown):
        return text
    if isinstance(exc, SecretError):
        return i18n.tr("notify.err.hub_cert_mismatch")
    if isinstance(exc, NotFound):
        if "certificate is not known" in text:
            return i18n.tr("notify.err.no_hub_cert")
        return i18n.tr("notify.err.not_found")
    found = _UNKNOWN_PLACEHOLDER.search(text)
    if found:
        return i18n.tr("notify.err.placeholder", names=found.group(1))
    if "cannot become" in text:
        status = re.search(r"that is (\w+)", text)
        if status and i18n.has(f"notify.appt.{status.group(1)}"):
            shown = i18n.tr(f"notify.appt.{status.group(1)}")
            return i18n.tr("notify.err.transition", status=shown)
    for pattern, key in _ERRORS:
        if pattern.search(text):
            return i18n.tr(key)
    if isinstance(exc, LsnodeError):
        return i18n.tr("notify.err.generic", detail=text)
    return i18n.tr("notify.err.generic", detail=f"{type(exc).__name__}: {text}")


# --- widgets ---------------------------------------------------------------------------------


class NtChoiceItem(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One option of a ``NtChoice``'s list."""

    value = StringProperty("")
    text = StringProperty("")
    icon = StringProperty("")
    selected = BooleanProperty(False)
    menu: Any = ObjectProperty(None, allownone=True)

    def on_release(self) -> None:
        if self.menu is not None:
            self.menu.pick(self.value)


class NtChoiceMenu(DropDown):  # type: ignore[misc]
    owner: Any = ObjectProperty(None, allownone=True)

    def pick(self, value: str) -> None:
        owner = self.owner
        self.dismiss()
        if owner is not None:
            owner.choose(value)


class NtChoice(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A touch-sized picker: shows the chosen option's label; a tap opens the list.

    ``options``: ``[(value, label)]`` or ``[(value, label, icon)]``; ``value``: the chosen one;
    ``on_choice(value)`` fires when a person picks (not when ``value`` is set in code)."""

    options = ListProperty([])
    value = StringProperty("")
    placeholder = StringProperty("")
    icon = StringProperty("")
    label = StringProperty("")  # the chosen option's text (or the placeholder)
    menu_width = NumericProperty(0)
    __events__ = ("on_choice",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("options", "value", "placeholder"):
            self.fbind(name, self._relabel)
        self._relabel()

    def _relabel(self, *_: Any) -> None:
        for option in self.options:
            if option[0] == self.value:
                self.label = str(option[1])
                return
        self.label = self.placeholder

    def on_release(self) -> None:
        menu = NtChoiceMenu(owner=self)
        menu.auto_width = False
        menu.width = max(self.width, self.menu_width)
        for option in self.options:
            value, text = str(option[0]), str(option[1])
            icon = str(option[2]) if len(option) > 2 else ""
            menu.add_widget(
                NtChoiceItem(
                    value=value, text=text, icon=icon, selected=value == self.value, menu=menu
                )
            )
        menu.open(self)

    def choose(self, value: str) -> None:
        self.value = value
        self.dispatch("on_choice", value)

    def on_choice(self, value: str) -> None:
        pass


class NtToggle(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A switch with its label, the whole row is the touch target (no tiny checkbox)."""

    active = BooleanProperty(False)
    text = StringProperty("")
    __events__ = ("on_toggle",)

    def on_release(self) -> None:
        self.active = not self.active
        self.dispatch("on_toggle", self.active)

    def on_toggle(self, active: bool) -> None:
        pass


class NtTabs(BoxLayout):  # type: ignore[misc]
    """Журнал сообщений · Шаблоны сообщений · Способы уведомлений: one header for the three."""

    current = StringProperty("")
    app: Any = ObjectProperty(None, allownone=True, rebind=True)

    def go(self, name: str) -> None:
        if self.app is not None and name != self.current:
            self.app.go(name)


class NtTextArea(TextInput):  # type: ignore[misc]
    """A multi-line text field styled like ``Field`` (a message template's text)."""


class NtStateLine(BoxLayout):  # type: ignore[misc]
    """A result or an error on one line: icon and text in a tone (hidden when empty)."""

    text = StringProperty("")
    tone = StringProperty("neutral")
    icon = StringProperty("info")


class NtListRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A recycled row of a list (channels, templates, appointments): data in, tap out."""

    index = NumericProperty(0)
    selected = BooleanProperty(False)
    owner: Any = ObjectProperty(None, allownone=True)

    def refresh_view_attrs(self, rv: Any, index: int, data: dict[str, Any]) -> Any:
        self.index = index
        return super().refresh_view_attrs(rv, index, data)

    def on_release(self) -> None:
        if self.owner is not None:
            self.owner.tap_row(self.index)


def test_send_state(
    store: NotifyStore, addressee_id: str, queued_key: str, result_key: str
) -> tuple[str, str]:
    """A test send's result as it is now — (text, tone) — the hub sends, the row syncs back."""
    row = store.addressee(addressee_id)
    if row is None:
        return "", "neutral"
    if row["status"] == "pending" and row["outcome"] != "retry":
        return i18n.tr(queued_key), "new"
    state = delivery_info(row, dealer_zone(store))
    return i18n.tr(result_key, state=state), STATE_TONES.get(row["status"], "neutral")
