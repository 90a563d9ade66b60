"""Dialogs of the traffic screens: choose an employee, give a reason, process a contact.

Each dialog is a view-model (an ``EventDispatcher`` with the logic, tested without a window) and
a ``ModalView`` that draws it (layout in ``dialogs.kv``):

- ``EmployeePickerVM`` / ``EmployeePicker`` — «Назначить», «Переназначить»: every active employee
  with the presence dot, extension and the brochure's counts «необработанный / переведённый за
  сегодня» («4/0»); the contact's department first, a name filter.
- ``ReasonVM`` / ``ReasonDialog`` — «Игнорировать» (``IGNORE_REASONS``) and «Упущенный контакт»
  (``LOSS_REASONS``): one of the list or the person's own words; the confirm button is in the
  danger colour, so the dialog is the confirmation.
- ``ProcessVM`` / ``ProcessDialog`` — «Обработать»: create a document (type, sum, number, note)
  or attach the contact to one of the client's open documents.

A dialog never calls the domain itself: it hands the choice to a callback that does, and shows
the callback's error (a translated line, ``None`` on success) without closing, so a person can
correct the input. ``describe_error`` is that translation for every error the traffic screens
can meet (``Taken`` names the winner; ``HubUnavailable`` says the hub is needed).

Also here, because the queue, the card and the dialogs share them: the labels of departments,
contact types and traffic statuses, and money in roubles (``format_money`` / ``parse_money``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from lsnode.crm.traffic import DOC_START_STATUS, IllegalTransition, Taken
from lsnode.errors import InputError, LsnodeError, NotFound
from lsnode.store.schema import DEPARTMENTS, DOC_TYPES
from lsnode.ui import i18n

STRINGS = {
    # departments (the registration screen's tabs) and contact types
    "dlg.dept.service": ("СЕРВИС", "SERVICE"),
    "dlg.dept.salon": ("АВТОСАЛОН", "SHOWROOM"),
    "dlg.dept.shop": ("МАГАЗИН", "SHOP"),
    "dlg.dept.feedback": ("ОБРАТНАЯ СВЯЗЬ", "FEEDBACK"),
    "dlg.dept.other": ("ПРОЧЕЕ", "OTHER"),
    "dlg.type.call": ("Звонок", "Call"),
    "dlg.type.visit": ("Визит", "Visit"),
    "dlg.type.internet": ("Интернет", "Internet"),
    # traffic statuses, as the brochure's journal and reports name them
    "dlg.status.new": ("Не обработан", "Unprocessed"),
    "dlg.status.in_work": ("В работе", "In work"),
    "dlg.status.document_created": ("Создан документ", "Document created"),
    "dlg.status.document_attached": ("Прикреплен к документу", "Attached to a document"),
    "dlg.status.ignored": ("Проигнорирован", "Ignored"),
    "dlg.status.lost": ("Упущенный контакт", "Lost contact"),
    # documents
    "dlg.doc.work_order": ("Заказ-наряд", "Work order"),
    "dlg.doc.pre_order": ("Предв. заказ-наряд", "Pre-order"),
    "dlg.doc.appointment": ("Предварительная запись", "Service appointment"),
    "dlg.doc.car_sale": ("Продажа автомобиля", "Car sale"),
    "dlg.doc.parts_sale": ("Продажа запчастей", "Parts sale"),
    # employee picker
    "dlg.emp.title": ("Ответственный сотрудник", "Responsible employee"),
    "dlg.emp.filter": ("Фамилия или доб. номер", "Surname or extension"),
    "dlg.emp.only_dept": ("Только {dept}", "Only {dept}"),
    "dlg.emp.all": ("Все сотрудники", "All employees"),
    "dlg.emp.counts": (
        "Необработанный трафик / переведённый за сегодня",
        "Unprocessed traffic / transferred today",
    ),
    "dlg.emp.none": ("Никого не найдено", "Nobody found"),
    "dlg.emp.current": ("сейчас ответственный", "responsible now"),
    # reasons
    "dlg.reason.other": ("Другая причина", "Another reason"),
    "dlg.reason.other_hint": ("Своими словами", "In your own words"),
    "dlg.reason.ignore_title": ("Игнорировать контакт", "Ignore the contact"),
    "dlg.reason.ignore_text": (
        "Контакт будет закрыт как проигнорированный. Укажите причину:",
        "The contact will be closed as ignored. Choose the reason:",
    ),
    "dlg.reason.lose_title": ("Упущенный контакт", "Lost contact"),
    "dlg.reason.lose_text": (
        "Клиент ушёл необслуженным. Контакт уйдёт из очереди. Причина:",
        "The client left unserved; the contact leaves the queue. Reason:",
    ),
    "dlg.reason.need": ("Выберите причину или впишите свою", "Choose a reason or type your own"),
    # processing
    "dlg.proc.title": ("Обработать контакт", "Process the contact"),
    "dlg.proc.create": ("Создать документ", "Create a document"),
    "dlg.proc.attach": ("Прикрепить к документу", "Attach to a document"),
    "dlg.proc.type": ("Вид документа", "Document type"),
    "dlg.proc.amount": ("Сумма, ₽", "Sum, ₽"),
    "dlg.proc.amount_hint": ("0,00", "0.00"),
    "dlg.proc.number": ("Номер документа", "Document number"),
    "dlg.proc.number_hint": ("Например: ЗН 14029", "E.g. WO 14029"),
    "dlg.proc.note": ("Примечание по документу", "Note on the document"),
    "dlg.proc.starts_as": ("Документ будет создан в статусе «{status}»", "Starts as “{status}”"),
    "dlg.proc.no_docs": (
        "У клиента нет незакрытых документов",
        "The client has no open documents",
    ),
    "dlg.proc.no_client": (
        "Клиент не указан: прикрепить можно только к документу клиента",
        "No client on the contact: only a client's document can be attached",
    ),
    "dlg.proc.pick_doc": ("Выберите документ", "Choose a document"),
    "dlg.proc.bad_amount": (
        "Сумма не распознана: «{text}» — пример: 2 500 000,00",
        "The sum is not a number: “{text}” — e.g. 2,500,000.00",
    ),
    "dlg.proc.no_number": ("б/н", "no number"),
    "dlg.cancel": ("Отмена", "Cancel"),
    # errors the traffic screens can meet
    "err.taken": ("Уже взял: {name}", "Already taken by {name}"),
    "err.taken_someone": ("Контакт уже взял другой сотрудник", "Someone else took it first"),
    "err.not_synced": (
        "Хаб ещё не получил этот контакт — повторите через несколько секунд",
        "The hub has not received this contact yet — try again in a few seconds",
    ),
    "err.illegal": (
        "Контакт уже изменился (сейчас: {status}) — действие недоступно",
        "The contact has changed (now: {status}) — the action is not available",
    ),
    "err.no_right": ("Недостаточно прав для этого действия", "You have no right to do this"),
    "err.sign_in": ("Сначала войдите по PIN-коду", "Sign in with your PIN first"),
    "err.no_employee": (
        "Сотрудник не найден или не работает",
        "The employee is not found or no longer works here",
    ),
    "err.not_found": ("Запись не найдена: {detail}", "Not found: {detail}"),
    "err.reason": ("Укажите причину", "Give the reason"),
    "err.negative": ("Сумма не может быть отрицательной", "The sum cannot be negative"),
    "err.too_long": ("{what}: не больше {n} символов", "{what}: at most {n} characters"),
    "err.control": ("{what}: недопустимые символы", "{what}: characters not allowed"),
    "err.other_client": (
        "Документ принадлежит другому клиенту",
        "The document belongs to another client",
    ),
    "err.generic": ("Не удалось: {detail}", "Could not do it: {detail}"),
    "err.what.note": ("Примечание", "Note"),
    "err.what.reason": ("Причина", "Reason"),
    "err.what.number": ("Номер документа", "Document number"),
}
i18n.register(STRINGS)

STATUS_TONES = {
    "new": "new",
    "in_work": "in_work",
    "document_created": "processed",
    "document_attached": "processed",
    "ignored": "ignored",
    "lost": "lost",
}
TYPE_ICONS = {"call": "call", "visit": "visit", "internet": "internet"}
PRESENCE_ORDER = {"available": 0, "busy": 1, "away": 2}


def dept_label(code: str | None) -> str:
    return i18n.tr(f"dlg.dept.{code}") if code in DEPARTMENTS else ""


def type_label(code: str | None) -> str:
    return i18n.tr(f"dlg.type.{code}") if code in TYPE_ICONS else ""


def status_label(code: str | None) -> str:
    return i18n.tr(f"dlg.status.{code}") if code in STATUS_TONES else str(code or "")


def doc_type_label(code: str | None) -> str:
    return i18n.tr(f"dlg.doc.{code}") if code in DOC_TYPES else str(code or "")


# --- money -------------------------------------------------------------------------------------


def format_money(kop: int | None, lang: str | None = None) -> str:
    """Kopecks as the brochure shows a sum: «2 500 000,00» (en: "2,500,000.00")."""
    if kop is None:
        return ""
    lang = lang or i18n.current_lang()
    sign = "-" if kop < 0 else ""
    rub, rest = divmod(abs(int(kop)), 100)
    if lang == "ru":
        return f"{sign}{rub:,}".replace(",", "\u00a0") + f",{rest:02d}"
    return f"{sign}{rub:,}.{rest:02d}"


_MONEY = re.compile(r"^(\d+)(?:[.,](\d{1,2}))?$")


def parse_money(text: str) -> int:
    """«2 500 000,50», «2500000.5», «270,89 ₽» → kopecks; raises ``InputError`` (translated)."""
    raw = text.strip()
    if not raw:
        return 0
    cleaned = re.sub(r"(₽|руб\.?|р\.)$", "", raw.casefold()).strip()
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", cleaned)
    if cleaned.startswith("-"):
        raise InputError(i18n.tr("err.negative"))
    # «2,500,000.00»: commas that group thousands before a dot
    if "." in cleaned and "," in cleaned:
        cleaned = cleaned.replace(",", "")
    match = _MONEY.match(cleaned)
    if match is None:
        raise InputError(i18n.tr("dlg.proc.bad_amount", text=raw))
    rub, kop = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(rub) * 100 + int(kop)


# --- errors ------------------------------------------------------------------------------------

_WHAT = {"note": "err.what.note", "reason": "err.what.reason", "document number": "err.what.number"}


def describe_error(error: BaseException, names: Callable[[str], str | None] | None = None) -> str:
    """One line in the user's language for an error of a traffic action.

    ``names(employee_id)`` finds the winner's name for ``Taken`` (the message already has it,
    in the domain's words, as a fallback)."""
    key = getattr(error, "message_key", None)
    if key:  # HubUnavailable: the hub is needed and not reachable
        return i18n.tr(key)
    text = str(error)
    if isinstance(error, Taken):
        if error.winner is None:  # the hub refused without a winner: say why, not a name
            if text.endswith("no such row"):
                return i18n.tr("err.not_synced")
            return i18n.tr("err.taken_someone")
        name = names(error.winner) if names else None
        if not name:
            found = re.search(r"already taken by (.+)$", text)
            name = found.group(1) if found else None
        return i18n.tr("err.taken", name=name) if name else i18n.tr("err.taken_someone")
    if isinstance(error, IllegalTransition):
        found = re.search(r"that is (\w+)$", text)
        return i18n.tr("err.illegal", status=status_label(found.group(1) if found else ""))
    if isinstance(error, NotFound):
        if "employee" in text:
            return i18n.tr("err.no_employee")
        return i18n.tr("err.not_found", detail=text)
    if isinstance(error, InputError):
        if ": no right to " in text:
            return i18n.tr("err.no_right")
        if text == "sign in first":
            return i18n.tr("err.sign_in")
        if text.startswith("choose the reason"):
            return i18n.tr("err.reason")
        if text == "the sum cannot be negative":
            return i18n.tr("err.negative")
        if text == "the document belongs to another client":
            return i18n.tr("err.other_client")
        found = re.match(r"^(note|reason|document number): at most (\d+) characters$", text)
        if found:
            return i18n.tr("err.too_long", what=i18n.tr(_WHAT[found.group(1)]), n=found.group(2))
        found = re.match(r"^(note|reason|document number): control characters", text)
        if found:
            return i18n.tr("err.control", what=i18n.tr(_WHAT[found.group(1)]))
        if re.search(r"[А-Яа-яЁё]", text):  # already in the user's words (our own InputError)
            return text
    return i18n.tr("err.generic", detail=text)


def run_action(
    action: Callable[[], Any], names: Callable[[str], str | None] | None = None
) -> tuple[Any, str | None]:
    """Run a domain call; (result, None) or (None, the user's message)."""
    try:
        return action(), None
    except LsnodeError as exc:
        return None, describe_error(exc, names)


# --- employee picker ---------------------------------------------------------------------------


class EmployeePickerVM(EventDispatcher):  # type: ignore[misc]
    """Who can take the contact: presence, extension, counts; department first.

    ``rows`` are dicts for the list; ``choose(employee_id)`` calls ``on_pick`` and returns its
    error (``None``: done, the dialog closes)."""

    rows = ListProperty([])
    filter_text = StringProperty("")
    only_department = BooleanProperty(False)
    department = StringProperty("")
    department_text = StringProperty("")
    error = StringProperty("")

    def __init__(
        self,
        services: Any,
        on_pick: Callable[[str], str | None],
        *,
        department: str | None = None,
        current_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.on_pick = on_pick
        self.current_id = current_id
        self.department = department or ""
        self.department_text = dept_label(department)
        self.only_department = bool(department)
        reader = services.reader
        self._employees = reader.employees()
        self._counts = reader.employee_counts(services.day_start())
        if self.department and not any(self._in_dept(e) for e in self._employees):
            self.only_department = False
        self.fbind("filter_text", self._update)
        self.fbind("only_department", self._update)
        self._update()

    def _in_dept(self, emp: dict[str, Any]) -> bool:
        try:
            return self.department in json.loads(emp["departments"] or "[]")
        except ValueError:
            return False

    def _update(self, *_: Any) -> None:
        needle = self.filter_text.strip().casefold()
        rows = []
        for emp in self._employees:
            if self.only_department and not self._in_dept(emp):
                continue
            name = emp["short_name"]
            ext = emp["extension"] or ""
            if needle and needle not in name.casefold() and not ext.startswith(needle):
                continue
            unprocessed, moved = self._counts.get(emp["id"], (0, 0))
            depts = [dept_label(d) for d in json.loads(emp["departments"] or "[]")]
            detail = " · ".join(x for x in (ext, ", ".join(depts)) if x)
            note = emp["presence_note"] or ""
            rows.append(
                {
                    "emp_id": emp["id"],
                    "name": name,
                    "presence": emp["presence"],
                    "detail": detail,
                    "note": note,
                    "counts": f"{unprocessed}/{moved}" if (unprocessed or moved) else "",
                    "current": emp["id"] == self.current_id,
                    "sort": (
                        0 if (self.department and self._in_dept(emp)) else 1,
                        PRESENCE_ORDER.get(emp["presence"], 3),
                        name,
                    ),
                }
            )
        rows.sort(key=lambda r: r["sort"])
        for i, row in enumerate(rows):
            row["index"] = i
        self.rows = rows

    def choose(self, employee_id: str) -> str | None:
        error = self.on_pick(employee_id)
        self.error = error or ""
        return error


# --- reasons -----------------------------------------------------------------------------------


class ReasonVM(EventDispatcher):  # type: ignore[misc]
    """One reason of a list, or the person's own words (which win when typed)."""

    reasons = ListProperty([])
    selected = StringProperty("")
    custom = StringProperty("")
    reason = StringProperty("")
    can_confirm = BooleanProperty(False)
    error = StringProperty("")

    def __init__(
        self,
        reasons: Sequence[str],
        on_confirm: Callable[[str], str | None],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.reasons = list(reasons)
        self.on_confirm = on_confirm
        self.fbind("selected", self._update)
        self.fbind("custom", self._update)
        self._update()

    def _update(self, *_: Any) -> None:
        typed = " ".join(self.custom.split())
        self.reason = typed or self.selected
        self.can_confirm = bool(self.reason)

    def pick(self, reason: str) -> None:
        self.selected = "" if self.selected == reason else reason
        if self.selected:
            self.custom = ""

    def confirm(self) -> str | None:
        if not self.reason:
            message = i18n.tr("dlg.reason.need")
            self.error = message
            return message
        error = self.on_confirm(self.reason)
        self.error = error or ""
        return error


# --- processing --------------------------------------------------------------------------------


class ProcessVM(EventDispatcher):  # type: ignore[misc]
    """«Обработать»: a new document from the contact, or one of the client's open documents.

    ``on_create(doc_type, amount_kop, doc_no, note)`` and ``on_attach(document_id)`` do it and
    return the user's error or ``None``."""

    mode = StringProperty("create")  # create | attach
    doc_type = StringProperty("")
    amount_text = StringProperty("")
    doc_no = StringProperty("")
    note = StringProperty("")
    documents = ListProperty([])
    selected_doc = StringProperty("")
    starts_as = StringProperty("")
    attach_hint = StringProperty("")
    can_attach = BooleanProperty(False)
    can_submit = BooleanProperty(True)
    error = StringProperty("")
    doc_types = ListProperty([])

    def __init__(
        self,
        *,
        department: str,
        documents: Sequence[dict[str, Any]],
        has_client: bool,
        on_create: Callable[[str, int, str, str], str | None],
        on_attach: Callable[[str], str | None],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.on_create, self.on_attach = on_create, on_attach
        self.doc_types = list(_DOC_TYPES_BY_DEPT.get(department, DOC_TYPES))
        self.doc_type = self.doc_types[0]
        self.documents = [dict(d, index=i) for i, d in enumerate(documents)]
        self.can_attach = bool(self.documents)
        if not has_client:
            self.attach_hint = i18n.tr("dlg.proc.no_client")
        elif not self.documents:
            self.attach_hint = i18n.tr("dlg.proc.no_docs")
        else:
            self.attach_hint = i18n.tr("dlg.proc.pick_doc")
        for name in ("mode", "doc_type", "selected_doc"):
            self.fbind(name, self._update)
        i18n.on_lang_change(self._on_lang)
        self._update()

    def _on_lang(self, _lang: str) -> None:
        self._update()

    def _update(self, *_: Any) -> None:
        self.starts_as = i18n.tr("dlg.proc.starts_as", status=DOC_START_STATUS[self.doc_type])
        self.can_submit = self.mode == "create" or bool(self.selected_doc)
        self.documents = [
            dict(d, selected=d["doc_id"] == self.selected_doc) for d in self.documents
        ]

    def choose_mode(self, mode: str) -> None:
        if mode not in ("create", "attach"):
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.error = ""

    def choose_doc(self, doc_id: str) -> None:
        self.selected_doc = doc_id
        self.error = ""

    def submit(self) -> str | None:
        if self.mode == "attach":
            if not self.selected_doc:
                hint = str(self.attach_hint)
                self.error = hint
                return hint
            error = self.on_attach(self.selected_doc)
        else:
            try:
                amount = parse_money(self.amount_text)
            except InputError as exc:
                self.error = message = str(exc)
                return message
            error = self.on_create(self.doc_type, amount, self.doc_no, self.note)
        self.error = error or ""
        return error


#: What a department usually makes from a contact, first: the first is preselected.
_DOC_TYPES_BY_DEPT: dict[str, tuple[str, ...]] = {
    "service": ("work_order", "pre_order", "appointment", "parts_sale", "car_sale"),
    "salon": ("car_sale", "pre_order", "work_order", "appointment", "parts_sale"),
    "shop": ("parts_sale", "work_order", "pre_order", "appointment", "car_sale"),
}


# --- widgets (layout in dialogs.kv) ------------------------------------------------------------


class TrafficDialog(ModalView):  # type: ignore[misc]
    """A centred card over a scrim; closes on «Отмена» or a tap outside."""

    title = StringProperty("")
    text = StringProperty("")
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it


class EmployeePickerRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    emp_id = StringProperty("")
    name = StringProperty("")
    presence = StringProperty("away")
    detail = StringProperty("")
    note = StringProperty("")
    counts = StringProperty("")
    current = BooleanProperty(False)
    index = ObjectProperty(0)
    dialog: Any = ObjectProperty(None, allownone=True)

    def on_release(self) -> None:
        if self.dialog is not None:
            self.dialog.pick(self.emp_id)


class EmployeePicker(TrafficDialog):
    rv_data = ListProperty([])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vm.fbind("rows", self._rows)
        self._rows()

    def _rows(self, *_: Any) -> None:
        self.rv_data = [dict(r, dialog=self) for r in self.vm.rows]

    def pick(self, employee_id: str) -> None:
        if self.vm.choose(employee_id) is None:
            self.dismiss()


class ReasonDialogOption(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    text = StringProperty("")
    selected = BooleanProperty(False)


class ReasonDialog(TrafficDialog):
    confirm_text = StringProperty("")
    confirm_icon = StringProperty("cancel")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        box = self.ids.options
        for reason in self.vm.reasons:
            option = ReasonDialogOption(text=reason)
            option.bind(on_release=lambda _o, r=reason: self.vm.pick(r))
            box.add_widget(option)
        self.vm.fbind("selected", self._mark)
        self._mark()

    def _mark(self, *_: Any) -> None:
        for option in self.ids.options.children:
            option.selected = option.text == self.vm.selected

    def confirmed(self) -> None:
        if self.vm.confirm() is None:
            self.dismiss()


class ProcessDialogDocument(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    doc_id = StringProperty("")
    title = StringProperty("")
    detail = StringProperty("")
    amount = StringProperty("")
    status = StringProperty("")
    selected = BooleanProperty(False)
    index = ObjectProperty(0)
    dialog: Any = ObjectProperty(None, allownone=True)

    def on_release(self) -> None:
        if self.dialog is not None:
            self.dialog.vm.choose_doc(self.doc_id)


class ProcessDialog(TrafficDialog):
    doc_data = ListProperty([])

    def __init__(self, **kwargs: Any) -> None:
        from lsnode.ui.theme.widgets import SegmentButton

        super().__init__(**kwargs)
        self.vm.fbind("documents", self._docs)
        self._docs()
        box = self.ids.doc_types
        for doc_type in self.vm.doc_types:
            button = SegmentButton(text=doc_type_label(doc_type))
            button.doc_type = doc_type
            button.bind(on_release=lambda _b, t=doc_type: setattr(self.vm, "doc_type", t))
            box.add_widget(button)
        self.vm.fbind("doc_type", self._mark_type)
        self._mark_type()

    def _mark_type(self, *_: Any) -> None:
        for button in self.ids.doc_types.children:
            button.selected = button.doc_type == self.vm.doc_type

    def _docs(self, *_: Any) -> None:
        self.doc_data = [dict(d, dialog=self) for d in self.vm.documents]

    def submitted(self) -> None:
        if self.vm.submit() is None:
            self.dismiss()


def pick_employee(
    services: Any,
    on_pick: Callable[[str], str | None],
    *,
    title: str = "",
    department: str | None = None,
    current_id: str | None = None,
) -> EmployeePicker:
    vm = EmployeePickerVM(services, on_pick, department=department, current_id=current_id)
    dialog = EmployeePicker(vm=vm, title=title or i18n.tr("dlg.emp.title"))
    dialog.open()
    return dialog


def ask_reason(
    reasons: Sequence[str],
    on_confirm: Callable[[str], str | None],
    *,
    title: str,
    text: str,
    confirm_text: str,
    confirm_icon: str = "cancel",
    preselect: str = "",
) -> ReasonDialog:
    vm = ReasonVM(reasons, on_confirm)
    vm.selected = preselect
    dialog = ReasonDialog(
        vm=vm, title=title, text=text, confirm_text=confirm_text, confirm_icon=confirm_icon
    )
    dialog.open()
    return dialog


def process_contact(vm: ProcessVM) -> ProcessDialog:
    dialog = ProcessDialog(vm=vm, title=i18n.tr("dlg.proc.title"))
    dialog.open()
    return dialog


def _load_kv() -> None:
    from lsnode.ui.screens import load_kv

    load_kv(str(Path(__file__)))


_load_kv()
