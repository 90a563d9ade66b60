"""«Шаблоны сообщений»: message types by category, their templates, and the template editor.

Left, the brochure's «Типы оповещений»: categories (Сервис, Салон продаж, Склад, CRM, Общее),
each type marked by its trigger — an icon-font lightning for event-driven (⚡, fires when a
document changes) and a calendar clock for scheduled (📧, runs at a calculation time) — with
its templates under it. Right, the chosen template: name, «Вкл.», channel («Способ
оповещения»), subject, the text with placeholders inserted by tapping chips ({fio},
{datetime}, {car_descr}, {adviser}, {address}, {phone} …), a live preview rendered on real
data (a recent appointment, document or client picked from a list), the SMS length and segment
count while typing, the template's rule (calculation time or minutes before the visit,
relevance in hours, appointment kinds, statuses, persons only, to the client from the context,
enabled), and a test recipient («Тестовый получатель (используется для отладки)»).

Writes go through ``lsnode.notify.admin`` (``save_template``, ``save_rule``, ``preview``,
``send_test``). Logic in ``TemplatesVM`` (tested without a window).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label

from lsnode.clock import Clock, parse_hhmm, system_clock
from lsnode.notify import admin
from lsnode.notify.catalog import PLACEHOLDERS, STATUS_EVENTS, TYPE_BY_CODE, TYPES, Trigger
from lsnode.notify.templates import MAX_SMS_SEGMENTS
from lsnode.store.notify import NotifyStore
from lsnode.store.schema import NOTIFY_CATEGORIES
from lsnode.ui import i18n
from lsnode.ui.screens import LsScreen, load_kv, register
from lsnode.ui.screens._notify_common import (
    KIND_ICONS,
    KIND_ORDER,
    TRIGGER_ICONS,
    NtListRow,
    Shown,
    category_label,
    dealer_zone,
    describe_error,
    kind_label,
    notify_store,
    show_at,
    store_open,
    test_send_state,
    type_label,
)

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "ntpl.types": ("Типы оповещений", "Message types"),
    "ntpl.cat_all": ("Все категории", "All categories"),
    "ntpl.not_built": ("пока не формируется", "not generated yet"),
    "ntpl.none": (
        "Выберите тип оповещения или шаблон слева",
        "Pick a message type or a template on the left",
    ),
    "ntpl.name": ("Наименование", "Name"),
    "ntpl.enabled": ("Вкл.", "On"),
    "ntpl.channel": ("Способ оповещения", "Channel"),
    "ntpl.any_channel": ("{kind} — первый включённый способ", "{kind} — the first enabled"),
    "ntpl.subject": ("Тема", "Subject"),
    "ntpl.body": ("Шаблон", "Template"),
    "ntpl.placeholders": (
        "Подстановки: нажмите, чтобы вставить в текст",
        "Placeholders: tap to insert into the text",
    ),
    "ntpl.preview": ("Предпросмотр на реальных данных", "Preview on real data"),
    "ntpl.no_sample": ("Нет подходящих документов", "No suitable documents"),
    "ntpl.missing": ("Нет данных для: {names}", "No data for: {names}"),
    "ntpl.sms": (
        "СМС: {segments} · {units} · {enc} · осталось {left}",
        "SMS: {segments} · {units} · {enc} · {left} left",
    ),
    "ntpl.segments": ("{n} часть|{n} части|{n} частей", "{n} part|{n} parts"),
    "ntpl.units": ("{n} символ|{n} символа|{n} символов", "{n} character|{n} characters"),
    "ntpl.enc.gsm7": ("латиница, до {n} в части", "GSM-7, up to {n} per part"),
    "ntpl.enc.ucs2": ("кириллица, до {n} в части", "Unicode, up to {n} per part"),
    "ntpl.sms_cut": (
        "Текст длиннее {n} частей: сообщение будет обрезано",
        "The text is longer than {n} parts: the message will be cut",
    ),
    "ntpl.rule": ("Правило", "Rule"),
    "ntpl.rule_on": ("Правило включено", "Rule enabled"),
    "ntpl.calc_time": ("Время расчета", "Calculation time"),
    "ntpl.offset": ("За сколько минут до визита", "Minutes before the visit"),
    "ntpl.relevance": ("Актуальность сообщений (часов)", "Message relevance (hours)"),
    "ntpl.kinds": ("Виды предварительной записи", "Appointment kinds"),
    "ntpl.kinds_hint": ("Все (или через запятую: ТО, Ремонт)", "All (or a list: ТО, Ремонт)"),
    "ntpl.statuses": ("Статусы документа", "Document statuses"),
    "ntpl.statuses_hint": ("Любой (или через запятую: Закрыт)", "Any (or a list: Закрыт)"),
    "ntpl.persons_only": ("Только физическим лицам", "Persons only"),
    "ntpl.to_client": (
        "Контрагенты из контекста (клиент документа)",
        "Counterparties from the context (the document's client)",
    ),
    "ntpl.more_rules": (
        "У шаблона ещё правил: {n} (здесь показано первое)",
        "The template has {n} more rule(s) (the first is shown)",
    ),
    "ntpl.test_to": (
        "Тестовый получатель (используется для отладки)",
        "Test recipient (used for debugging)",
    ),
    "ntpl.test_hint": ("Телефон или e-mail", "Phone or e-mail"),
    "ntpl.test_run": ("Отправить тест", "Send a test"),
    "ntpl.test_queued": (
        "В очереди: тестовое сообщение отправит хаб",
        "Queued: the hub sends the test message",
    ),
    "ntpl.test_result": ("Тест: {state}", "Test: {state}"),
    "ntpl.save": ("Сохранить", "Save"),
    "ntpl.revert": ("Отменить изменения", "Discard changes"),
    "ntpl.saved": ("Шаблон сохранён", "Template saved"),
    # what each generated type does (the brochure's descriptions, shortened)
    "ntpl.about.appointment_day_before": (
        "Раз в сутки, после времени расчета, определяются клиенты, записанные на СЛЕДУЮЩИЙ "
        "день; на одну запись — одно сообщение. Не отправленное за время актуальности не "
        "отправляется",
        "Once a day, after the calculation time, clients booked for the NEXT day get one "
        "message per appointment; what is not sent within the relevance is dropped",
    ),
    "ntpl.about.appointment_booked": (
        "Уходит в момент записи клиента на сервис и при переносе записи",
        "Goes out when a client is booked for service, and when the visit is moved",
    ),
    "ntpl.about.appointment_before_visit": (
        "Уходит за указанное число минут до визита",
        "Goes out the given number of minutes before the visit",
    ),
    "ntpl.about.repair_status": (
        "Уходит при смене статуса заказ-наряда (например, «Закрыт»)",
        "Goes out when a work order's status changes (e.g. «Закрыт»)",
    ),
    "ntpl.about.birthday": (
        "Раз в сутки, после времени расчета — клиентам, у которых сегодня день рождения",
        "Once a day, after the calculation time, to clients whose birthday it is",
    ),
    "ntpl.about.sale_status": (
        "Уходит при смене статуса договора продажи автомобиля",
        "Goes out when a car sale contract's status changes",
    ),
    "ntpl.about.other": (
        "Этот тип пока не формирует сообщений: шаблон можно подготовить заранее",
        "This type does not generate messages yet: the template can be prepared ahead",
    ),
    # what each placeholder stands for
    "ntpl.ph.fio": ("ФИО клиента", "client's full name"),
    "ntpl.ph.name": ("имя и отчество", "name (as addressed)"),
    "ntpl.ph.datetime": ("дата и время визита", "visit date and time"),
    "ntpl.ph.date": ("дата визита", "visit date"),
    "ntpl.ph.time": ("время визита", "visit time"),
    "ntpl.ph.car_descr": ("автомобиль и гос. номер", "car and plate"),
    "ntpl.ph.plate": ("гос. номер", "plate"),
    "ntpl.ph.vin": ("VIN", "VIN"),
    "ntpl.ph.adviser": ("консультант", "adviser"),
    "ntpl.ph.address": ("адрес дилера", "dealer's address"),
    "ntpl.ph.phone": ("телефон дилера", "dealer's phone"),
    "ntpl.ph.dealer": ("название дилера", "dealer's name"),
    "ntpl.ph.client_phone": ("телефон клиента", "client's phone"),
    "ntpl.ph.doc_no": ("номер документа", "document number"),
    "ntpl.ph.status": ("статус документа", "document status"),
    "ntpl.ph.kind": ("вид записи", "appointment kind"),
}
i18n.register(STRINGS)
load_kv(__file__)

#: Which documents a type's preview offers as real data.
SAMPLE_DOCS: dict[str, tuple[str, ...]] = {
    "repair_status": STATUS_EVENTS["repair_status"],
    "repair_due": ("work_order",),
    "work_orders_report": ("work_order",),
    "sale_status": STATUS_EVENTS["sale_status"],
    "handover_due": ("car_sale",),
    "shipment_event": ("car_sale",),
    "shipment_schedule": ("car_sale",),
    "parts_arrived": ("parts_sale",),
}
CLIENT_TYPES = frozenset({"birthday", "counterparties_report", "access_requests"})
APPOINTMENT_TYPES = frozenset(
    {
        "appointment_day_before",
        "appointment_booked",
        "appointment_before_visit",
        "appointments_report",
    }
)
SAMPLES = 15


def _list(text: str) -> list[str]:
    return [p for p in (" ".join(x.split()) for x in text.replace(";", ",").split(",")) if p]


def _json(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _number(text: str, label: str, integer: bool = False) -> float:
    cleaned = text.strip().replace(",", ".")
    try:
        return int(cleaned) if integer else float(cleaned)
    except ValueError:
        raise Shown(i18n.tr("notify.err.number", field=label)) from None


class TemplatesVM(EventDispatcher):  # type: ignore[misc]
    """The types tree, the chosen template, its rule, preview and test."""

    category = StringProperty("")
    category_options = ListProperty([])
    tree = ListProperty([])

    template_id = StringProperty("")
    type_code = StringProperty("")
    type_title = StringProperty("")
    type_about = StringProperty("")
    trigger = StringProperty("")
    name = StringProperty("")
    enabled = BooleanProperty(True)
    channel_value = StringProperty("")  # a channel id, or "kind:<kind>" for «any of a kind»
    channel_kind = StringProperty("")
    channel_options = ListProperty([])
    subject = StringProperty("")
    body = StringProperty("")
    test_address = StringProperty("")
    placeholders = ListProperty([])

    sample_key = StringProperty("")
    sample_options = ListProperty([])
    preview_subject = StringProperty("")
    preview_text = StringProperty("")
    missing_text = StringProperty("")
    sms_text = StringProperty("")
    sms_tone = StringProperty("neutral")

    rule_id = StringProperty("")
    rule_enabled = BooleanProperty(True)
    calc_time = StringProperty("")
    offset_minutes = StringProperty("")
    relevance_hours = StringProperty("")
    kinds = StringProperty("")
    statuses = StringProperty("")
    persons_only = BooleanProperty(True)
    to_client = BooleanProperty(True)
    more_rules = StringProperty("")
    show_calc_time = BooleanProperty(False)
    show_offset = BooleanProperty(False)
    show_kinds = BooleanProperty(False)
    show_statuses = BooleanProperty(False)

    is_new = BooleanProperty(False)
    dirty = BooleanProperty(False)
    error = StringProperty("")
    notice = StringProperty("")
    test_text = StringProperty("")
    test_tone = StringProperty("neutral")

    def __init__(self, store: NotifyStore, *, clock: Clock = system_clock, **kw: Any) -> None:
        super().__init__(**kw)
        self.store = store
        self.clock = clock
        self._loading = False
        self._test_addressee = ""
        for name in ("body", "subject", "channel_kind", "sample_key"):
            self.fbind(name, self.update_preview)
        i18n.on_lang_change(self._on_lang)
        self._words()
        self.reload()

    def _on_lang(self, _lang: str) -> None:
        if not store_open(self.store):
            return
        self._words()
        self._tree()
        self._type_words()
        self._channels()
        self._samples()
        self.update_preview()
        self.update_test()

    def _words(self) -> None:
        self.category_options = [("", i18n.tr("ntpl.cat_all"))] + [
            (c, category_label(c)) for c in NOTIFY_CATEGORIES
        ]
        self.placeholders = [(p, i18n.tr(f"ntpl.ph.{p}")) for p in PLACEHOLDERS]

    # -- the tree ------------------------------------------------------------------------
    def reload(self) -> None:
        self._tree()
        self._channels()
        if self.template_id and not self.dirty:
            if self.store.template(self.template_id) is None:
                self.template_id = ""
            else:
                self._load(self.template_id)
        if not self.template_id and not self.is_new:
            first = next(iter(self.store.templates()), None)
            if first is not None:
                self._load(first["id"])
                self.category = first["category"]
                self._tree()
        self.update_test()

    def set_category(self, code: str) -> None:
        self.category = code
        self._tree()

    def _tree(self) -> None:
        templates: dict[str, list[dict[str, Any]]] = {}
        for t in self.store.templates():
            templates.setdefault(t["type"], []).append(t)
        rows: list[dict[str, Any]] = []
        for category in NOTIFY_CATEGORIES:
            if self.category and category != self.category:
                continue
            title = category_label(category).upper()
            rows.append({"viewclass": "NtplCategoryRow", "title": title, "owner": self})
            for mtype in (t for t in TYPES if t.category == category):
                mine = templates.get(mtype.code, [])
                rows.append(
                    {
                        "viewclass": "NtplTypeRow",
                        "code": mtype.code,
                        "title": type_label(mtype.code),
                        "icon": TRIGGER_ICONS[mtype.trigger.value],
                        "trigger": mtype.trigger.value,
                        "note": "" if mtype.built else i18n.tr("ntpl.not_built"),
                        "selected": self.is_new and self.type_code == mtype.code,
                        "owner": self,
                    }
                )
                for t in mine:
                    rows.append(
                        {
                            "viewclass": "NtplTemplateRow",
                            "template_id": t["id"],
                            "title": t["name"],
                            "icon": KIND_ICONS.get(t["channel_kind"], "info"),
                            "kind_text": kind_label(t["channel_kind"]),
                            "enabled": bool(t["enabled"]),
                            "selected": t["id"] == self.template_id,
                            "owner": self,
                        }
                    )
        self.tree = rows

    def tap_row(self, index: int) -> None:
        if not 0 <= index < len(self.tree):
            return
        row = self.tree[index]
        if row["viewclass"] == "NtplTemplateRow":
            self.open(row["template_id"])
        elif row["viewclass"] == "NtplTypeRow":
            self.new_template(row["code"])

    def open(self, template_id: str) -> None:
        """Show a template (unsaved edits of the previous one are dropped)."""
        self.is_new = False
        self._test_addressee = ""
        self.test_text = ""
        self._load(template_id)
        self._tree()

    # -- the editor ----------------------------------------------------------------------
    def _type_words(self) -> None:
        mtype = TYPE_BY_CODE.get(self.type_code)
        self.type_title = type_label(self.type_code) if self.type_code else ""
        self.trigger = mtype.trigger.value if mtype else ""
        if mtype is None:
            self.type_about = ""
        elif mtype.built:
            self.type_about = i18n.tr(f"ntpl.about.{mtype.code}")
        else:
            self.type_about = i18n.tr("ntpl.about.other")
        code = self.type_code
        scheduled = mtype is not None and mtype.trigger is Trigger.SCHEDULE
        self.show_offset = code == "appointment_before_visit"
        self.show_calc_time = scheduled and not self.show_offset
        self.show_kinds = code in APPOINTMENT_TYPES
        self.show_statuses = code in STATUS_EVENTS

    def _load(self, template_id: str) -> None:
        t = self.store.template(template_id)
        if t is None:
            return
        self._loading = True
        try:
            self.template_id = t["id"]
            self.type_code = t["type"]
            self._type_words()
            self.name = t["name"]
            self.enabled = bool(t["enabled"])
            self.channel_kind = t["channel_kind"]
            self.channel_value = t["channel_id"] or f"kind:{t['channel_kind']}"
            self.subject = t["subject"]
            self.body = t["body"]
            self.test_address = t["test_address"]
            rules = [r for r in self.store.rules() if r["template_id"] == template_id]
            self._rule(rules[0] if rules else None)
            self.more_rules = i18n.tr("ntpl.more_rules", n=len(rules) - 1) if len(rules) > 1 else ""
            self._channels()
            self._samples()
        finally:
            self._loading = False
        self.dirty = False
        self.error = self.notice = ""
        self.update_preview()

    def _rule(self, rule: dict[str, Any] | None) -> None:
        if rule is None:
            self.rule_id = ""
            self.rule_enabled = True
            self.calc_time = "20:00" if self.show_calc_time else ""
            self.offset_minutes = "120" if self.show_offset else "0"
            self.relevance_hours = "1"
            self.kinds = self.statuses = ""
            self.persons_only = self.to_client = True
            return
        self.rule_id = rule["id"]
        self.rule_enabled = bool(rule["enabled"])
        self.calc_time = rule["calc_time"] or ""
        self.offset_minutes = str(rule["offset_minutes"] or 0)
        hours = float(rule["relevance_hours"])
        self.relevance_hours = f"{hours:g}"
        self.kinds = ", ".join(_json(rule["appointment_kinds"]))
        self.statuses = ", ".join(_json(rule["statuses"]))
        self.persons_only = bool(rule["persons_only"])
        self.to_client = bool(rule["to_client"])

    def new_template(self, type_code: str) -> None:
        """An empty template of ``type_code`` with the rule's usual defaults."""
        if type_code not in TYPE_BY_CODE:
            raise ValueError(type_code)
        self._loading = True
        try:
            self.is_new = True
            self.template_id = ""
            self.type_code = type_code
            self._type_words()
            self.name = type_label(type_code)
            self.enabled = True
            channels = self._channel_rows()
            sms = next((c for c in channels if c["kind"] == "sms"), None)
            first = sms or (channels[0] if channels else None)
            self.channel_kind = first["kind"] if first else "sms"
            self.channel_value = first["id"] if first else "kind:sms"
            self.subject = self.body = self.test_address = ""
            self._rule(None)
            self.more_rules = ""
            self._channels()
            self._samples()
        finally:
            self._loading = False
        self.dirty = True
        self.error = self.notice = self.test_text = ""
        self._test_addressee = ""
        self.update_preview()
        self._tree()

    def _channel_rows(self) -> list[dict[str, Any]]:
        order = {k: i for i, k in enumerate(KIND_ORDER)}
        rows = admin.list_channels(self.store)
        return sorted(rows, key=lambda c: (order.get(c["kind"], 99), c["created_at"]))

    def _channels(self) -> None:
        options: list[tuple[str, str, str]] = [
            (c["id"], f"{kind_label(c['kind'])} · {c['name']}", KIND_ICONS.get(c["kind"], ""))
            for c in self._channel_rows()
        ]
        if self.channel_value.startswith("kind:"):
            kind = self.channel_value[5:]
            label = i18n.tr("ntpl.any_channel", kind=kind_label(kind))
            options.append((self.channel_value, label, KIND_ICONS.get(kind, "")))
        self.channel_options = options

    def choose_channel(self, value: str) -> None:
        if value.startswith("kind:"):
            kind = value[5:]
        else:
            row = self.store.channel(value)
            if row is None:
                return
            kind = row["kind"]
        self.channel_value = value
        self.channel_kind = kind
        self.dirty = True
        self._channels()

    def set_value(self, name: str, value: Any) -> None:
        """A form field typed or toggled (kv's ``on_text`` / ``on_toggle``)."""
        if name not in (
            "name",
            "enabled",
            "subject",
            "body",
            "test_address",
            "rule_enabled",
            "calc_time",
            "offset_minutes",
            "relevance_hours",
            "kinds",
            "statuses",
            "persons_only",
            "to_client",
        ):
            raise KeyError(name)
        if getattr(self, name) == value:
            return
        setattr(self, name, value)
        if not self._loading and name != "test_address":
            self.dirty = True

    def insert_placeholder(self, name: str, cursor: int | None = None, field: str = "body") -> int:
        """Put ``{name}`` into the body (or subject) at ``cursor`` (the end by default);
        returns the cursor after it."""
        if name not in PLACEHOLDERS or field not in ("body", "subject"):
            raise KeyError(name)
        text = getattr(self, field)
        at = len(text) if cursor is None else max(0, min(cursor, len(text)))
        token = "{" + name + "}"
        self.set_value(field, text[:at] + token + text[at:])
        return at + len(token)

    # -- preview -------------------------------------------------------------------------
    def _samples(self) -> None:
        code, tz = self.type_code, dealer_zone(self.store)
        options: list[tuple[str, str]] = []
        if code in CLIENT_TYPES:
            rows = self.store.latest_appointment_rows(
                SAMPLES * 2
            ) + self.store.recent_document_rows(("work_order", "car_sale"), SAMPLES * 2)
            seen: set[str] = set()
            for r in rows:
                party = r["counterparty_id"]
                if party and party not in seen:
                    seen.add(party)
                    options.append((f"cp:{party}", r["full_name"] or ""))
        else:
            if code in SAMPLE_DOCS:
                rows = self.store.recent_document_rows(SAMPLE_DOCS[code], SAMPLES)
            else:
                rows = self.store.latest_appointment_rows(SAMPLES)
            for r in rows:
                when = show_at(r["visit_at"], tz) if r["visit_at"] else r["doc_no"] or ""
                label = " · ".join(p for p in (r["full_name"] or "", when, r["plate"] or "") if p)
                options.append((f"doc:{r['document_id']}", label))
        self.sample_options = options[:SAMPLES]
        keys = {o[0] for o in self.sample_options}
        if self.sample_key not in keys:
            self.sample_key = self.sample_options[0][0] if self.sample_options else ""

    def choose_sample(self, key: str) -> None:
        self.sample_key = key

    def update_preview(self, *_: Any) -> None:
        if self._loading or not self.type_code:
            return
        key = self.sample_key
        try:
            shown = admin.preview(
                self.store,
                body=self.body,
                subject=self.subject,
                channel_kind=self.channel_kind or "sms",
                document_id=key[4:] if key.startswith("doc:") else None,
                counterparty_id=key[3:] if key.startswith("cp:") else None,
            )
        except Exception as exc:  # a vanished sample: show why, keep typing possible
            self.preview_subject, self.preview_text = "", ""
            self.missing_text = describe_error(exc)
            self.sms_text, self.sms_tone = "", "neutral"
            return
        self.preview_subject = shown.subject if self.channel_kind not in ("sms", "phone") else ""
        self.preview_text = shown.text
        names = [*shown.missing, *shown.unknown]
        self.missing_text = (
            i18n.tr("ntpl.missing", names=", ".join("{" + n + "}" for n in names)) if names else ""
        )
        sms = shown.sms
        if sms is None:
            self.sms_text, self.sms_tone = "", "neutral"
            return
        encoding = i18n.tr(f"ntpl.enc.{sms.encoding}", n=sms.per_segment)
        self.sms_text = i18n.tr(
            "ntpl.sms",
            segments=i18n.tr("ntpl.segments", n=sms.segments),
            units=i18n.tr("ntpl.units", n=sms.units),
            enc=encoding,
            left=sms.left,
        )
        raw = admin.preview(
            self.store,
            body=self.body,
            channel_kind="email",
            document_id=key[4:] if key.startswith("doc:") else None,
            counterparty_id=key[3:] if key.startswith("cp:") else None,
        )
        if len(raw.text) > len(shown.text):  # bound_body cut it to MAX_SMS_SEGMENTS
            self.sms_text += " · " + i18n.tr("ntpl.sms_cut", n=MAX_SMS_SEGMENTS)
            self.sms_tone = "danger"
        else:
            self.sms_tone = "processed" if sms.segments <= 1 else "new"

    # -- saving --------------------------------------------------------------------------
    def save(self) -> bool:
        """The template and its rule, in one transaction."""
        self.error = self.notice = ""
        try:
            rule = self._rule_values()
            with self.store.transaction():
                template_id = admin.save_template(
                    self.store,
                    type=self.type_code,
                    name=self.name,
                    channel_kind=self.channel_kind,
                    body=self.body,
                    subject=self.subject if self.channel_kind not in ("sms", "phone") else "",
                    template_id=self.template_id or None,
                    enabled=self.enabled,
                    channel_id=None
                    if self.channel_value.startswith("kind:")
                    else self.channel_value or None,
                    test_address=self.test_address,
                )
                admin.save_rule(
                    self.store, template_id=template_id, rule_id=self.rule_id or None, **rule
                )
        except Exception as exc:
            self.error = describe_error(exc)
            return False
        self.is_new = False
        self._load(template_id)
        self._tree()
        self.notice = i18n.tr("ntpl.saved")
        return True

    def _rule_values(self) -> dict[str, Any]:
        current = self.store.rule(self.rule_id) if self.rule_id else None
        calc_time = self.calc_time.strip() or None
        if self.show_calc_time:
            parse_hhmm(calc_time or "")
        offset = (
            int(_number(self.offset_minutes or "0", i18n.tr("ntpl.offset"), integer=True))
            if self.show_offset
            else int((current or {}).get("offset_minutes") or 0)
        )
        return {
            "enabled": self.rule_enabled,
            "calc_time": calc_time if self.show_calc_time else (current or {}).get("calc_time"),
            "offset_minutes": offset,
            "relevance_hours": _number(self.relevance_hours or "", i18n.tr("ntpl.relevance")),
            "appointment_kinds": _list(self.kinds),
            "statuses": _list(self.statuses),
            "persons_only": self.persons_only,
            "to_client": self.to_client,
            "employee_ids": _json((current or {}).get("employee_ids")),
            "roles": _json((current or {}).get("roles")),
            "counterparty_ids": _json((current or {}).get("counterparty_ids")),
        }

    def revert(self) -> None:
        if self.is_new:
            self.is_new = False
            self.template_id = ""
            self.type_code = ""
            self.dirty = False
            self.reload()
        elif self.template_id:
            self._load(self.template_id)

    # -- the test ------------------------------------------------------------------------
    def send_test(self) -> bool:
        self.error = ""
        if (self.dirty or self.is_new) and not self.save():
            return False
        if not self.test_address.strip():
            self.error = i18n.tr("notify.err.no_test_address")
            return False
        key = self.sample_key
        try:
            message = admin.send_test(
                self.store,
                self.template_id,
                self.clock(),
                address=self.test_address.strip(),
                document_id=key[4:] if key.startswith("doc:") else None,
            )
        except Exception as exc:
            self.error = describe_error(exc)
            return False
        found = self.store.addressees_of([message]).get(message, [])
        self._test_addressee = found[0]["id"] if found else ""
        self.update_test()
        return True

    def update_test(self) -> None:
        if self._test_addressee:
            self.test_text, self.test_tone = test_send_state(
                self.store, self._test_addressee, "ntpl.test_queued", "ntpl.test_result"
            )


# --- widgets -----------------------------------------------------------------------------------


class NtplRow(NtListRow):
    """A row of the types tree: a category header, a message type, or a template."""

    title = StringProperty("")
    icon = StringProperty("")
    code = StringProperty("")
    trigger = StringProperty("")
    note = StringProperty("")
    template_id = StringProperty("")
    kind_text = StringProperty("")
    enabled = BooleanProperty(True)


class NtplCategoryRow(NtplRow):
    pass


class NtplTypeRow(NtplRow):
    pass


class NtplTemplateRow(NtplRow):
    pass


class NtplChip(ButtonBehavior, Label):  # type: ignore[misc]
    """A placeholder to insert: «{fio}  ФИО клиента»."""

    name = StringProperty("")


class NotifyTemplatesScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    target = StringProperty("body")  # where a tapped placeholder goes: body or subject

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        assert app.services is not None
        vm = TemplatesVM(notify_store(app.services), clock=app.services.clock)
        super().__init__(app, vm=vm, **kwargs)

        vm.fbind("placeholders", self._chips)  # built in on_kv_post; again on a language switch

    def on_kv_post(self, _base: Any) -> None:
        self._chips()

    def _chips(self, *_: Any) -> None:
        box = self.ids.get("chips")
        if box is None:
            return
        box.clear_widgets()
        for name, label in self.vm.placeholders:
            chip = NtplChip(name=name, text=f"[b]{{{name}}}[/b]  {label}")
            chip.bind(on_release=lambda c: self.insert(c.name))
            box.add_widget(chip)

    def refresh(self) -> None:
        self.vm.reload()

    @staticmethod
    def tree_data(rows: list[dict[str, Any]], touch: float, gap: float) -> list[dict[str, Any]]:
        """The tree's rows with their heights: headers low, types two lines, templates one."""
        factor = {"NtplCategoryRow": 0.8, "NtplTypeRow": 1.4}
        return [dict(r, size=(None, touch * factor.get(r["viewclass"], 1.0) + gap)) for r in rows]

    def insert(self, name: str) -> None:
        """A placeholder chip tapped: into the last focused field, at its cursor."""
        field = self.ids.subject if self.target == "subject" else self.ids.body
        cursor = field.cursor_index() if field.text else 0
        after = self.vm.insert_placeholder(name, cursor, self.target)
        field.text = getattr(self.vm, self.target)
        field.cursor = field.get_cursor_from_index(after)
        field.focus = True


register(
    "notify_templates",
    lambda app: NotifyTemplatesScreen(app),
    label="notify.tab.templates",
    icon="text-box-outline",
    order=86,
    nav=False,
)
