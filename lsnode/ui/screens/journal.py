"""«Журнал» — the brochure's «Журнал входящего трафика»: every contact, filtered, in a table.

Filters (the brochure's «Фильтр»): contact type, purpose, employee, status, date range (today /
yesterday / 7 days / month / all / custom), traffic ID, branch, client name, phone; and «показать
мой / чужой / нераспределенный трафик», cut down to the signed-in employee's rights
(``Right.SEE_OWN`` / ``SEE_OTHERS`` / ``SEE_UNASSIGNED``). Columns as the brochure has them: ID
(«—» until the hub numbers it), Дата и время, Назначено, Обработал, Цель, Клиент, Длительность,
Телефон, Примечание, Документ, and the status as a coloured chip; the count «18 из 1000».

Rows are tapped to open the traffic card; the checkbox column selects rows for the bulk actions
«Взять себе», «Назначить», «Игнорировать» (each row reports its own outcome: one may already be
taken by someone else). Internal switches of a row show in a small popup.

Speed: the table is a RecycleView of plain dicts built in one pass from
``SqliteTraffic.journal_brief`` (no per-row queries, names from small maps), so 10,000 rows
open and filter in well under 300 ms — ``measure_journal`` times exactly that for
``lsavto bench ui``.

Logic lives in ``JournalVM`` (no widgets; tested without a window); ``journal.kv`` is layout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.lang import global_idmap
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView
from kivy.uix.recycleview import RecycleView
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from lsnode.clock import instant
from lsnode.crm.normalize import name_key, normalize_phone
from lsnode.crm.staff import Right, Session
from lsnode.crm.traffic import IGNORE_REASONS, IllegalTransition, Taken
from lsnode.errors import InputError, LsnodeError, NotFound
from lsnode.store.ports import JournalQuery, Row
from lsnode.store.schema import CONTACT_TYPES, TRAFFIC_STATUSES
from lsnode.ui import i18n
from lsnode.ui import screens as registry
from lsnode.ui.screens import ORDER, LsScreen, load_kv, register

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "journal.title": ("Журнал", "Journal"),
    "journal.heading": ("Журнал входящего трафика", "Incoming traffic journal"),
    # scope
    "journal.scope.mine": ("Мой", "Mine"),
    "journal.scope.others": ("Чужой", "Others'"),
    "journal.scope.unassigned": ("Нераспределённый", "Unassigned"),
    # periods
    "journal.period.today": ("Сегодня", "Today"),
    "journal.period.yesterday": ("Вчера", "Yesterday"),
    "journal.period.week": ("7 дней", "7 days"),
    "journal.period.month": ("Месяц", "Month"),
    "journal.period.all": ("Всё время", "All time"),
    "journal.period.custom": ("Период…", "Period…"),
    "journal.period.range": ("{start} – {end}", "{start} – {end}"),
    # filter fields
    "journal.f.number": ("ID трафика", "Traffic ID"),
    "journal.f.client": ("ФИО клиента", "Client name"),
    "journal.f.phone": ("Телефон", "Phone"),
    "journal.f.more": ("Фильтр", "Filter"),
    "journal.f.more_n": ("Фильтр · {n}", "Filter · {n}"),
    "journal.f.reset": ("Сбросить", "Reset"),
    "journal.f.apply": ("Применить", "Apply"),
    "journal.f.title": ("Фильтр", "Filter"),
    "journal.f.type": ("Тип контакта", "Contact type"),
    "journal.f.purpose": ("Цель контакта", "Contact purpose"),
    "journal.f.employee": ("Сотрудник", "Employee"),
    "journal.f.status": ("Статус", "Status"),
    "journal.f.branch": ("Филиал", "Branch"),
    "journal.f.dates": ("Дата контакта", "Contact date"),
    "journal.f.date_from": ("с ДД.ММ.ГГГГ", "from DD.MM.YYYY"),
    "journal.f.date_to": ("по ДД.ММ.ГГГГ", "to DD.MM.YYYY"),
    "journal.f.any": ("Все", "All"),
    "journal.f.any_purpose": ("Все цели", "All purposes"),
    "journal.f.any_employee": ("Все сотрудники", "All employees"),
    "journal.f.any_branch": ("Все филиалы", "All branches"),
    # filter errors
    "journal.err.number": (
        "ID трафика — это число, например 59452",
        "A traffic ID is a number, e.g. 59452",
    ),
    "journal.err.phone": (
        "Телефон: введите номер или хотя бы 4 последние цифры",
        "Phone: type the number or at least its last 4 digits",
    ),
    "journal.err.date": (
        "Дата «{text}» не распознана: нужна ДД.ММ.ГГГГ, например 01.12.2017",
        "Date “{text}” not recognised: use DD.MM.YYYY, e.g. 01.12.2017",
    ),
    "journal.err.dates_order": (
        "Начало периода позже его конца",
        "The period starts after it ends",
    ),
    "journal.err.client": ("ФИО клиента: введите буквы", "Client name: type letters"),
    "journal.signed_out": (
        "Войдите по PIN-коду, чтобы видеть трафик",
        "Sign in with your PIN to see the traffic",
    ),
    "journal.no_scope": (
        "Выберите, чей трафик показать: мой, чужой или нераспределённый",
        "Choose whose traffic to show: mine, others' or unassigned",
    ),
    "journal.more_than_shown": (
        "Показаны первые {n}: уточните фильтр",
        "Showing the first {n}: narrow the filter",
    ),
    # columns
    "journal.col.number": ("ID", "ID"),
    "journal.col.when": ("Дата и время", "Date and time"),
    "journal.col.assigned": ("Назначено", "Assigned"),
    "journal.col.processed": ("Обработал", "Processed by"),
    "journal.col.purpose": ("Цель", "Purpose"),
    "journal.col.client": ("Клиент", "Client"),
    "journal.col.duration": ("Длит.", "Length"),
    "journal.col.phone": ("Телефон", "Phone"),
    "journal.col.note": ("Примечание", "Note"),
    "journal.col.document": ("Документ", "Document"),
    "journal.col.status": ("Статус", "Status"),
    "journal.no_number": ("б/н", "no number"),
    "journal.count": ("{n} из {total}", "{n} of {total}"),
    "journal.empty": ("Нет контактов по этому фильтру", "No contacts match this filter"),
    # types and statuses
    "journal.type.call": ("Звонок", "Call"),
    "journal.type.visit": ("Визит", "Visit"),
    "journal.type.internet": ("Интернет", "Internet"),
    "journal.status.new": ("Новый", "New"),
    "journal.status.in_work": ("В работе", "In work"),
    "journal.status.document_created": ("Создан документ", "Document created"),
    "journal.status.document_attached": ("Прикреплен к документу", "Attached to document"),
    "journal.status.ignored": ("Проигнорирован", "Ignored"),
    "journal.status.lost": ("Упущенный", "Lost"),
    # actions
    "journal.selected": (
        "Выбран {n} контакт|Выбрано {n} контакта|Выбрано {n} контактов",
        "{n} contact selected|{n} contacts selected",
    ),
    "journal.select_all": ("Выбрать все показанные", "Select all shown"),
    "journal.clear_selection": ("Снять выбор", "Clear selection"),
    "journal.take": ("Взять себе", "Take"),
    "journal.assign": ("Назначить", "Assign"),
    "journal.ignore": ("Игнорировать", "Ignore"),
    "journal.play": ("Воспроизвести", "Play"),
    "journal.assign_title": (
        "Назначить {n} контакт|Назначить {n} контакта|Назначить {n} контактов",
        "Assign {n} contact|Assign {n} contacts",
    ),
    "journal.ignore_title": (
        "Игнорировать {n} контакт?|Игнорировать {n} контакта?|Игнорировать {n} контактов?",
        "Ignore {n} contact?|Ignore {n} contacts?",
    ),
    "journal.ignore_reason": ("Причина игнорирования", "Reason"),
    "journal.ignore_own": ("Своя причина", "Another reason"),
    "journal.ignore_need_reason": ("Выберите или впишите причину", "Choose or type a reason"),
    "journal.result_title": (
        "Выполнено: {ok} из {n}",
        "Done: {ok} of {n}",
    ),
    "journal.result.taken": ("взят вами", "taken by you"),
    "journal.result.assigned": ("назначен: {name}", "assigned to {name}"),
    "journal.result.ignored": ("проигнорирован", "ignored"),
    "journal.err.taken": ("уже взят: {name}", "already taken by {name}"),
    "journal.err.someone": ("другим сотрудником", "another employee"),
    "journal.err.illegal": (
        "нельзя: контакт «{status}»",
        "not possible: the contact is “{status}”",
    ),
    "journal.err.not_found": ("контакт не найден", "contact not found"),
    "journal.err.no_right": ("нет права на это действие", "no right to do this"),
    "journal.err.other": ("не выполнено: {detail}", "not done: {detail}"),
    "journal.no_card": (
        "Карточка трафика пока недоступна",
        "The traffic card is not available yet",
    ),
    # switches
    "journal.switches": ("Внутренние коммутации", "Internal switches"),
    "journal.switches.none": ("Коммутаций не было", "No switches"),
    "journal.switches.row": ("{n}. {start} · {who} · {length}", "{n}. {start} · {who} · {length}"),
    "journal.switches.client": ("КЛИЕНТ", "CLIENT"),
}
i18n.register(STRINGS)

PERIODS = ("today", "yesterday", "week", "month", "all", "custom")
SCOPES = ("mine", "others", "unassigned")
SCOPE_RIGHTS = {
    "mine": Right.SEE_OWN,
    "others": Right.SEE_OTHERS,
    "unassigned": Right.SEE_UNASSIGNED,
}
#: Traffic status → chip tone (UI.md: new amber, in work blue, processed green, ignored grey,
#: lost red).
STATUS_TONES = {
    "new": "new",
    "in_work": "in_work",
    "document_created": "processed",
    "document_attached": "processed",
    "ignored": "ignored",
    "lost": "lost",
}
TYPE_ICONS = {"call": "call", "visit": "visit", "internet": "internet"}
DEFAULT_PERIOD = "month"


class FilterError(InputError):
    """A filter value that cannot be applied; ``key``/``fmt`` make the user's message."""

    def __init__(self, key: str, **fmt: Any) -> None:
        super().__init__(i18n.tr(key, lang="en", **fmt))
        self.key, self.fmt = key, fmt

    def text(self) -> str:
        return i18n.tr(self.key, **self.fmt)


# --- filters → query (pure) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalFilters:
    """What the person chose in the «Фильтр» — texts as typed, sets as picked."""

    period: str = DEFAULT_PERIOD
    date_from: str = ""  # «ДД.ММ.ГГГГ» for the custom period (inclusive)
    date_to: str = ""
    contact_types: frozenset[str] = frozenset()
    purpose_id: str | None = None
    employee_id: str | None = None
    statuses: frozenset[str] = frozenset()
    branch_id: str | None = None
    number: str = ""
    client_name: str = ""
    phone: str = ""
    scope: frozenset[str] = frozenset(SCOPES)

    def extra_count(self) -> int:
        """How many filters of the «Фильтр» dialog are set (shown on its button)."""
        return sum(
            (
                bool(self.contact_types),
                self.purpose_id is not None,
                self.employee_id is not None,
                bool(self.statuses),
                self.branch_id is not None,
            )
        )


def allowed_scopes(session: Session | None) -> frozenset[str]:
    """Whose traffic the signed-in employee may see; nobody signed in sees none."""
    if session is None:
        return frozenset()
    return frozenset(s for s, right in SCOPE_RIGHTS.items() if session.may(right))


def parse_day(text: str) -> date:
    """«01.12.2017» (also «1.12.2017», «01.12.17») → a date, or ``FilterError``."""
    raw = text.strip()
    parts = raw.replace("/", ".").replace("-", ".").split(".")
    try:
        if len(parts) != 3:
            raise ValueError
        day, month, year = (int(p) for p in parts)
        if year < 100:
            year += 2000
        return date(year, month, day)
    except ValueError:
        raise FilterError("journal.err.date", text=raw) from None


def _local_midnight_utc(day: date, now: datetime) -> str:
    """The dealer's midnight starting ``day`` (the display zone), as a stored UTC instant."""
    tz = i18n.local(now).tzinfo
    return instant(datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC))


def period_bounds(
    period: str, now: datetime, date_from: str = "", date_to: str = ""
) -> tuple[str | None, str | None]:
    """(from, to) UTC instants of a period in the dealer's days; ``to`` is exclusive."""
    today = i18n.local(now).date()
    if period == "all":
        return None, None
    if period == "custom":
        start = parse_day(date_from) if date_from.strip() else None
        end = parse_day(date_to) if date_to.strip() else None
        if start and end and start > end:
            raise FilterError("journal.err.dates_order")
        return (
            _local_midnight_utc(start, now) if start else None,
            _local_midnight_utc(end + timedelta(days=1), now) if end else None,
        )
    first = {
        "today": today,
        "yesterday": today - timedelta(days=1),
        "week": today - timedelta(days=6),
        "month": today.replace(day=1),
    }.get(period)
    if first is None:
        raise ValueError(f"unknown period {period!r}")
    last = today - timedelta(days=1) if period == "yesterday" else today
    return _local_midnight_utc(first, now), _local_midnight_utc(last + timedelta(days=1), now)


def build_query(
    filters: JournalFilters,
    session: Session | None,
    now: datetime,
    *,
    region: str = "RU",
    limit: int = 10_000,
) -> JournalQuery:
    """The store's ``JournalQuery`` for what the person chose, within their rights.

    Raises ``FilterError`` for a value that cannot be searched (a non-numeric ID, a phone with
    fewer than 4 digits, a date that is not ДД.ММ.ГГГГ)."""
    scope = filters.scope & allowed_scopes(session)
    date_from, date_to = period_bounds(filters.period, now, filters.date_from, filters.date_to)
    number = None
    if filters.number.strip():
        text = filters.number.strip().lstrip("№#").strip()
        if not text.isdigit():
            raise FilterError("journal.err.number")
        number = int(text)
    phone_e164, phone_suffix = None, ""
    if filters.phone.strip():
        phone = normalize_phone(filters.phone, region)
        digits = phone.digits
        if phone.e164 and phone.valid:
            phone_e164 = phone.e164
        elif len(digits) >= 4:
            phone_suffix = digits[::-1]
        else:
            raise FilterError("journal.err.phone")
    client_key = ""
    if filters.client_name.strip():
        client_key = name_key(filters.client_name)
        if not client_key:
            raise FilterError("journal.err.client")
    return JournalQuery(
        me=session.employee_id if session else None,
        scope=scope,
        contact_types=filters.contact_types,
        purpose_ids=frozenset({filters.purpose_id}) if filters.purpose_id else frozenset(),
        employee_id=filters.employee_id,
        statuses=filters.statuses,
        date_from=date_from,
        date_to=date_to,
        number=number,
        branch_id=filters.branch_id,
        client_name_key=client_key,
        phone_e164=phone_e164,
        phone_suffix=phone_suffix,
        limit=limit,
    )


# --- rows --------------------------------------------------------------------------------------


def format_duration(seconds: int | None) -> str:
    """«34:07», «1:02:03» as the brochure's Длительность; empty when unknown."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class _Stamps:
    """``ДД.ММ.ГГГГ ЧЧ:ММ`` for 10,000 stored instants fast: the dealer's UTC offset is looked
    up once per UTC hour (time zones change offset on hour boundaries), the rest is arithmetic.
    Anything unexpected goes the slow, exact way (``i18n.format_datetime``)."""

    def __init__(self) -> None:
        self.offsets: dict[str, timedelta] = {}

    def __call__(self, iso: str | None) -> str:
        if not iso:
            return ""
        if len(iso) < 16 or iso[-1] != "Z":
            return i18n.format_datetime(iso)
        hour = iso[:13]
        offset = self.offsets.get(hour)
        if offset is None:
            offset = i18n.local(iso).utcoffset() or timedelta(0)
            self.offsets[hour] = offset
        d = (
            datetime(int(iso[0:4]), int(iso[5:7]), int(iso[8:10]), int(iso[11:13]), int(iso[14:16]))
            + offset
        )
        return f"{d.day:02d}.{d.month:02d}.{d.year} {d.hour:02d}:{d.minute:02d}"


@dataclass(slots=True)
class Names:
    """The small maps a row's ids are shown through (read once per reload)."""

    employees: dict[str, str] = field(default_factory=dict)
    presence: dict[str, str] = field(default_factory=dict)
    purposes: dict[str, str] = field(default_factory=dict)
    purposes_short: dict[str, str] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    stamp: _Stamps = field(default_factory=_Stamps)

    @classmethod
    def read(cls, reader: Any) -> Names:
        emps = reader.employees(active_only=False)
        purposes = reader.purposes(include_disabled=True)
        return cls(
            {e["id"]: e["short_name"] for e in emps},
            {e["id"]: e["presence"] for e in emps},
            {p["id"]: p["full_name"] for p in purposes},
            {p["id"]: p["short_name"] for p in purposes},
            {b["id"]: b["name"] for b in reader.reference("branches")},
        )


def shown(r: Row, names: Names) -> dict[str, Any]:
    """What one journal row shows, as display strings: the brochure's columns, the status chip's
    text and tone. Called by the RecycleView for the rows in view only, so a reload of 10,000
    rows costs one query, not 10,000 formattings."""
    number = r["number"]
    status = r["status"]
    emp = names.employees.get
    responsible, processed, purpose = r["responsible_id"], r["processed_by"], r["purpose_id"]
    doc = r["document_no"] or (i18n.tr("journal.no_number") if r["document_id"] else "")
    return {
        "tid": r["id"],
        "number": "—" if number is None else str(number),
        "ctype": TYPE_ICONS.get(r["contact_type"], "info"),
        "when": names.stamp(r["contact_at"]),
        "assigned": emp(responsible, "") if responsible else "",
        "processed": emp(processed, "") if processed else "",
        "purpose": names.purposes.get(purpose, "") if purpose else "",
        "purpose_short": names.purposes_short.get(purpose, "") if purpose else "",
        "client": r["client_name"] or "",
        "duration": format_duration(r["duration_s"]),
        "phone": r["phone"] or "",
        "note": " ".join((r["note"] or "").split()),
        "document": doc,
        "status": status,
        "status_text": i18n.tr(f"journal.status.{status}") if status else "",
        "tone": STATUS_TONES.get(status, "neutral"),
        "switches": int(r["switch_count"] or 0),
        "selected": bool(r.get("selected")),
    }


def row_label(r: Row) -> str:
    """«№ 59452 · Иванов В.А.»: how a bulk action's outcome names its row."""
    number = "—" if r["number"] is None else str(r["number"])
    return f"№ {number}" + (f" · {r['client_name']}" if r["client_name"] else "")


# --- bulk actions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one row of a bulk action came to: shown per row after «Взять себе» etc."""

    traffic_id: str
    label: str  # «№ 59452 · Иванов В.А.»
    ok: bool
    message: str


def explain(error: BaseException, names: Names, status_text: str = "") -> str:
    """A failed row's reason in the user's language (the domain speaks English)."""
    if isinstance(error, Taken):
        name = names.employees.get(error.winner or "", "")
        if not name:
            message = str(error)
            name = (
                message.split("by ", 1)[1]
                if "by " in message and "someone" not in message
                else i18n.tr("journal.err.someone")
            )
        return i18n.tr("journal.err.taken", name=name)
    key = getattr(error, "message_key", None)
    if key:  # HubUnavailable: offline / not paired / timeout
        return i18n.tr(key)
    if isinstance(error, IllegalTransition):
        return i18n.tr("journal.err.illegal", status=status_text)
    if isinstance(error, NotFound):
        return i18n.tr("journal.err.not_found")
    if isinstance(error, InputError) and "no right" in str(error):
        return i18n.tr("journal.err.no_right")
    return i18n.tr("journal.err.other", detail=str(error))


# --- the view-model --------------------------------------------------------------------------


class JournalVM(EventDispatcher):  # type: ignore[misc]
    """The journal's state and commands, over the app's services.

    ``reader`` is ``SqliteTraffic`` (``journal_brief``, ``employees``, ``purposes``,
    ``reference``, ``switches``); ``traffic`` the ``Traffic`` use cases; ``session`` a callable
    returning the signed-in ``Session`` (or None); ``clock`` the app's clock. ``recording_of``
    is telephony's hook (a traffic id → a recording, or None): until it exists «Воспроизвести»
    stays disabled.
    """

    rows = ListProperty([])
    total = NumericProperty(0)
    count_text = StringProperty("")
    notice = StringProperty("")  # signed out / nothing in scope / more than shown
    error_text = StringProperty("")  # a filter that cannot be applied
    selected_count = NumericProperty(0)
    selected_text = StringProperty("")
    signed_in = BooleanProperty(False)
    period = StringProperty(DEFAULT_PERIOD)
    period_text = StringProperty("")  # the custom range, «01.12.2017 – 18.12.2017»
    extra_text = StringProperty("")  # «Фильтр · 2»
    summary = StringProperty("")  # the dialog's filters in words
    scope_mine = BooleanProperty(True)
    scope_others = BooleanProperty(True)
    scope_unassigned = BooleanProperty(True)
    can_mine = BooleanProperty(False)
    can_others = BooleanProperty(False)
    can_unassigned = BooleanProperty(False)
    can_take = BooleanProperty(False)
    can_assign = BooleanProperty(False)
    can_ignore = BooleanProperty(False)
    can_play = BooleanProperty(False)
    filters: Any = ObjectProperty(JournalFilters())
    last_ms = NumericProperty(0.0)  # the last reload, for the bench and the curious

    def __init__(
        self,
        *,
        reader: Any,
        traffic: Any,
        session: Callable[[], Session | None],
        clock: Callable[[], datetime],
        region: str = "RU",
        recording_of: Callable[[str], Any] | None = None,
        limit: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.reader, self.traffic = reader, traffic
        self._session, self.clock, self.region = session, clock, region
        self.recording_of = recording_of
        self.limit = limit
        self.names = Names()
        self.selected: set[str] = set()
        self._index: dict[str, int] = {}
        self._error: FilterError | None = None
        i18n.on_lang_change(self._on_lang)

    # -- reading ----------------------------------------------------------------------------

    @property
    def session(self) -> Session | None:
        return self._session()

    def query(self) -> JournalQuery:
        return build_query(
            self.filters, self.session, self.clock(), region=self.region, limit=self.limit
        )

    def reload(self) -> None:
        """Re-read the journal with the current filters (keeps the selection that still shows)."""
        started = time.perf_counter()
        session = self.session
        self.signed_in = session is not None
        allowed = allowed_scopes(session)
        self.can_mine, self.can_others = "mine" in allowed, "others" in allowed
        self.can_unassigned = "unassigned" in allowed
        self.can_take = bool(session and session.may(Right.TAKE))
        self.can_assign = bool(session and session.may(Right.ASSIGN))
        self.can_ignore = bool(session and session.may(Right.PROCESS))
        self._mirror()
        self.names = Names.read(self.reader)
        try:
            query = self.query()
        except FilterError as exc:
            self._error = exc
            self.error_text = exc.text()
            self.last_ms = (time.perf_counter() - started) * 1000
            return
        self._error = None
        self.error_text = ""
        if not query.scope:
            raw: list[Row] = []
            total = 0
        else:
            raw, total = self.reader.journal_brief(query)
        selected = self.selected = self.selected & {r["id"] for r in raw}
        for r in raw:  # the RecycleView's dicts are the store's rows plus «selected»
            r["selected"] = r["id"] in selected
        self._index = {r["id"]: i for i, r in enumerate(raw)}
        self.total = total
        self.rows = raw
        self._texts()
        self._selection_changed()
        self.last_ms = (time.perf_counter() - started) * 1000

    def _texts(self) -> None:
        n, total = len(self.rows), int(self.total)
        self.count_text = i18n.tr("journal.count", n=n, total=total)
        if not self.signed_in:
            self.notice = i18n.tr("journal.signed_out")
        elif not (self.filters.scope & allowed_scopes(self.session)):
            self.notice = i18n.tr("journal.no_scope")
        elif total > n:
            self.notice = i18n.tr("journal.more_than_shown", n=n)
        else:
            self.notice = ""
        f = self.filters
        extra = f.extra_count()
        self.extra_text = (
            i18n.tr("journal.f.more_n", n=extra) if extra else i18n.tr("journal.f.more")
        )
        self.period_text = (
            i18n.tr(
                "journal.period.range",
                start=f.date_from.strip() or "…",
                end=f.date_to.strip() or "…",
            )
            if f.period == "custom"
            else ""
        )
        words = [i18n.tr(f"journal.type.{t}") for t in CONTACT_TYPES if t in f.contact_types]
        if f.purpose_id:
            words.append(self.names.purposes.get(f.purpose_id, "?"))
        if f.employee_id:
            words.append(self.names.employees.get(f.employee_id, "?"))
        words += [i18n.tr(f"journal.status.{s}") for s in TRAFFIC_STATUSES if s in f.statuses]
        if f.branch_id:
            words.append(self.names.branches.get(f.branch_id, "?"))
        self.summary = " · ".join(words)

    def _mirror(self) -> None:
        f = self.filters
        self.period = f.period
        self.scope_mine = "mine" in f.scope
        self.scope_others = "others" in f.scope
        self.scope_unassigned = "unassigned" in f.scope

    def _on_lang(self, _lang: str) -> None:
        """Re-word what is shown (counts, messages) without reading the store; the rows word
        themselves when the table refreshes (``shown``)."""
        self._texts()
        self._selection_changed()
        if self._error is not None:
            self.error_text = self._error.text()

    # -- filters ----------------------------------------------------------------------------

    def set_filters(self, **changes: Any) -> None:
        """Change some filters and reload (``JournalFilters`` field names)."""
        for key in ("contact_types", "statuses", "scope"):
            if key in changes:
                changes[key] = frozenset(changes[key])
        self.filters = replace(self.filters, **changes)
        self.reload()

    def choose_period(self, period: str) -> None:
        if period not in PERIODS:
            raise ValueError(f"unknown period {period!r}")
        self.set_filters(period=period)

    def toggle_scope(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.set_filters(scope=self.filters.scope ^ {scope})

    def reset(self) -> None:
        """Back to the defaults (the period kept)."""
        self.filters = JournalFilters(period=self.filters.period)
        self.reload()

    def purpose_choices(self) -> list[tuple[str | None, str]]:
        rows = self.reader.purposes(include_disabled=True)
        return [(None, i18n.tr("journal.f.any_purpose"))] + [
            (p["id"], f"{p['code']} · {p['full_name']}" if p["code"] else p["full_name"])
            for p in rows
        ]

    def employee_choices(self) -> list[tuple[str | None, str]]:
        return [(None, i18n.tr("journal.f.any_employee"))] + [
            (e["id"], e["short_name"]) for e in self.reader.employees()
        ]

    def branch_choices(self) -> list[tuple[str | None, str]]:
        return [(None, i18n.tr("journal.f.any_branch"))] + [
            (b["id"], b["name"]) for b in self.reader.reference("branches")
        ]

    # -- selection --------------------------------------------------------------------------

    def toggle(self, traffic_id: str) -> bool:
        """Select or unselect one row; returns its new state (the row widget shows it)."""
        index = self._index.get(traffic_id)
        if index is None:
            return False
        on = traffic_id not in self.selected
        if on:
            self.selected.add(traffic_id)
        else:
            self.selected.discard(traffic_id)
        self.rows[index]["selected"] = on  # in place: the RecycleView shares the dict
        self._selection_changed()
        return on

    def select_all(self) -> None:
        self.selected = {row["id"] for row in self.rows}
        for row in self.rows:
            row["selected"] = True
        self._selection_changed()

    def clear_selection(self) -> None:
        for tid in self.selected:
            index = self._index.get(tid)
            if index is not None:
                self.rows[index]["selected"] = False
        self.selected = set()
        self._selection_changed()

    def _selection_changed(self) -> None:
        n = len(self.selected)
        self.selected_count = n
        self.selected_text = i18n.tr("journal.selected", n=n) if n else ""
        recording = None
        if n == 1 and self.recording_of is not None:
            recording = self.recording_of(next(iter(self.selected)))
        self.can_play = recording is not None

    def selected_rows(self) -> list[dict[str, Any]]:
        """The selected rows, in the table's order."""
        return [row for row in self.rows if row["id"] in self.selected]

    # -- bulk actions -----------------------------------------------------------------------

    def _bulk(
        self, action: Callable[[dict[str, Any], Session], str], ids: Sequence[str] | None = None
    ) -> list[Outcome]:
        session = self.session
        chosen = (
            [self.rows[self._index[t]] for t in ids if t in self._index]
            if ids is not None
            else self.selected_rows()
        )
        outcomes = []
        for row in chosen:
            tid, label = row["id"], row_label(row)
            if session is None:
                outcomes.append(Outcome(tid, label, False, i18n.tr("journal.signed_out")))
                continue
            try:
                done = action(row, session)
            except LsnodeError as exc:
                status = i18n.tr(f"journal.status.{row['status']}")
                outcomes.append(Outcome(tid, label, False, explain(exc, self.names, status)))
            else:
                outcomes.append(Outcome(tid, label, True, done))
        succeeded = {o.traffic_id for o in outcomes if o.ok}
        self.selected -= succeeded
        self.reload()
        return outcomes

    def take(self, ids: Sequence[str] | None = None) -> list[Outcome]:
        """«Взять себе» every selected row; the hub decides each race."""

        def one(row: dict[str, Any], session: Session) -> str:
            self.traffic.take(row["id"], session)
            return i18n.tr("journal.result.taken")

        return self._bulk(one, ids)

    def assign(self, employee_id: str, ids: Sequence[str] | None = None) -> list[Outcome]:
        """«Назначить» every selected row to one employee (they get the popup)."""
        name = self.names.employees.get(employee_id, "")

        def one(row: dict[str, Any], session: Session) -> str:
            self.traffic.assign(row["id"], employee_id, session)
            return i18n.tr("journal.result.assigned", name=name)

        return self._bulk(one, ids)

    def ignore(self, reason: str, ids: Sequence[str] | None = None) -> list[Outcome]:
        """«Игнорировать» every selected row with one reason."""
        if not reason.strip():
            raise FilterError("journal.ignore_need_reason")

        def one(row: dict[str, Any], session: Session) -> str:
            self.traffic.ignore(row["id"], reason, session)
            return i18n.tr("journal.result.ignored")

        return self._bulk(one, ids)

    def assign_choices(self) -> list[dict[str, Any]]:
        """Who can be assigned: active employees with presence and their open counts."""
        counts = self.reader.employee_counts(instant(self.clock() - timedelta(days=1)))
        return [
            {
                "id": e["id"],
                "name": e["short_name"],
                "presence": e["presence"],
                "open": counts.get(e["id"], (0, 0))[0],
            }
            for e in self.reader.employees()
        ]

    @staticmethod
    def ignore_reasons() -> tuple[str, ...]:
        return IGNORE_REASONS

    # -- per-row details --------------------------------------------------------------------

    def switch_lines(self, traffic_id: str) -> list[str]:
        """Internal switches of one contact, as the brochure lists them:
        «1. 18:46 · Карамов Р.Н. → КЛИЕНТ · 00:00»."""
        rows = self.reader.switches([traffic_id]).get(traffic_id, [])
        client = i18n.tr("journal.switches.client")
        lines = []
        for n, s in enumerate(rows, 1):
            who = f"{s['from_name'] or client} → {s['to_name'] or client}"
            lines.append(
                i18n.tr(
                    "journal.switches.row",
                    n=n,
                    start=i18n.format_time(s["started_at"]),
                    who=who,
                    length=format_duration(s["duration_s"]) or "—",
                )
            )
        return lines

    def play(self) -> Any:
        """The selected row's recording (telephony plays it); None until telephony exists."""
        if not self.can_play or self.recording_of is None:
            return None
        return self.recording_of(next(iter(self.selected)))


# --- measuring -------------------------------------------------------------------------------


def measure_journal(data_dir: Path | str, *, runs: int = 3) -> dict[str, Any]:
    """Open the journal over a data dir as an administrator would (all time, every scope) and
    filter it by status, ``runs`` times each; the best times in ms. ``lsavto bench ui`` calls
    this on a store with ≥ 10,000 traffic rows (``lsavto demo-data --clients 10000``).

    Both figures are the view-model's whole work (queries and the RecycleView's row dicts);
    nothing here needs a window."""
    from lsnode.crm.staff import session_of
    from lsnode.store.db import open_store
    from lsnode.store.traffic import SqliteTraffic

    db = open_store(Path(data_dir))
    try:
        reader = SqliteTraffic(db)
        admins = [e for e in reader.employees() if e["role"] == "admin"] or reader.employees()
        session = session_of(admins[0]) if admins else None
        vm = JournalVM(
            reader=reader,
            traffic=None,
            session=lambda: session,
            clock=lambda: datetime.now(UTC),
        )
        vm.filters = JournalFilters(period="all")
        open_ms, filter_ms = [], []
        for _ in range(max(1, runs)):
            vm.filters = JournalFilters(period="all")
            vm.reload()
            open_ms.append(vm.last_ms)
            rows = len(vm.rows)
            vm.set_filters(statuses={"ignored"})
            filter_ms.append(vm.last_ms)
            filtered = len(vm.rows)
        return {
            "rows": rows,
            "filtered_rows": filtered,
            "open_ms": round(min(open_ms), 1),
            "filter_ms": round(min(filter_ms), 1),
            "limit_ms": 300,
        }
    finally:
        db.close()


def measure_journal_screen(screen: Any, *, runs: int = 3) -> dict[str, Any]:
    """``measure_journal`` through a mounted ``JournalScreen`` (an app under
    ``lsnode.ui.harness``): each figure also holds the RecycleView laying out every row and
    binding the rows in view, i.e. everything before the next frame can be drawn."""
    vm, rv = screen.vm, screen.ids.table.ids.rv

    def timed(change: Callable[[], None]) -> float:
        started = time.perf_counter()
        change()
        rv.refresh_views()  # what the next frame would do: lay out all, bind the visible
        return (time.perf_counter() - started) * 1000

    open_ms, filter_ms = [], []
    for _ in range(max(1, runs)):
        open_ms.append(timed(lambda: vm.set_filters(period="all", statuses=frozenset())))
        rows = len(vm.rows)
        filter_ms.append(timed(lambda: vm.set_filters(statuses={"ignored"})))
        filtered = len(vm.rows)
    vm.set_filters(statuses=frozenset())
    return {
        "rows": rows,
        "filtered_rows": filtered,
        "open_ms": round(min(open_ms), 1),
        "filter_ms": round(min(filter_ms), 1),
        "limit_ms": 300,
    }


# --- the screen ------------------------------------------------------------------------------


class JournalLayout(EventDispatcher):  # type: ignore[misc]
    """Column widths shared by the header and every recycled row (kv: ``JLAYOUT``).

    ``compact`` (tablet width): Обработал sits under Назначено, Телефон under Клиент and
    Документ under Примечание, so every brochure column stays on screen at 1280 px."""

    compact = BooleanProperty(True)


JLAYOUT = JournalLayout()


class JournalRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One recycled row; the data dict's keys are its properties."""

    index = NumericProperty(0)
    tid = StringProperty("")
    number = StringProperty("")
    ctype = StringProperty("info")
    when = StringProperty("")
    assigned = StringProperty("")
    processed = StringProperty("")
    purpose = StringProperty("")
    purpose_short = StringProperty("")
    client = StringProperty("")
    duration = StringProperty("")
    phone = StringProperty("")
    note = StringProperty("")
    document = StringProperty("")
    status = StringProperty("")
    status_text = StringProperty("")
    tone = StringProperty("neutral")
    switches = NumericProperty(0)
    selected = BooleanProperty(False)
    zebra = BooleanProperty(False)
    screen: Any = ObjectProperty(None, allownone=True)

    def refresh_view_attrs(self, rv: Any, index: int, data: dict[str, Any]) -> None:
        # ``data`` is a store row: word it here (``shown``), for the rows in view only.
        self.index = index
        self.zebra = index % 2 == 1
        self.screen = rv.screen
        for key, value in shown(data, rv.screen.vm.names).items():
            setattr(self, key, value)

    def on_release(self) -> None:
        if self.screen is not None:
            self.screen.open_card(self.tid)

    def toggle(self) -> None:
        if self.screen is not None:
            self.selected = self.screen.vm.toggle(self.tid)

    def show_switches(self) -> None:
        if self.screen is not None:
            self.screen.show_switches(self.tid, self.number)


class JournalRV(RecycleView):  # type: ignore[misc]
    """The table's body; hands its screen to each recycled row."""

    screen: Any = ObjectProperty(None, allownone=True)


class JournalTable(BoxLayout):  # type: ignore[misc]
    """Sticky header + the recycled body (``JournalRow``)."""

    screen: Any = ObjectProperty(None, allownone=True, rebind=True)  # kv chains through it


class Choice(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A row of a pick list (purpose, employee, reason): text, optional dot and tick."""

    text = StringProperty("")
    value: Any = ObjectProperty(None, allownone=True)
    presence = StringProperty("")
    detail = StringProperty("")
    chosen = BooleanProperty(False)


class PickDialog(ModalView):  # type: ignore[misc]
    """A list to pick one value from (the filter's purpose / employee / branch, Назначить)."""

    title = StringProperty("")
    on_pick: Callable[[Any], None] | None = None

    def fill(self, items: Sequence[dict[str, Any]]) -> PickDialog:
        box = self.ids.choices
        box.clear_widgets()
        for item in items:
            choice = Choice(**item)
            choice.bind(on_release=self._picked)
            box.add_widget(choice)
        return self

    def _picked(self, choice: Choice) -> None:
        self.dismiss()
        if self.on_pick is not None:
            self.on_pick(choice.value)


class FilterDialog(ModalView):  # type: ignore[misc]
    """«Фильтр»: contact type, purpose, employee, status, branch and the custom dates."""

    vm: Any = ObjectProperty(None, rebind=True)
    types: Any = ObjectProperty(frozenset())
    statuses: Any = ObjectProperty(frozenset())
    purpose_id: Any = ObjectProperty(None, allownone=True)
    employee_id: Any = ObjectProperty(None, allownone=True)
    branch_id: Any = ObjectProperty(None, allownone=True)
    purpose_text = StringProperty("")
    employee_text = StringProperty("")
    branch_text = StringProperty("")
    error_text = StringProperty("")

    def on_vm(self, _inst: Any, vm: JournalVM) -> None:
        f = vm.filters
        self.types, self.statuses = f.contact_types, f.statuses
        self.purpose_id, self.employee_id, self.branch_id = f.purpose_id, f.employee_id, f.branch_id
        self._texts()

    def _texts(self) -> None:
        vm = self.vm
        self.purpose_text = dict(vm.purpose_choices()).get(self.purpose_id, "")
        self.employee_text = dict(vm.employee_choices()).get(self.employee_id, "")
        self.branch_text = dict(vm.branch_choices()).get(self.branch_id, "")

    def toggle_type(self, value: str) -> None:
        self.types = frozenset(self.types) ^ {value}

    def toggle_status(self, value: str) -> None:
        self.statuses = frozenset(self.statuses) ^ {value}

    def pick(self, what: str) -> None:
        choices = {
            "purpose": self.vm.purpose_choices,
            "employee": self.vm.employee_choices,
            "branch": self.vm.branch_choices,
        }[what]()
        current = getattr(self, f"{what}_id")
        dialog = PickDialog(title=i18n.tr(f"journal.f.{what}"))
        dialog.fill([{"text": t, "value": v, "chosen": v == current} for v, t in choices])

        def chosen(value: Any) -> None:
            setattr(self, f"{what}_id", value)
            self._texts()

        dialog.on_pick = chosen
        dialog.open()

    def clear(self) -> None:
        self.types, self.statuses = frozenset(), frozenset()
        self.purpose_id = self.employee_id = self.branch_id = None
        self._texts()

    def apply(self) -> None:
        self.vm.set_filters(
            contact_types=self.types,
            statuses=self.statuses,
            purpose_id=self.purpose_id,
            employee_id=self.employee_id,
            branch_id=self.branch_id,
        )
        self.dismiss()


class PeriodDialog(ModalView):  # type: ignore[misc]
    """«Период…»: the custom date range, ДД.ММ.ГГГГ."""

    vm: Any = ObjectProperty(None, rebind=True)
    error_text = StringProperty("")

    def apply(self, start: str, end: str) -> None:
        try:
            a = parse_day(start) if start.strip() else None
            b = parse_day(end) if end.strip() else None
            if a and b and a > b:
                raise FilterError("journal.err.dates_order")
        except FilterError as exc:
            self.error_text = exc.text()
            return
        self.vm.set_filters(period="custom", date_from=start.strip(), date_to=end.strip())
        self.dismiss()


class IgnoreDialog(ModalView):  # type: ignore[misc]
    """«Игнорировать»: the reason (the brochure's list or one's own), in danger colour."""

    title = StringProperty("")
    reason = StringProperty("")
    error_text = StringProperty("")
    reasons = ListProperty([])
    on_confirm: Callable[[str], None] | None = None

    def choose(self, reason: str) -> None:
        self.reason = reason
        self.error_text = ""

    def confirm(self, own: str) -> None:
        reason = own.strip() or self.reason
        if not reason:
            self.error_text = i18n.tr("journal.ignore_need_reason")
            return
        self.dismiss()
        if self.on_confirm is not None:
            self.on_confirm(reason)


class ResultDialog(ModalView):  # type: ignore[misc]
    """Each row's outcome of a bulk action."""

    title = StringProperty("")

    def fill(self, outcomes: Sequence[Outcome]) -> ResultDialog:
        box = self.ids.lines_box
        box.clear_widgets()
        for o in outcomes:
            box.add_widget(ResultLine(label=o.label, message=o.message, ok=o.ok))
        return self


class ResultLine(BoxLayout):  # type: ignore[misc]
    label = StringProperty("")
    message = StringProperty("")
    ok = BooleanProperty(True)


class SwitchesDialog(ModalView):  # type: ignore[misc]
    title = StringProperty("")
    lines = ListProperty([])


global_idmap["JLAYOUT"] = JLAYOUT  # the kv's rows and header read the shared widths
load_kv(__file__)


class JournalScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    layout: Any = ObjectProperty(JLAYOUT)

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        services = app.services
        assert services is not None
        from lsnode.voice.recordings import recording_of

        vm = JournalVM(
            reader=services.reader,
            traffic=services.traffic,
            session=lambda: services.session,
            clock=services.clock,
            region=services.region,
            recording_of=lambda tid: recording_of(services.reader.db, tid),
        )
        super().__init__(app, vm=vm, **kwargs)
        services.on_session.append(self._session_changed)
        i18n.on_lang_change(self._on_lang)
        self._reload = Clock.create_trigger(lambda _dt: self.vm.reload(), 0.15)
        self.bind(width=self._relayout)

    def _on_lang(self, _lang: str) -> None:
        self._refresh_table()

    def _relayout(self, *_: Any) -> None:
        JLAYOUT.compact = self.width < dp(1500)

    def _session_changed(self, _session: Any) -> None:
        self.stale = True
        if self.manager is not None and self.manager.current == self.name:
            self.refresh()

    def refresh(self) -> None:
        self._reload()

    def on_kv_post(self, _base: Any) -> None:
        self.ids.table.screen = self
        self.ids.table.ids.rv.screen = self

    # -- commands from kv -----------------------------------------------------------------

    def apply_texts(self) -> None:
        ids = self.ids
        self.vm.set_filters(
            number=ids.f_number.text, client_name=ids.f_client.text, phone=ids.f_phone.text
        )

    def reset(self) -> None:
        for name in ("f_number", "f_client", "f_phone"):
            self.ids[name].text = ""
        self.vm.reset()

    def open_filter(self) -> None:
        FilterDialog(vm=self.vm).open()

    def open_period(self) -> None:
        dialog = PeriodDialog(vm=self.vm)
        dialog.ids.start.text = self.vm.filters.date_from
        dialog.ids.end.text = self.vm.filters.date_to
        dialog.open()

    def open_card(self, traffic_id: str) -> None:
        if not any(s.name == "traffic_card" for s in registry.specs()):
            self.app.toast(i18n.tr("journal.no_card"), "neutral")
            return
        self.app.go("traffic_card")
        self.app.screen("traffic_card").open(traffic_id)

    def show_switches(self, traffic_id: str, number: str) -> None:
        lines = self.vm.switch_lines(traffic_id) or [i18n.tr("journal.switches.none")]
        SwitchesDialog(title=f"{i18n.tr('journal.switches')} · № {number}", lines=lines).open()

    def _results(self, outcomes: Sequence[Outcome]) -> None:
        if not outcomes:
            return
        ok = sum(o.ok for o in outcomes)
        self._refresh_table()
        if ok == len(outcomes):
            self.app.toast(i18n.tr("journal.result_title", ok=ok, n=len(outcomes)), "processed")
            return
        title = i18n.tr("journal.result_title", ok=ok, n=len(outcomes))
        ResultDialog(title=title).fill(outcomes).open()

    def _refresh_table(self) -> None:
        self.ids.table.ids.rv.refresh_from_data()

    def take(self) -> None:
        self._results(self.vm.take())

    def assign(self) -> None:
        n = self.vm.selected_count
        dialog = PickDialog(title=i18n.tr("journal.assign_title", n=n))
        dialog.fill(
            [
                {
                    "text": c["name"],
                    "value": c["id"],
                    "presence": c["presence"],
                    "detail": str(c["open"]) if c["open"] else "",
                }
                for c in self.vm.assign_choices()
            ]
        )
        dialog.on_pick = lambda emp: self._results(self.vm.assign(emp))
        dialog.open()

    def ignore(self) -> None:
        n = self.vm.selected_count
        dialog = IgnoreDialog(
            title=i18n.tr("journal.ignore_title", n=n), reasons=list(self.vm.ignore_reasons())
        )
        dialog.on_confirm = lambda reason: self._results(self.vm.ignore(reason))
        dialog.open()

    def select_all(self) -> None:
        self.vm.select_all()
        self._refresh_table()

    def clear_selection(self) -> None:
        self.vm.clear_selection()
        self._refresh_table()

    def play(self) -> None:
        """«Воспроизвести»: the selected call's recording in the player (fetched from the hub)."""
        from lsnode.ui.calls import play_recording

        if self.vm.play() is not None:
            play_recording(self.app, next(iter(self.vm.selected)))


register(
    "journal",
    lambda app: JournalScreen(app),
    label="journal.title",
    icon="journal",
    order=ORDER["journal"],
)
