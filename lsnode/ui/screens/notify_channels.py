"""«Способы уведомлений»: the channels messages go through, each switched on or off and edited.

The brochure's list (Тип, Наименование, Вкл.: Email, SMS, LAN, FTP, File, Phone) beside the
chosen channel's form: for Email the SMTP server, port, SSL, sender, login and password; for
SMS the gateway's address (an apprise URL with ``{to}``) and its password or key; a folder for
File; server, port, folder, login, password and FTPS for FTP; the default employee of call
tasks for Phone. A password is never shown or read back: the field is always empty, says
whether one is stored, and what is typed is sealed to the hub's key at once (only the hub can
open it) through ``lsnode.notify.admin.save_channel``. «Проверить» queues a check message to
a test recipient through this channel; the hub sends it, and the result shows here as it syncs
back. Logic in ``ChannelsVM`` (tested without a window).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.event import EventDispatcher
from kivy.factory import Factory
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from lsnode.clock import Clock, system_clock
from lsnode.crm.normalize import normalize_phone, phone_problem_message
from lsnode.notify import admin
from lsnode.notify.channels import FIELDS
from lsnode.notify.sealing import hub_certificate, seal_for_hub
from lsnode.notify.service import POLL_S
from lsnode.store.notify import NotifyStore
from lsnode.ui import i18n
from lsnode.ui.screens import LsScreen, load_kv, register
from lsnode.ui.screens._notify_common import (
    KIND_ICONS,
    KIND_ORDER,
    NtListRow,
    dealer_zone,
    describe_error,
    kind_label,
    notify_store,
    store_open,
    test_send_state,
)

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "nch.title": ("Способы уведомлений", "Notification channels"),
    "nch.col.kind": ("Тип", "Kind"),
    "nch.col.name": ("Наименование", "Name"),
    "nch.col.on": ("Вкл.", "On"),
    "nch.add": ("Добавить способ", "Add a channel"),
    "nch.poll": (
        "Очередь сообщений хаб проверяет каждые {s} с; сообщения отправляет только хаб",
        "The hub checks the message queue every {s} s; only the hub sends messages",
    ),
    "nch.empty": (
        "Способов уведомлений ещё нет: добавьте первый",
        "No notification channels yet: add the first one",
    ),
    "nch.new": ("Новый способ", "New channel"),
    "nch.name": ("Наименование", "Name"),
    "nch.enabled": ("Включено", "Enabled"),
    "nch.host": ("SMTP сервер", "SMTP server"),
    "nch.port": ("SMTP порт", "SMTP port"),
    "nch.security": ("Шифрование", "Encryption"),
    "nch.sec.ssl": ("SSL", "SSL"),
    "nch.sec.starttls": ("STARTTLS", "STARTTLS"),
    "nch.sec.none": ("Без шифрования", "None"),
    "nch.sender": ("Отправитель", "Sender"),
    "nch.sender_name": ("Имя отправителя", "Sender name"),
    "nch.login": ("Логин", "Login"),
    "nch.password": ("Пароль", "Password"),
    "nch.password_key": ("Пароль / ключ", "Password / key"),
    "nch.pw_stored": (
        "Сохранён (скрыт). Введите новый, чтобы заменить",
        "Stored (hidden). Type a new one to replace it",
    ),
    "nch.pw_none": ("Не задан", "Not set"),
    "nch.pw_remove": ("Удалить пароль", "Remove password"),
    "nch.pw_remove_q": (
        "Удалить сохранённый пароль способа «{name}»? Без него сервер может отказать в отправке",
        "Remove the stored password of «{name}»? Without it the server may refuse to send",
    ),
    "nch.pw_removed": ("Пароль удалён", "Password removed"),
    "nch.pw_sealed": (
        "Пароль зашифрован ключом хаба: прочитать его может только хаб",
        "The password is sealed with the hub's key: only the hub can read it",
    ),
    "nch.url": ("Адрес шлюза", "Gateway URL"),
    "nch.url_hint": (
        "{to} — телефон получателя, {password} — пароль из поля ниже. "
        "Например: json://sms.example.ru/send?:to={to}",
        "{to} is the recipient's phone, {password} the password below. "
        "E.g. json://sms.example.ru/send?:to={to}",
    ),
    "nch.preset": ("Шаблон адреса", "URL template"),
    "nch.preset.json": ("HTTP JSON", "HTTP JSON"),
    "nch.preset.form": ("HTTP форма", "HTTP form"),
    "nch.preset.smsc": ("SMSC.ru", "SMSC.ru"),
    "nch.folder": ("Папка", "Folder"),
    "nch.folder_hint": (
        "Каждое сообщение сохраняется в эту папку на хабе отдельным файлом",
        "Each message is saved into this folder on the hub as a file",
    ),
    "nch.ftp_host": ("FTP сервер", "FTP server"),
    "nch.ftp_port": ("Порт", "Port"),
    "nch.ftp_folder": ("Папка на сервере", "Server folder"),
    "nch.ftp_tls": ("FTPS (шифрование TLS)", "FTPS (TLS encryption)"),
    "nch.lan_hint": (
        "Сообщение появляется в приложении у сотрудника: консультанта записи, сотрудников и "
        "ролей из правил шаблона",
        "The message shows in the app of the employee: the appointment's adviser, the "
        "employees and roles of the template's rules",
    ),
    "nch.phone_employee": ("Сотрудник по умолчанию", "Default employee"),
    "nch.phone_hint": (
        "Создаёт задачу «позвонить» сотруднику документа или личному менеджеру клиента; "
        "если их нет — сотруднику по умолчанию",
        "Creates a «call» task for the document's employee or the client's manager; "
        "without them, for the default employee",
    ),
    "nch.nobody": ("Не выбран", "Nobody"),
    "nch.save": ("Сохранить", "Save"),
    "nch.revert": ("Отменить изменения", "Discard changes"),
    "nch.saved": ("Сохранено", "Saved"),
    "nch.test": ("Проверка", "Check"),
    "nch.test_run": ("Проверить", "Check"),
    "nch.test_to": ("Тестовый получатель", "Test recipient"),
    "nch.test_to.sms": ("Телефон, например +7 925 111-22-33", "Phone, e.g. +7 925 111-22-33"),
    "nch.test_to.email": ("Адрес e-mail", "E-mail address"),
    "nch.test_to.phone": ("Телефон для звонка", "Phone to call"),
    "nch.test_to.file": ("Получатель (для имени файла)", "Recipient (for the file name)"),
    "nch.test_to.ftp": ("Получатель (для имени файла)", "Recipient (for the file name)"),
    "nch.test_to.lan": ("Проверочное сообщение придёт вам", "The check message comes to you"),
    "nch.test_text": (
        "Проверка способа уведомления «{name}» от {time}",
        "Check of the notification channel «{name}» at {time}",
    ),
    "nch.test_queued": (
        "В очереди: проверочное сообщение отправит хаб",
        "Queued: the hub sends the check message",
    ),
    "nch.test_result": ("Проверка: {state}", "Check: {state}"),
}
i18n.register(STRINGS)
load_kv(__file__)

#: The brochure's names of the six channels («Способы уведомлений»), for a new one.
DEFAULT_NAMES = {
    "email": "Сообщение по электронной почте",
    "sms": "SMS сообщение",
    "lan": "Внутреннее сообщение по сети",
    "ftp": "Передача данных по FTP/SFTP",
    "file": "Сохранение в указанную папку",
    "phone": "Информирование по телефону",
}
#: Gateway URL templates offered for SMS (apprise URLs; the host is the dealer's to fill in).
SMS_PRESETS = {
    "json": "json://sms.example.ru/send?:to={to}",
    "form": "form://sms.example.ru/send?:to={to}&:message=text",
    "smsc": "smsc://login:{password}@{to}",
}
Sealer = Callable[[str, str], str]


def hub_sealer(data_dir: Path, store: NotifyStore) -> Sealer:
    """Seal a password to the hub's certificate (known after the first sync)."""

    def seal(password: str, channel_id: str) -> str:
        cert = hub_certificate(data_dir, store.settings().get("hub_certificate"))
        return seal_for_hub(cert, password, channel_id)

    return seal


def _shown(value: Any) -> Any:
    """A setting as the form holds it: numbers as text, flags as flags."""
    if isinstance(value, bool):
        return value
    return "" if value is None else str(value)


class ChannelsVM(EventDispatcher):  # type: ignore[misc]
    """The channel list and the chosen channel's form. The password is write-only: nothing
    here ever holds the stored (sealed) value."""

    rows = ListProperty([])
    selected_id = StringProperty("")
    kind = StringProperty("")
    name = StringProperty("")
    enabled = BooleanProperty(True)
    settings = DictProperty({})
    has_password = BooleanProperty(False)
    password = StringProperty("")  # what is typed now, never what is stored
    is_new = BooleanProperty(False)
    dirty = BooleanProperty(False)
    error = StringProperty("")
    notice = StringProperty("")
    password_hint = StringProperty("")
    test_address = StringProperty("")
    test_hint = StringProperty("")
    test_text = StringProperty("")
    test_tone = StringProperty("neutral")
    kind_options = ListProperty([])
    employee_options = ListProperty([])

    def __init__(
        self,
        store: NotifyStore,
        *,
        clock: Clock = system_clock,
        seal: Sealer | None = None,
        employee_id: Callable[[], str | None] = lambda: None,
        employees: Sequence[tuple[str, str]] = (),
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.store = store
        self.clock = clock
        self.seal = seal
        self.employee_id = employee_id
        self._employees = list(employees)
        self._test_addressee = ""
        i18n.on_lang_change(self._on_lang)
        self._options()
        self.reload()

    def _on_lang(self, _lang: str) -> None:
        if not store_open(self.store):
            return
        self._options()
        self._hints()
        self._rows(admin.list_channels(self.store))
        self.update_test()

    def _options(self) -> None:
        self.kind_options = [(k, kind_label(k), KIND_ICONS[k]) for k in KIND_ORDER]
        self.employee_options = [("", i18n.tr("nch.nobody")), *self._employees]

    # -- the list ------------------------------------------------------------------------
    def _rows(self, channels: list[dict[str, Any]]) -> None:
        order = {k: i for i, k in enumerate(KIND_ORDER)}
        channels.sort(key=lambda c: (order.get(c["kind"], 99), c["created_at"], c["id"]))
        self.rows = [
            {
                "channel_id": c["id"],
                "kind": c["kind"],
                "kind_text": kind_label(c["kind"]),
                "icon": KIND_ICONS.get(c["kind"], "info"),
                "name": c["name"],
                "enabled": bool(c["enabled"]),
                "selected": c["id"] == self.selected_id,
                "owner": self,
            }
            for c in channels
        ]

    def reload(self) -> None:
        channels = admin.list_channels(self.store)
        ids = {c["id"] for c in channels}
        if self.selected_id and self.selected_id not in ids:
            self.selected_id = ""
        if not self.selected_id and not self.is_new and channels:
            order = {k: i for i, k in enumerate(KIND_ORDER)}
            first = min(channels, key=lambda c: (order.get(c["kind"], 99), c["created_at"]))
            self.selected_id = first["id"]
        self._rows(channels)
        if not self.dirty and self.selected_id:
            self._load(self.selected_id)
        self.update_test()

    def tap_row(self, index: int) -> None:
        if 0 <= index < len(self.rows):
            self.select(self.rows[index]["channel_id"])

    def select(self, channel_id: str) -> None:
        """Open a channel's form (unsaved edits of the previous one are dropped)."""
        self.selected_id = channel_id
        self.is_new = False
        self._test_addressee = ""
        self.test_text = ""
        self._load(channel_id)
        self._rows(admin.list_channels(self.store))

    def toggle_enabled(self, channel_id: str, enabled: bool) -> None:
        """The list's «Вкл.» switch: takes effect at once."""
        try:
            admin.set_channel_enabled(self.store, channel_id, enabled)
        except Exception as exc:
            self.error = describe_error(exc)
        if channel_id == self.selected_id:
            self.enabled = enabled
        self._rows(admin.list_channels(self.store))

    # -- the form ------------------------------------------------------------------------
    def _load(self, channel_id: str) -> None:
        row = self.store.channel(channel_id)
        if row is None:
            return
        view = admin.channel_view(row)  # no secret in it: has_password only
        self.kind = view["kind"]
        self.name = view["name"]
        self.enabled = view["enabled"]
        known = FIELDS.get(self.kind, {})
        self.settings = {k: _shown(view["settings"].get(k, d)) for k, d in known.items()}
        self.has_password = view["has_password"]
        self.password = ""
        self.dirty = False
        self.error = ""
        self.notice = ""
        self._hints()

    def _hints(self) -> None:
        self.password_hint = i18n.tr("nch.pw_stored" if self.has_password else "nch.pw_none")
        self.test_hint = i18n.tr(f"nch.test_to.{self.kind}") if self.kind else ""

    def new_channel(self, kind: str) -> None:
        """A form for a new channel of ``kind`` (saved by ``save``)."""
        if kind not in FIELDS:
            raise ValueError(kind)
        self.selected_id = ""
        self.is_new = True
        self.kind = kind
        self.name = DEFAULT_NAMES[kind]
        self.enabled = True
        self.settings = {k: _shown(v) for k, v in FIELDS[kind].items()}
        self.has_password = False
        self.password = ""
        self.dirty = True
        self.error = self.notice = self.test_text = ""
        self._test_addressee = ""
        self._hints()
        self._rows(admin.list_channels(self.store))

    def set_name(self, text: str) -> None:
        if text != self.name:
            self.name, self.dirty = text, True

    def set_enabled(self, enabled: bool) -> None:
        if enabled != self.enabled:
            self.enabled, self.dirty = enabled, True

    def set_field(self, key: str, value: Any) -> None:
        """A setting typed or chosen; keys of another kind are ignored (a form being replaced
        still hears the new settings for a moment)."""
        if key not in FIELDS.get(self.kind, {}):
            return
        if self.settings.get(key) != value:
            self.settings[key] = value
            self.dirty = True

    def set_password(self, text: str) -> None:
        if text != self.password:
            self.password = text
            self.dirty = self.dirty or bool(text)

    def use_preset(self, preset: str) -> None:
        self.set_field("url", SMS_PRESETS[preset])

    def revert(self) -> None:
        if self.is_new:
            self.is_new = False
            self.dirty = False
            self.selected_id = ""
            self.reload()
        elif self.selected_id:
            self._load(self.selected_id)

    def save(self) -> bool:
        """Write the form; the typed password (if any) is sealed for the hub and forgotten."""
        self.error = self.notice = ""
        known = FIELDS.get(self.kind, {})
        settings = {k: v for k, v in self.settings.items() if k in known}
        try:
            channel_id = admin.save_channel(
                self.store,
                kind=self.kind,
                name=self.name,
                channel_id=self.selected_id or None,
                enabled=self.enabled,
                settings=settings,
                password=self.password or None,
                seal=self.seal,
            )
        except Exception as exc:
            self.error = describe_error(exc)
            return False
        sealed_now = bool(self.password)
        self.password = ""
        self.selected_id = channel_id
        self.is_new = False
        self.dirty = False
        self._load(channel_id)
        self._rows(admin.list_channels(self.store))
        self.notice = i18n.tr("nch.pw_sealed" if sealed_now else "nch.saved")
        return True

    def remove_password(self) -> bool:
        """Drop the stored password (the screen asks first: it is destructive)."""
        if not self.selected_id:
            return False
        try:
            admin.save_channel(
                self.store,
                kind=self.kind,
                name=self.name,
                channel_id=self.selected_id,
                password="",
            )
        except Exception as exc:
            self.error = describe_error(exc)
            return False
        dirty = self.dirty
        self.has_password = False
        self._hints()
        self.dirty = dirty
        self.notice = i18n.tr("nch.pw_removed")
        return True

    # -- the check -----------------------------------------------------------------------
    def set_test_address(self, text: str) -> None:
        self.test_address = text

    def send_test(self) -> bool:
        """«Проверить»: save pending edits, then queue a check message to the test recipient."""
        self.error = ""
        if (self.dirty or self.is_new) and not self.save():
            return False
        address = self.test_address.strip()
        if self.kind in ("sms", "phone") and address:
            phone = normalize_phone(address)
            if phone.e164 is None:
                self.error = phone_problem_message(phone, i18n.current_lang()) or ""
                return False
            address = phone.e164
        now = self.clock()
        text = i18n.tr(
            "nch.test_text",
            name=self.name,
            time=now.astimezone(dealer_zone(self.store)).strftime("%d.%m.%Y %H:%M"),
        )
        try:
            _message, addressee = admin.send_channel_test(
                self.store,
                self.selected_id,
                now,
                address=address,
                text=text,
                employee_id=self.employee_id() if self.kind == "lan" else None,
            )
        except Exception as exc:
            self.error = describe_error(exc)
            return False
        self._test_addressee = addressee
        self.update_test()
        return True

    def update_test(self) -> None:
        """The check's result as it is now (the hub sends; the row syncs back)."""
        if self._test_addressee:
            self.test_text, self.test_tone = test_send_state(
                self.store, self._test_addressee, "nch.test_queued", "nch.test_result"
            )


class NchRow(NtListRow):
    channel_id = StringProperty("")
    kind = StringProperty("")
    kind_text = StringProperty("")
    icon = StringProperty("")
    name = StringProperty("")
    enabled = BooleanProperty(False)


class NchForm(BoxLayout):  # type: ignore[misc]
    """The kind-specific part of the form (``NchForm_email`` … in kv), bound to the VM."""

    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it


class NotifyChannelsScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    poll_s = NumericProperty(POLL_S)  # «Интервал опроса очереди сообщений» (the hub's)

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        services = app.services
        assert services is not None
        store = notify_store(services)
        employees = [(str(e["id"]), str(e["short_name"])) for e in services.reader.employees()]
        vm = ChannelsVM(
            store,
            clock=services.clock,
            seal=hub_sealer(Path(app.data_dir), store),
            employee_id=lambda: services.session.employee_id if services.session else None,
            employees=employees,
        )
        super().__init__(app, vm=vm, **kwargs)
        vm.fbind("kind", self._show_form)
        self._show_form()

    def _show_form(self, *_: Any) -> None:
        box = self.ids.get("kind_form")
        if box is None:
            return
        box.clear_widgets()
        if self.vm.kind:
            box.add_widget(getattr(Factory, f"NchForm_{self.vm.kind}")(vm=self.vm))

    def on_kv_post(self, _base: Any) -> None:
        self._show_form()

    def refresh(self) -> None:
        self.vm.reload()

    def ask_remove_password(self) -> None:
        from lsnode.ui.theme.widgets import confirm

        confirm(
            i18n.tr("nch.pw_remove_q", name=self.vm.name),
            i18n.tr("nch.pw_remove"),
            self.vm.remove_password,
        )


register(
    "notify_channels",
    lambda app: NotifyChannelsScreen(app),
    label="notify.tab.channels",
    icon="send-outline",
    order=86,
    nav=False,
)
