"""«Журнал сообщений»: the generated notifications and, for the one chosen, its addressees.

As in the brochure: «СФОРМИРОВАННЫЕ УВЕДОМЛЕНИЯ» (ID, Категория, Тип, Шаблон, Дата создания)
filtered by message ID, category, type, creation dates, delivery channel and «Только
неотправленные»; at most the first 1000 rows («Показаны первые 1000 строк, удовлетворяющих
условиям фильтра»). Tapping a row shows «АДРЕСАТЫ» (Получатель, Назначение, Дата отправки,
Получено, Доп.информация — why a message did not go: no consent, switched off, expired …) and
the message's text. The hub writes the journal; this node shows it as synced.

The rail's «Уведомления» opens this screen; its header leads on to «Шаблоны сообщений» and
«Способы уведомлений». Logic in ``JournalVM`` (tested without a window).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from lsnode.clock import Clock, local_at, parse_hhmm, system_clock
from lsnode.notify import admin
from lsnode.notify.catalog import TYPES
from lsnode.store.notify import NotifyStore
from lsnode.store.schema import NOTIFY_CATEGORIES
from lsnode.ui import i18n
from lsnode.ui.screens import ORDER, LsScreen, load_kv, register
from lsnode.ui.screens._notify_common import (
    KIND_ICONS,
    KIND_ORDER,
    STATE_TONES,
    category_label,
    dealer_zone,
    delivery_info,
    describe_error,
    kind_label,
    message_state,
    notify_store,
    parse_day,
    show_at,
    store_open,
    type_label,
)
from lsnode.ui.theme.widgets import Column, numeric

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "njr.title": ("Журнал сообщений", "Message journal"),
    "njr.generated": ("Сформированные уведомления", "Generated notifications"),
    "njr.first_rows": (
        "Показаны первые {n} строк, удовлетворяющих условиям фильтра",
        "The first {n} rows matching the filter are shown",
    ),
    "njr.rows": (
        "{n} сообщение|{n} сообщения|{n} сообщений",
        "{n} message|{n} messages",
    ),
    "njr.number": ("ID сообщения", "Message ID"),
    "njr.type_all": ("Все типы", "All types"),
    "njr.cat_all": ("Все категории", "All categories"),
    "njr.channel_all": ("Все способы", "All channels"),
    "njr.from": ("Создано с", "Created from"),
    "njr.to": ("по", "to"),
    "njr.unsent": ("Только неотправленные", "Unsent only"),
    "njr.reset": ("Сбросить", "Reset"),
    "njr.col.id": ("ID", "ID"),
    "njr.col.category": ("Категория", "Category"),
    "njr.col.type": ("Тип", "Type"),
    "njr.col.template": ("Шаблон", "Template"),
    "njr.col.created": ("Дата создания", "Created"),
    "njr.col.state": ("Состояние", "State"),
    "njr.addressees": ("Адресаты", "Addressees"),
    "njr.sent_at": ("Дата отправки", "Sent"),
    "njr.delivered_at": ("Получено", "Delivered"),
    "njr.text": ("Текст сообщения", "Message text"),
    "njr.message_no": ("Сообщение № {n}", "Message no. {n}"),
    "njr.message_new": ("Сообщение (номер даст хаб)", "Message (the hub gives its number)"),
    "njr.pick": (
        "Выберите сообщение в списке: здесь появятся его адресаты и текст",
        "Pick a message in the list: its addressees and text show here",
    ),
    "njr.no_addressees": ("Адресатов нет", "No addressees"),
    "njr.refresh": ("Обновить", "Refresh"),
    "njr.test_recipient": ("Тестовый получатель", "Test recipient"),
}
i18n.register(STRINGS)
load_kv(__file__)

LIMIT = 1000
MESSAGE_COLUMNS = [
    numeric("number", "njr.col.id", 0.55),
    Column("category", "njr.col.category", 0.85),
    Column("type", "njr.col.type", 1.75),
    Column("template", "njr.col.template", 1.35),
    numeric("created", "njr.col.created", 1.45),
    Column("state", "njr.col.state", 1.2),
]


class JournalVM(EventDispatcher):  # type: ignore[misc]
    """The message journal's filters, rows and the chosen message's details."""

    number = StringProperty("")
    category = StringProperty("")
    type_code = StringProperty("")
    channel_kind = StringProperty("")
    date_from = StringProperty("")
    date_to = StringProperty("")
    unsent_only = BooleanProperty(False)

    rows = ListProperty([])  # formatted rows of the messages table
    count_text = StringProperty("")
    category_options = ListProperty([])
    type_options = ListProperty([])
    channel_options = ListProperty([])
    error = StringProperty("")

    selected = NumericProperty(-1)
    selected_id = StringProperty("")
    title = StringProperty("")
    facts = ListProperty([])  # [(label, value)] of the chosen message
    addressees = ListProperty([])  # rows of the addressees list
    subject = StringProperty("")
    text = StringProperty("")

    def __init__(
        self, store: NotifyStore, clock: Clock = system_clock, limit: int = LIMIT, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.store = store
        self.clock = clock
        self.limit = limit
        self._messages: list[dict[str, Any]] = []
        i18n.on_lang_change(self._on_lang)
        self._options()
        self.reload()

    def _on_lang(self, _lang: str) -> None:
        if not store_open(self.store):
            return
        self._options()
        self._show()

    def _options(self) -> None:
        self.category_options = [("", i18n.tr("njr.cat_all"))] + [
            (c, category_label(c)) for c in NOTIFY_CATEGORIES
        ]
        types = [t for t in TYPES if not self.category or t.category == self.category]
        self.type_options = [("", i18n.tr("njr.type_all"))] + [
            (t.code, type_label(t.code)) for t in types
        ]
        self.channel_options = [("", i18n.tr("njr.channel_all"))] + [
            (k, kind_label(k), KIND_ICONS[k]) for k in KIND_ORDER
        ]

    # -- filters -------------------------------------------------------------------------
    def set_category(self, code: str) -> None:
        self.category = code
        if self.type_code and not any(
            t.code == self.type_code for t in TYPES if not code or t.category == code
        ):
            self.type_code = ""
        self._options()
        self.reload()

    def set_filter(self, name: str, value: Any) -> None:
        if name not in (
            "number",
            "type_code",
            "channel_kind",
            "date_from",
            "date_to",
            "unsent_only",
        ):
            raise ValueError(name)
        setattr(self, name, value)
        self.reload()

    def last_days(self, days: int) -> None:
        """«Сегодня» (1), «7 дней», «30 дней»: the creation range ending today."""
        today = self.clock().astimezone(dealer_zone(self.store)).date()
        self.date_from = (today - timedelta(days=days - 1)).strftime("%d.%m.%Y")
        self.date_to = today.strftime("%d.%m.%Y")
        self.reload()

    def reset(self) -> None:
        self.number = self.category = self.type_code = self.channel_kind = ""
        self.date_from = self.date_to = ""
        self.unsent_only = False
        self._options()
        self.reload()

    def _query(self) -> dict[str, Any] | None:
        tz = dealer_zone(self.store)
        midnight = parse_hhmm("00:00")
        try:
            start = parse_day(self.date_from)
            end = parse_day(self.date_to)
        except ValueError:
            self.error = i18n.tr("notify.err.date")
            return None
        number_text = self.number.strip().lstrip("№#").strip()
        if number_text and not number_text.isdigit():
            self.error = i18n.tr("notify.err.number", field=i18n.tr("njr.number"))
            return None
        return {
            "category": self.category or None,
            "type": self.type_code or None,
            "created_from": local_at(start, midnight, tz) if start else None,
            "created_to": local_at(end + timedelta(days=1), midnight, tz) if end else None,
            "number": int(number_text) if number_text else None,
            "channel_kind": self.channel_kind or None,
            "unsent_only": self.unsent_only,
            "limit": self.limit,
        }

    # -- loading -------------------------------------------------------------------------
    def reload(self) -> None:
        query = self._query()
        if query is None:
            self._messages = []
            self._show()
            return
        self.error = ""
        try:
            self._messages = admin.journal(self.store, **query)
        except Exception as exc:  # a broken filter must not break the screen
            self.error = describe_error(exc)
            self._messages = []
        self._show()

    def _show(self) -> None:
        tz = dealer_zone(self.store)
        rows = []
        for m in self._messages:
            state, tone = message_state(m["addressees"])
            rows.append(
                {
                    "id": m["id"],
                    "number": str(m["number"]) if m["number"] else "—",
                    "category": category_label(m["category"]),
                    "type": type_label(m["type"]),
                    "template": m.get("template_name") or "",
                    "created": show_at(m["created_at"], tz),
                    "state": state,
                    "tone": tone,
                }
            )
        self.rows = rows
        n = len(rows)
        self.count_text = (
            i18n.tr("njr.first_rows", n=self.limit) if n >= self.limit else i18n.tr("njr.rows", n=n)
        )
        index = next((i for i, r in enumerate(rows) if r["id"] == self.selected_id), -1)
        self._detail(index)

    def select(self, index: int) -> None:
        self._detail(index)

    def _detail(self, index: int) -> None:
        tz = dealer_zone(self.store)
        if not 0 <= index < len(self._messages):
            self.selected, self.selected_id = -1, ""
            self.title, self.subject, self.text = "", "", ""
            self.facts, self.addressees = [], []
            return
        m = self._messages[index]
        self.selected, self.selected_id = index, m["id"]
        self.title = (
            i18n.tr("njr.message_no", n=m["number"]) if m["number"] else i18n.tr("njr.message_new")
        )
        self.facts = [
            (i18n.tr("njr.col.category"), category_label(m["category"])),
            (i18n.tr("njr.col.type"), type_label(m["type"])),
            (i18n.tr("njr.col.template"), m.get("template_name") or "—"),
            (i18n.tr("njr.col.created"), show_at(m["created_at"], tz)),
        ]
        self.subject = m.get("subject") or ""
        self.text = m.get("text") or ""
        self.addressees = [self.addressee_row(a, tz) for a in m["addressees"]]

    @staticmethod
    def addressee_row(a: dict[str, Any], tz: Any) -> dict[str, Any]:
        kind = a["channel_kind"]
        recipient = a.get("recipient") or ""
        if a.get("recipient_kind") == "test":
            recipient = f"{i18n.tr('njr.test_recipient')}: {recipient}".rstrip(": ")
        status = a.get("status") or ""
        sent, delivered = show_at(a.get("sent_at"), tz), show_at(a.get("delivered_at"), tz)
        times = " · ".join(
            f"{i18n.tr(key)}: {value}"
            for key, value in (("njr.sent_at", sent), ("njr.delivered_at", delivered))
            if value
        )
        return {
            "recipient": recipient,
            "address": a.get("address") or "",
            "kind": kind_label(kind),
            "icon": KIND_ICONS.get(kind, "info"),
            "sent_at": sent,
            "delivered_at": delivered,
            "times": times,
            "info": delivery_info(a, tz),
            "tone": STATE_TONES.get(status, "neutral"),
            "status": status,
        }


class NotifyJournalScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    columns = ListProperty(MESSAGE_COLUMNS)

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        assert app.services is not None
        vm = JournalVM(notify_store(app.services), clock=app.services.clock)
        super().__init__(app, vm=vm, **kwargs)

    def refresh(self) -> None:
        self.vm.reload()

    def date_entered(self, name: str, text: str) -> None:
        if getattr(self.vm, name) != text:
            self.vm.set_filter(name, text)


register(
    "notify_journal",
    lambda app: NotifyJournalScreen(app),
    label="notify.rail",
    icon="bell-outline",
    order=ORDER["notify_journal"],
)
