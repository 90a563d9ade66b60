"""«Карточка клиента»: one counterparty with everything the dealership knows of them.

Sections as the brochure's «Карточка контрагента» has them: «Основные данные» (name, ФЛ/ЮЛ,
group, INN, registered, info source, region, personal manager, note), «Контакты» (phones and
e-mails with their notes), the consents «Обработка ПД», «Тел. опрос», «Рассылка СМС», «Рассылка
Email» («Не опрошен» / да / нет, changed with one tap), «CRM статусы и категории» per business
line (Ремонт автомобилей, Продажа запасных частей, Продажа автомобилей: status and the four ABC
letters), then the tabs «Автомобили», «Документы» (open ones first) and «События и контакты»
(the client's traffic from the journal, within the signed-in employee's rights; calls join
when telephony does).

Changes go through ``lsnode.crm.clients.edit_client``; its English refusals and warnings are
shown in the user's language. Reached from a row (``open(counterparty_id)``), not the rail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.modalview import ModalView

from lsnode.crm.clients import CONSENT_FIELDS, ClientEdit, edit_client
from lsnode.crm.normalize import normalize_phone, phone_problem_message
from lsnode.crm.staff import Session
from lsnode.errors import LsnodeError
from lsnode.store.ports import JournalQuery, Row
from lsnode.ui import i18n
from lsnode.ui import screens as registry
from lsnode.ui.screens import LsScreen, load_kv, register
from lsnode.ui.screens.journal import Names, allowed_scopes, shown
from lsnode.ui.theme.widgets import Column, numeric

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "card.title": ("Карточка клиента", "Client card"),
    "card.back": ("Назад", "Back"),
    "card.edit": ("Изменить", "Edit"),
    "card.number": ("Внутренний номер {n}", "Internal number {n}"),
    "card.none": ("Клиент не выбран: откройте его из списка клиентов", "No client chosen"),
    "card.gone": ("Клиент удалён или ещё не пришёл с хаба", "The client is gone or not synced"),
    "card.tab.main": ("Основные данные", "Main data"),
    "card.tab.cars": ("Автомобили · {n}", "Cars · {n}"),
    "card.tab.documents": ("Документы · {n}", "Documents · {n}"),
    "card.tab.events": ("События и контакты · {n}", "Events and contacts · {n}"),
    # main data
    "card.main": ("Основные данные", "Main data"),
    "card.f.name": ("Наименование", "Name"),
    "card.f.kind": ("Вид", "Kind"),
    "card.f.group": ("Группа", "Group"),
    "card.f.inn": ("ИНН", "INN"),
    "card.f.registered": ("Зарегистрирован", "Registered"),
    "card.f.source": ("Источник информации", "Info source"),
    "card.f.region": ("Регион", "Region"),
    "card.f.manager": ("Персональный менеджер", "Personal manager"),
    "card.f.note": ("Примечание", "Note"),
    "card.f.last_in": ("Последний вх. контакт", "Last incoming contact"),
    "card.f.last_out": ("Последний исх. контакт", "Last outgoing contact"),
    "card.no_data": ("-нет данных-", "-no data-"),
    "card.kind.person": ("ФЛ", "Person"),
    "card.kind.company": ("ЮЛ", "Company"),
    "card.kind.person_long": ("Физическое лицо", "Private person"),
    "card.kind.company_long": ("Юридическое лицо", "Company"),
    # contacts
    "card.contacts": ("Контакты", "Contacts"),
    "card.contacts.none": ("Контактов нет", "No contacts"),
    "card.add_phone": ("Телефон", "Phone"),
    "card.add_email": ("E-mail", "E-mail"),
    "card.add": ("Добавить", "Add"),
    "card.remove": ("Удалить", "Remove"),
    "card.remove_q": ("Удалить контакт «{value}»?", "Remove the contact “{value}”?"),
    "card.invalid": ("не распознан", "not recognised"),
    # consents
    "card.consents": ("Согласия", "Consents"),
    "card.consent.consent_pd": ("Обработка ПД", "Personal data"),
    "card.consent.consent_phone_survey": ("Тел. опрос", "Phone survey"),
    "card.consent.consent_sms": ("Рассылка СМС", "SMS mailing"),
    "card.consent.consent_email": ("Рассылка Email", "E-mail mailing"),
    "card.consent.unknown": ("Не опрошен", "Not asked"),
    "card.consent.yes": ("Да", "Yes"),
    "card.consent.no": ("Нет", "No"),
    # CRM
    "card.crm": ("CRM статусы и категории", "CRM statuses and categories"),
    "card.line.service": ("Ремонт автомобилей", "Car repair"),
    "card.line.parts": ("Продажа запасных частей", "Parts sales"),
    "card.line.sales": ("Продажа автомобилей", "Car sales"),
    "card.line.short.service": ("Ремонт", "Repair"),
    "card.line.short.parts": ("Запчасти", "Parts"),
    "card.line.short.sales": ("Продажи", "Sales"),
    "card.crm_status": ("CRM статус", "CRM status"),
    "card.crm.unset": ("Не установлен", "Not set"),
    "card.crm.potential": ("Потенциальный", "Potential"),
    "card.crm.in_work": ("В работе", "In work"),
    "card.crm.real": ("Реальный", "Real"),
    "card.crm.lost": ("Упущенный", "Lost"),
    "card.crm.inactive": ("Не активен", "Inactive"),
    "card.abc.sum": ("По сумме", "By sum"),
    "card.abc.count": ("По количеству", "By count"),
    "card.abc.period": ("По периоду", "By recency"),
    "card.abc.avg": ("По ср. чеку", "By avg. check"),
    "card.abc.none": ("Категории не установлены", "No categories yet"),
    # tables
    "card.car.plate": ("Гос.номер", "Plate"),
    "card.car.year": ("Год", "Year"),
    "card.car.mileage": ("Пробег", "Mileage"),
    "card.car.warranty": ("ДНГ", "Warranty from"),
    "card.car.vin": ("VIN номер", "VIN"),
    "card.car.name": ("Автомобиль", "Car"),
    "card.car.role": ("Роль клиента", "Client's role"),
    "card.car.note": ("Примечание", "Note"),
    "card.role.owner_id": ("Владелец", "Owner"),
    "card.role.customer_id": ("Заказчик", "Customer"),
    "card.role.trusted_person_id": ("Доверенное лицо", "Trusted person"),
    "card.doc.no": ("Документ", "Document"),
    "card.doc.type": ("Вид", "Type"),
    "card.doc.date": ("Дата", "Date"),
    "card.doc.amount": ("Сумма", "Sum"),
    "card.doc.status": ("Статус", "Status"),
    "card.doc.employee": ("Сотрудник", "Employee"),
    "card.doc.open": ("Открыт", "Open"),
    "card.doc.is_open": ("открыт", "open"),
    "card.doc.closed": ("закрыт", "closed"),
    "card.doctype.work_order": ("Заказ-наряд", "Work order"),
    "card.doctype.pre_order": ("Предв. заказ-наряд", "Pre-order"),
    "card.doctype.appointment": ("Предв. запись", "Appointment"),
    "card.doctype.car_sale": ("Продажа а/м", "Car sale"),
    "card.doctype.parts_sale": ("Продажа запчастей", "Parts sale"),
    "card.ev.type": ("Тип", "Type"),
    "card.ev.when": ("Дата/время", "Date/time"),
    "card.ev.purpose": ("Цель", "Purpose"),
    "card.ev.assigned": ("Назначено", "Assigned"),
    "card.ev.duration": ("Длит.", "Length"),
    "card.ev.status": ("Статус", "Status"),
    "card.ev.note": ("Примечание", "Note"),
    "card.ev.number": ("ID", "ID"),
    # editing
    "card.edit_title": ("Основные данные клиента", "Client's main data"),
    "card.save": ("Сохранить", "Save"),
    "card.saved": ("Сохранено", "Saved"),
    "card.err.name": ("Укажите наименование клиента", "Type the client's name"),
    "card.err.letters": ("В наименовании нет ни одной буквы", "The name has no letters"),
    "card.err.inn": (
        "ИНН: 10 цифр у юрлица или 12 у физлица",
        "INN: 10 digits for a company or 12 for a person",
    ),
    "card.err.long": (
        "Слишком длинный текст: не больше 2000 знаков",
        "Too long: at most 2000 characters",
    ),
    "card.err.signed_out": ("Войдите по PIN-коду, чтобы изменять", "Sign in to make changes"),
    "card.err.other": ("Не сохранено: {detail}", "Not saved: {detail}"),
    "card.warn.email": (
        "E-mail «{value}» не распознан: сохранён как введён",
        "E-mail “{value}” not recognised: kept as typed",
    ),
    "card.warn.kept": ("сохранён как введён", "kept as typed"),
}
i18n.register(STRINGS)

LINES = ("service", "parts", "sales")
CRM_TONES = {
    "unset": "neutral",
    "potential": "new",
    "in_work": "in_work",
    "real": "processed",
    "lost": "lost",
    "inactive": "ignored",
}
ABC_PARTS = ("sum", "count", "period", "avg")
ABC_TONES = {"А": "processed", "A": "processed", "В": "new", "B": "new"}  # С/C: neutral
CONSENT_VALUES = ("unknown", "yes", "no")
CAR_COLUMNS = [
    Column("plate", "card.car.plate", 1.0),
    numeric("year", "card.car.year", 0.5),
    numeric("mileage", "card.car.mileage", 0.8),
    numeric("warranty", "card.car.warranty", 0.9),
    Column("vin", "card.car.vin", 1.6),
    Column("name", "card.car.name", 2.0),
    Column("role", "card.car.role", 1.3),
    Column("note", "card.car.note", 0.8),
]
DOC_COLUMNS = [
    Column("no", "card.doc.no", 1.0),
    Column("type", "card.doc.type", 1.2),
    numeric("date", "card.doc.date", 0.9),
    numeric("amount", "card.doc.amount", 1.0),
    Column("status", "card.doc.status", 1.0),
    Column("employee", "card.doc.employee", 1.1),
    Column("open", "card.doc.open", 0.7),
]
EVENT_COLUMNS = [
    numeric("number", "card.ev.number", 0.6),
    Column("type", "card.ev.type", 0.8),
    numeric("when", "card.ev.when", 1.3),
    Column("purpose", "card.ev.purpose", 1.6),
    Column("assigned", "card.ev.assigned", 1.1),
    numeric("duration", "card.ev.duration", 0.6),
    Column("status", "card.ev.status", 1.3),
    Column("note", "card.ev.note", 1.4),
]


def money(kopecks: int | None) -> str:
    """«270,89», «1 845 000,00»: roubles with a space between thousands, as the DMS prints."""
    if kopecks is None:
        return ""
    sign = "-" if kopecks < 0 else ""
    rub, kop = divmod(abs(int(kopecks)), 100)
    return f"{sign}{rub:,}".replace(",", "\u00a0") + f",{kop:02d}"


def abc_letters(code: str) -> list[dict[str, str]]:
    """The four ABC letters of a line, each with what it measures and its chip tone."""
    out = []
    for i, part in enumerate(ABC_PARTS):
        letter = code[i] if len(code) > i else ""
        out.append(
            {
                "label": i18n.tr(f"card.abc.{part}"),
                "letter": letter or "—",  # «Не установлена»
                "tone": ABC_TONES.get(letter, "neutral"),
            }
        )
    return out


def explain_client_error(error: BaseException) -> str:
    text = str(error)
    if "is required" in text and text.startswith("name"):
        return i18n.tr("card.err.name")
    if "has no letters" in text:
        return i18n.tr("card.err.letters")
    if text.startswith("INN"):
        return i18n.tr("card.err.inn")
    if "too long" in text:
        return i18n.tr("card.err.long")
    if "sign in" in text:
        return i18n.tr("card.err.signed_out")
    return i18n.tr("card.err.other", detail=text)


class ClientCardVM(EventDispatcher):  # type: ignore[misc]
    """Everything the card shows of one counterparty, and its edits.

    ``clients`` is ``SqliteClients``; ``reader`` is ``SqliteTraffic`` (employees, reference
    lists, the journal); ``writer`` the app's writer; ``clock`` the app's clock (for «today»)."""

    counterparty_id = StringProperty("")
    loaded = BooleanProperty(False)
    notice = StringProperty("")
    title = StringProperty("")
    kind = StringProperty("person")
    kind_text = StringProperty("")
    number_text = StringProperty("")
    facts = ListProperty([])  # [(label, value)]
    contacts = ListProperty([])  # [{"id", "kind", "icon", "value", "note", "valid"}]
    consents = ListProperty([])  # [{"field", "label", "value"}]
    lines = ListProperty([])  # [{"line", "title", "short", "status", "tone", "letters"}]
    car_rows = ListProperty([])
    doc_rows = ListProperty([])
    event_rows = ListProperty([])
    tab = StringProperty("main")
    error_text = StringProperty("")
    message = StringProperty("")  # warnings after a save (a phone kept as typed …)
    serial = NumericProperty(0)  # bumps on every reload (the screen rebuilds its lists)
    edit_errors = DictProperty({})

    def __init__(
        self,
        *,
        clients: Any,
        reader: Any,
        writer: Any,
        session: Callable[[], Session | None],
        clock: Callable[[], datetime],
        region: str = "RU",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.clients, self.reader, self.writer = clients, reader, writer
        self._session, self.clock, self.region = session, clock, region
        self.row: Row | None = None
        self._data: dict[str, Any] = {}
        i18n.on_lang_change(self._on_lang)  # a bound method: held weakly

    # -- reading ----------------------------------------------------------------------------

    def open(self, counterparty_id: str) -> None:
        self.counterparty_id = counterparty_id
        self.tab = "main"
        self.error_text = self.message = ""
        self.reload()

    def reload(self) -> None:
        """Read the client and everything around it, then word it (``_words``)."""
        cp_id = self.counterparty_id
        row = self.clients.counterparty(cp_id) if cp_id else None
        self.row = row
        if row is None:
            self._data = {}
        else:
            refs = {
                table: {r["id"]: r["name"] for r in self.reader.reference(table)}
                for table in ("counterparty_groups", "info_sources", "regions")
            }
            manager = self.reader.employee(row["manager_id"]) if row["manager_id"] else None
            session = self._session()
            scope = allowed_scopes(session)
            events: list[Row] = []
            if scope and session is not None:
                query = JournalQuery(
                    me=session.employee_id, scope=scope, counterparty_id=cp_id, limit=500
                )
                events = self.reader.journal_brief(query)[0]
            self._data = {
                "refs": refs,
                "manager": manager["short_name"] if manager else "",
                "contacts": self.clients.contacts_of([cp_id])[cp_id],
                "lines": self.clients.lines_of(cp_id),
                "cars": self.clients.cars_of([cp_id])[cp_id],
                "documents": self.clients.documents_of(cp_id),
                "events": events,
                "names": Names.read(self.reader),
            }
        self._words()

    def _on_lang(self, _lang: str) -> None:
        self._words()

    def _words(self) -> None:
        """Everything shown, from what ``reload`` read: a language switch only re-words."""
        row, data = self.row, self._data
        self.loaded = row is not None
        if row is None:
            self.notice = i18n.tr("card.gone" if self.counterparty_id else "card.none")
            self.title, self.facts, self.contacts, self.consents, self.lines = "", [], [], [], []
            self.car_rows, self.doc_rows, self.event_rows = [], [], []
            self.number_text = self.kind_text = ""
            self.serial += 1
            return
        self.notice = ""
        self.title = row["full_name"]
        self.kind = row["kind"]
        self.kind_text = i18n.tr(f"card.kind.{row['kind']}")
        self.number_text = (
            i18n.tr("card.number", n=row["number"]) if row["number"] is not None else ""
        )
        self.facts = self._facts(row, data["refs"], data["manager"])
        self.contacts = [
            {
                "id": c["id"],
                "kind": c["kind"],
                "icon": "phone" if c["kind"] == "phone" else "email-outline",
                "value": c["value"],
                "note": c["note"] or "",
                "valid": bool(c["valid"]),
            }
            for c in data["contacts"]
        ]
        self.consents = [
            {
                "field": f,
                "label": i18n.tr(f"card.consent.{f}"),
                "value": row[f] if row[f] in CONSENT_VALUES else "unknown",
            }
            for f in CONSENT_FIELDS
        ]
        self.lines = self._lines(data["lines"])
        self.car_rows = self._cars(data["cars"])
        self.doc_rows = self._documents(data["documents"])
        self.event_rows = self._events(data["events"], data["names"])
        self.serial += 1

    def _facts(
        self, row: Row, refs: dict[str, dict[str, str]], manager: str
    ) -> list[tuple[str, str]]:
        def ref(table: str, ref_id: str | None) -> str:
            return refs[table].get(ref_id or "", "")

        no_data = i18n.tr("card.no_data")
        return [
            (i18n.tr("card.f.name"), row["full_name"]),
            (i18n.tr("card.f.kind"), i18n.tr(f"card.kind.{row['kind']}_long")),
            (i18n.tr("card.f.group"), ref("counterparty_groups", row["group_id"])),
            (i18n.tr("card.f.inn"), row["inn"] or ""),
            (i18n.tr("card.f.registered"), _date(row["registered_at"])),
            (i18n.tr("card.f.source"), ref("info_sources", row["info_source_id"])),
            (i18n.tr("card.f.region"), ref("regions", row["region_id"])),
            (i18n.tr("card.f.manager"), manager),
            (i18n.tr("card.f.note"), row["note"] or ""),
            (
                i18n.tr("card.f.last_in"),
                i18n.format_datetime(row["last_in_contact_at"]) or no_data,
            ),
            (
                i18n.tr("card.f.last_out"),
                i18n.format_datetime(row["last_out_contact_at"]) or no_data,
            ),
        ]

    @staticmethod
    def _lines(rows: dict[str, Row]) -> list[dict[str, Any]]:
        out = []
        for line in LINES:
            r = rows.get(line)
            status = r["crm_status"] if r else "unset"
            key = f"card.crm.{status}"
            out.append(
                {
                    "line": line,
                    "title": i18n.tr(f"card.line.{line}"),
                    "short": i18n.tr(f"card.line.short.{line}"),
                    "status": i18n.tr(key) if i18n.has(key) else status,
                    "tone": CRM_TONES.get(status, "neutral"),
                    "abc": r["abc"] if r else "",
                    "letters": abc_letters(r["abc"] if r else ""),
                }
            )
        return out

    @staticmethod
    def _cars(cars: list[Row]) -> list[dict[str, Any]]:
        out = []
        for car in cars:
            out.append(
                {
                    "id": car["id"],
                    "plate": car["plate"],
                    "year": "" if car["year"] is None else str(car["year"]),
                    "mileage": ""
                    if car["mileage"] is None
                    else f"{car['mileage']:,}".replace(",", "\u00a0"),
                    "warranty": _date(car["warranty_start"]),
                    "vin": car["vin"],
                    "name": car_name(car),
                    "role": ", ".join(i18n.tr(f"card.role.{link}") for link in car["links"]),
                    "note": car["note"] or "",
                }
            )
        return out

    @staticmethod
    def _documents(documents: list[Row]) -> list[dict[str, Any]]:
        return [
            {
                "id": d["id"],
                "no": d["doc_no"] or i18n.tr("journal.no_number"),
                "type": i18n.tr(f"card.doctype.{d['doc_type']}"),
                "date": _date(d["doc_date"]),
                "amount": money(d["amount_kop"]),
                "status": d["status"],
                "employee": d["employee_name"] or "",
                "open": i18n.tr("card.doc.is_open" if d["is_open"] else "card.doc.closed"),
                "is_open": bool(d["is_open"]),
            }
            for d in documents
        ]

    @staticmethod
    def _events(events: list[Row], names: Names) -> list[dict[str, Any]]:
        out = []
        for r in events:
            s = shown(r, names)
            out.append(
                {
                    "id": r["id"],
                    "number": s["number"],
                    "type": i18n.tr(f"journal.type.{r['contact_type']}"),
                    "when": s["when"],
                    "purpose": s["purpose"],
                    "assigned": s["assigned"],
                    "duration": s["duration"],
                    "status": s["status_text"],
                    "note": s["note"],
                }
            )
        return out

    # -- edits ------------------------------------------------------------------------------

    def _edit(self, edit: ClientEdit) -> list[str] | None:
        """Apply one ``ClientEdit``; the warnings, or None (``error_text`` says why)."""
        if self._session() is None:
            self.error_text = i18n.tr("card.err.signed_out")
            return None
        today = i18n.local(self.clock()).date()
        try:
            saved = edit_client(
                self.writer,
                self.clients,
                self.counterparty_id,
                edit,
                today=today,
                region=self.region,
            )
        except LsnodeError as exc:
            self.error_text = explain_client_error(exc)
            return None
        self.error_text = ""
        self.reload()
        return saved.warnings

    def set_consent(self, field: str, value: str) -> bool:
        """«Обработка ПД: да» … — one tap, saved at once."""
        if field not in CONSENT_FIELDS or value not in CONSENT_VALUES:
            raise ValueError(f"no consent {field}={value}")
        return self._edit(ClientEdit(consents={field: value})) is not None

    def save_main(self, *, name: str, kind: str, inn: str, note: str) -> bool:
        """The edit dialog's «Сохранить»: name, ФЛ/ЮЛ, INN, note."""
        ok = self._edit(ClientEdit(name=name, kind=kind, inn=inn, note=note)) is not None
        self.edit_errors = {} if ok else {"form": self.error_text}
        return ok

    def add_phone(self, text: str) -> bool:
        if not text.strip():
            return False
        warnings = self._edit(ClientEdit(add_phones=[text]))
        if warnings is None:
            return False
        phone = normalize_phone(text, self.region)
        problem = phone_problem_message(phone, i18n.current_lang()) if not phone.valid else None
        self.message = f"{problem} — {i18n.tr('card.warn.kept')}" if problem else ""
        return True

    def add_email(self, text: str) -> bool:
        if not text.strip():
            return False
        warnings = self._edit(ClientEdit(add_emails=[text]))
        if warnings is None:
            return False
        self.message = i18n.tr("card.warn.email", value=text.strip()) if warnings else ""
        return True

    def remove_contact(self, contact_id: str) -> bool:
        contact = next((c for c in self.contacts if c["id"] == contact_id), None)
        if contact is None:
            return False
        edit = (
            ClientEdit(remove_phones=[contact["value"]])
            if contact["kind"] == "phone"
            else ClientEdit(remove_emails=[contact["value"]])
        )
        return self._edit(edit) is not None

    def tab_counts(self) -> dict[str, int]:
        return {
            "cars": len(self.car_rows),
            "documents": len(self.doc_rows),
            "events": len(self.event_rows),
        }


def car_name(car: Row) -> str:
    """«Mercedes-Benz E 220 CDI», «Kia Rio 1.4 MT Comfort»: the model is said once."""
    model, mod = car["model"] or "", car["modification"] or ""
    stem = model.split("-")[0].split()[0] if model.strip() else ""
    parts = (car["make"], mod) if stem and mod.startswith(stem) else (car["make"], model, mod)
    return " ".join(p for p in parts if p)


def _date(value: str | None) -> str:
    """A stored date («2014-08-28») or instant as «28.08.2014»."""
    if not value:
        return ""
    if len(value) == 10:
        y, m, d = value.split("-")
        return f"{d}.{m}.{y}"
    return i18n.format_date(value)


# --- widgets ----------------------------------------------------------------------------------


class ClientEditDialog(ModalView):  # type: ignore[misc]
    """«Изменить»: name, ФЛ/ЮЛ, INN and note of the client."""

    vm: Any = ObjectProperty(None, rebind=True)
    kind = StringProperty("person")
    error_text = StringProperty("")

    def save(self) -> None:
        ids = self.ids
        ok = self.vm.save_main(
            name=ids.name.text, kind=self.kind, inn=ids.inn.text, note=ids.note.text
        )
        if ok:
            self.dismiss()
        else:
            self.error_text = self.vm.error_text


def _children(box: Any, n: int, make: Callable[[], Any]) -> list[Any]:
    """``n`` children of ``box`` in order, reusing the ones there."""
    have = list(reversed(box.children))
    for extra in have[n:]:
        box.remove_widget(extra)
    for _ in range(n - len(have)):
        box.add_widget(make())  # kv dynamic classes: their properties exist after init
    return list(reversed(box.children))


load_kv(__file__)


class ClientCardScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    back_to = StringProperty("clients")
    car_columns = ListProperty(CAR_COLUMNS)
    doc_columns = ListProperty(DOC_COLUMNS)
    event_columns = ListProperty(EVENT_COLUMNS)

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        services = app.services
        assert services is not None
        vm = ClientCardVM(
            clients=services.clients,
            reader=services.reader,
            writer=services.writer,
            session=lambda: services.session,
            clock=services.clock,
            region=services.region,
        )
        super().__init__(app, vm=vm, **kwargs)

    def on_kv_post(self, _base: Any) -> None:
        self.vm.fbind("serial", self._fill)
        self._fill()

    def open(self, counterparty_id: str) -> None:
        """Show one client (the clients list, the journal and the traffic card call this)."""
        self.stale = False
        self.vm.open(counterparty_id)

    def refresh(self) -> None:
        self.vm.reload()

    # -- lists of widgets the kv cannot express ---------------------------------------------

    def _fill(self, *_: Any) -> None:
        """The sections' rows, reusing the widgets already there (building kv widgets is the
        slow part; re-setting their texts is not)."""
        from kivy.factory import Factory

        from lsnode.ui.theme.widgets import FactRow

        ids, vm = self.ids, self.vm
        for row, (label, value) in zip(
            _children(ids.facts, len(vm.facts), FactRow), vm.facts, strict=True
        ):
            row.label, row.value = label, value
        for line, c in zip(
            _children(ids.contacts, len(vm.contacts), Factory.ContactLine),
            vm.contacts,
            strict=True,
        ):
            line.cid, line.icon, line.value = c["id"], c["icon"], c["value"]
            line.note, line.valid, line.screen = c["note"], c["valid"], self
        for line, c in zip(
            _children(ids.consents, len(vm.consents), Factory.ConsentLine),
            vm.consents,
            strict=True,
        ):
            line.field, line.label, line.value, line.screen = (
                c["field"],
                c["label"],
                c["value"],
                self,
            )
        for block, info in zip(
            _children(ids.lines, len(vm.lines), Factory.CrmLine), vm.lines, strict=True
        ):
            block.title, block.status, block.tone = info["title"], info["status"], info["tone"]
            block.note = "" if info["abc"] else i18n.tr("card.abc.none")
            letters = info["letters"] if info["abc"] else []
            for chip, letter in zip(
                _children(block.ids.letters, len(letters), Factory.AbcChip), letters, strict=True
            ):
                chip.label, chip.letter, chip.tone = (
                    letter["label"],
                    letter["letter"],
                    letter["tone"],
                )
        for chip, info in zip(
            _children(ids.head_chips, len(vm.lines), Factory.LineChip), vm.lines, strict=True
        ):
            chip.text, chip.tone = f"{info['short']}: {info['status']}", info["tone"]

    # -- commands from kv -------------------------------------------------------------------

    def back(self) -> None:
        self.app.go(self.back_to or "clients")

    def choose_tab(self, tab: str) -> None:
        self.vm.tab = tab

    def set_consent(self, field: str, value: str) -> None:
        if not self.vm.set_consent(field, value):
            self.app.toast(self.vm.error_text)

    def add_contact(self) -> None:
        phone, email = self.ids.new_phone, self.ids.new_email
        ok = True
        if phone.text.strip():
            ok = self.vm.add_phone(phone.text)
            if ok:
                phone.text = ""
        if ok and email.text.strip():
            ok = self.vm.add_email(email.text)
            if ok:
                email.text = ""
        if not ok:
            self.app.toast(self.vm.error_text)
        elif self.vm.message:
            self.app.toast(self.vm.message, "new")

    def remove_contact(self, contact_id: str, value: str) -> None:
        from lsnode.ui.theme.widgets import confirm

        def go() -> None:
            if not self.vm.remove_contact(contact_id):
                self.app.toast(self.vm.error_text)

        confirm(i18n.tr("card.remove_q", value=value), i18n.tr("card.remove"), go)

    def edit(self) -> ClientEditDialog:
        dialog = ClientEditDialog(vm=self.vm, kind=self.vm.kind)
        row = self.vm.row or {}
        dialog.ids.name.text = row.get("full_name") or ""
        dialog.ids.inn.text = row.get("inn") or ""
        dialog.ids.note.text = row.get("note") or ""
        dialog.open()
        return dialog

    def open_event(self, _index: int, row: dict[str, Any]) -> None:
        if not any(s.name == "traffic_card" for s in registry.specs()):
            self.app.toast(i18n.tr("journal.no_card"), "neutral")
            return
        self.app.go("traffic_card")
        self.app.screen("traffic_card").open(row["id"])


def lines_summary(lines: Sequence[dict[str, Any]]) -> str:
    """«Ремонт: Реальный СВАС · Запчасти: Упущенный СССС · …» (for a one-line header)."""
    return " · ".join(f"{x['short']}: {x['status']} {x['abc']}".strip() for x in lines)


register(
    "client_card",
    lambda app: ClientCardScreen(app),
    label="card.title",
    icon="clients",
    order=45,
    nav=False,
)
