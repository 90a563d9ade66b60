"""«Цели контактов»: the contact purposes, as the brochure's administration screen shows them.

The list is grouped by department (СЕРВИС, МАГАЗИН, САЛОН ПРОДАЖ, ОБРАТНАЯ СВЯЗЬ, ПРОЧЕЕ) and
direction («Входящие контакты» →, «Исходящие контакты» ←) with each purpose's ID, name and «Вкл.»
switch; «Показать скрытые» adds the switched-off ones. The selected purpose shows its full and
short names, «Требовать информацию о марке\\модели\\классе автомобиля», «Требовать информацию о
регионе», «Дней до автоматического игнорирования, если не обработано» and its responsible
employees with their presence. «Добавить» / «Изменить» open the edit dialog; saving goes through
``lsnode.crm.purposes.save_purpose`` after the form has checked every field in the user's
language.

Only an employee with ``Right.ADMIN_PURPOSES`` sees it: the rail item is registered with that
right (``NavVM.rights``) and the screen itself shows a notice to anyone else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

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
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from lsnode.crm.purposes import PurposeDraft, draft_of, responsible_for, save_purpose
from lsnode.crm.staff import Right, Session
from lsnode.errors import InputError, LsnodeError, NotFound
from lsnode.store.ports import Row, StaffReader
from lsnode.ui import i18n
from lsnode.ui.screens import LsScreen, load_kv, register

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "purposes.title": ("Цели контактов", "Contact purposes"),
    "purposes.rail": ("Цели", "Purposes"),
    "purposes.show_hidden": ("Показать скрытые", "Show hidden"),
    "purposes.add": ("Добавить", "Add"),
    "purposes.edit": ("Изменить", "Edit"),
    "purposes.count": ("{n} из {total}", "{n} of {total}"),
    "purposes.col.id": ("ID", "ID"),
    "purposes.col.name": ("Наименование", "Name"),
    "purposes.col.on": ("Вкл.", "On"),
    "purposes.dept.service": ("СЕРВИС", "SERVICE"),
    "purposes.dept.shop": ("МАГАЗИН", "PARTS SHOP"),
    "purposes.dept.salon": ("САЛОН ПРОДАЖ", "SALES"),
    "purposes.dept.feedback": ("ОБРАТНАЯ СВЯЗЬ", "FEEDBACK"),
    "purposes.dept.other": ("ПРОЧЕЕ", "OTHER"),
    "purposes.dir.in": ("Входящие контакты", "Incoming contacts"),
    "purposes.dir.out": ("Исходящие контакты", "Outgoing contacts"),
    "purposes.direction.in": ("Входящий", "Incoming"),
    "purposes.direction.out": ("Исходящий", "Outgoing"),
    "purposes.full_name": ("Полное наименование", "Full name"),
    "purposes.short_name": ("Краткое наименование", "Short name"),
    "purposes.code": ("ID", "ID"),
    "purposes.department": ("Отдел", "Department"),
    "purposes.direction": ("Направление", "Direction"),
    "purposes.enabled": ("Включена", "Enabled"),
    "purposes.disabled": ("Выключена", "Switched off"),
    "purposes.require_car": (
        "Требовать информацию о марке/модели/классе автомобиля",
        "Require the car's make/model/class",
    ),
    "purposes.require_region": ("Требовать информацию о регионе", "Require the region"),
    "purposes.days": (
        "Дней до автоматического игнорирования, если не обработано",
        "Days until ignored automatically if not processed",
    ),
    "purposes.days_hint": ("пусто — никогда", "empty — never"),
    "purposes.days_never": ("никогда", "never"),
    "purposes.yes": ("да", "yes"),
    "purposes.no": ("нет", "no"),
    "purposes.responsible": ("Ответственные сотрудники", "Responsible employees"),
    "purposes.responsible_all": (
        "Не указаны: отвечают все сотрудники отдела",
        "None named: the whole department is responsible",
    ),
    "purposes.responsible_n": (
        "Выбран {n} сотрудник|Выбрано {n} сотрудника|Выбрано {n} сотрудников",
        "{n} employee chosen|{n} employees chosen",
    ),
    "purposes.new_title": ("Новая цель контакта", "New contact purpose"),
    "purposes.edit_title": ("Цель контакта", "Contact purpose"),
    "purposes.save": ("Сохранить", "Save"),
    "purposes.saved": ("Цель «{name}» сохранена", "Purpose “{name}” saved"),
    "purposes.pick": ("Выберите цель слева", "Pick a purpose on the left"),
    "purposes.no_right": (
        "Цели контактов настраивают администратор и маркетолог",
        "Contact purposes are set up by an administrator or marketing",
    ),
    "purposes.err.full_name": (
        "Укажите полное наименование цели",
        "Type the purpose's full name",
    ),
    "purposes.err.full_name_long": (
        "Полное наименование: не длиннее 200 знаков",
        "Full name: at most 200 characters",
    ),
    "purposes.err.short_name_long": (
        "Краткое наименование: не длиннее 60 знаков",
        "Short name: at most 60 characters",
    ),
    "purposes.err.code": ("ID цели — число от 1 до 99999", "The ID is a number from 1 to 99999"),
    "purposes.err.code_taken": ("ID {code} уже занят: «{name}»", "ID {code} is already “{name}”"),
    "purposes.err.days": (
        "Дней до игнорирования: от 1 до 365 или пусто (никогда)",
        "Days until ignored: 1 to 365, or empty for never",
    ),
    "purposes.err.no_right": (
        "Нет права изменять цели контактов",
        "No right to change contact purposes",
    ),
    "purposes.err.other": ("Не сохранено: {detail}", "Not saved: {detail}"),
    "purposes.err.form": ("Исправьте отмеченные поля", "Fix the marked fields"),
}
i18n.register(STRINGS)

#: The brochure's order of departments on this screen.
DEPARTMENT_ORDER = ("service", "shop", "salon", "feedback", "other")
FORM_FIELDS = ("full_name", "short_name", "code", "auto_ignore_days", "form")


# --- the list ---------------------------------------------------------------------------------


def grouped_rows(
    purposes: list[Row], show_hidden: bool, selected_id: str | None = None
) -> list[dict[str, Any]]:
    """The RecycleView's rows: a department header, a direction sub-header, the purposes."""
    rows: list[dict[str, Any]] = []
    for dept in DEPARTMENT_ORDER:
        mine = [p for p in purposes if p["department"] == dept and (show_hidden or p["enabled"])]
        if not mine:
            continue
        rows.append({"viewclass": "PurposeGroupRow", "text": i18n.tr(f"purposes.dept.{dept}")})
        for direction in ("in", "out"):
            these = [p for p in mine if p["direction"] == direction]
            if not these:
                continue
            rows.append(
                {"viewclass": "PurposeDirRow", "text": i18n.tr(f"purposes.dir.{direction}")}
            )
            these.sort(key=lambda p: (p["code"] is None, p["code"] or 0, p["full_name"]))
            for p in these:
                rows.append(
                    {
                        "viewclass": "PurposeRow",
                        "pid": p["id"],
                        "arrow": direction,
                        "code": "" if p["code"] is None else str(p["code"]),
                        "name": p["full_name"],
                        "enabled": bool(p["enabled"]),
                        "selected": p["id"] == selected_id,
                    }
                )
    return rows


class PurposesVM(EventDispatcher):  # type: ignore[misc]
    """The list, the selected purpose's facts, and the «Вкл.» switch.

    ``reader`` is ``SqliteTraffic`` (``purposes``, ``purpose``, ``employees``); ``writer`` the
    app's writer; ``session`` returns the signed-in ``Session``."""

    rows = ListProperty([])
    show_hidden = BooleanProperty(False)
    selected_id: Any = ObjectProperty(None, allownone=True)
    count_text = StringProperty("")
    can_admin = BooleanProperty(False)
    error_text = StringProperty("")
    # the selected purpose, as the right-hand panel shows it
    title = StringProperty("")
    facts = ListProperty([])  # [(label, value)]
    responsible = ListProperty([])  # [{"name", "presence"}]
    responsible_note = StringProperty("")

    def __init__(
        self, *, reader: Any, writer: Any, session: Callable[[], Session | None], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.reader, self.writer, self._session = reader, writer, session
        self.purposes: list[Row] = []
        self._staff = _Staff([])
        i18n.on_lang_change(self._on_lang)  # re-words from what was read: no store access

    @property
    def session(self) -> Session | None:
        return self._session()

    def reload(self) -> None:
        session = self.session
        self.can_admin = bool(session and session.may(Right.ADMIN_PURPOSES))
        if not self.can_admin:
            self.purposes, self.rows, self.count_text = [], [], ""
            self._detail()
            return
        self.purposes = self.reader.purposes(include_disabled=True)
        self._staff = _Staff(self.reader.employees())
        if self.selected_id and not any(p["id"] == self.selected_id for p in self.purposes):
            self.selected_id = None
        if self.selected_id is None:  # the first one shows its card, as in the brochure
            first = grouped_rows(self.purposes, self.show_hidden)
            self.selected_id = next((r["pid"] for r in first if "pid" in r), None)
        self._rebuild()

    def _rebuild(self) -> None:
        self.rows = grouped_rows(self.purposes, self.show_hidden, self.selected_id)
        shown = sum(1 for r in self.rows if r["viewclass"] == "PurposeRow")
        self.count_text = i18n.tr("purposes.count", n=shown, total=len(self.purposes))
        self._detail()

    def _on_lang(self, _lang: str) -> None:
        if self.can_admin:
            self._rebuild()

    def toggle_hidden(self) -> None:
        self.show_hidden = not self.show_hidden
        self._rebuild()

    def select(self, purpose_id: str) -> None:
        self.selected_id = purpose_id
        for row in self.rows:
            if row["viewclass"] == "PurposeRow":
                row["selected"] = row["pid"] == purpose_id
        self.property("rows").dispatch(self)
        self._detail()

    def selected(self) -> Row | None:
        return next((p for p in self.purposes if p["id"] == self.selected_id), None)

    def _detail(self) -> None:
        p = self.selected()
        if p is None:
            self.title, self.facts, self.responsible, self.responsible_note = "", [], [], ""
            return
        yes, no = i18n.tr("purposes.yes"), i18n.tr("purposes.no")
        days = p["auto_ignore_days"]
        self.title = p["full_name"]
        self.facts = [
            (i18n.tr("purposes.full_name"), p["full_name"]),
            (i18n.tr("purposes.short_name"), p["short_name"]),
            (i18n.tr("purposes.code"), "" if p["code"] is None else str(p["code"])),
            (i18n.tr("purposes.department"), i18n.tr(f"purposes.dept.{p['department']}")),
            (i18n.tr("purposes.direction"), i18n.tr(f"purposes.direction.{p['direction']}")),
            (
                i18n.tr("purposes.enabled"),
                yes if p["enabled"] else no,
            ),
            (i18n.tr("purposes.require_car"), yes if p["require_car"] else no),
            (i18n.tr("purposes.require_region"), yes if p["require_region"] else no),
            (i18n.tr("purposes.days"), str(days) if days else i18n.tr("purposes.days_never")),
        ]
        people = responsible_for(p, cast(StaffReader, self._staff))
        named = json.loads(p["employee_ids"] or "[]")
        self.responsible = [{"name": e["short_name"], "presence": e["presence"]} for e in people]
        self.responsible_note = "" if named else i18n.tr("purposes.responsible_all")

    def toggle_enabled(self, purpose_id: str) -> bool:
        """The list's «Вкл.» switch; returns whether it was saved (else ``error_text``)."""
        row = self.reader.purpose(purpose_id)
        if row is None:
            return False
        draft = draft_of(row)
        draft = PurposeDraft(**{**_draft_dict(draft), "enabled": not draft.enabled})
        try:
            save_purpose(self.writer, self.reader, draft, self.session, purpose_id)
        except LsnodeError as exc:
            self.error_text = explain_purpose_error(exc)["form"]
            return False
        self.error_text = ""
        self.reload()
        return True

    def form(self, purpose_id: str | None = None) -> PurposeFormVM:
        """The edit dialog's view-model: a new purpose, or the one given."""
        return PurposeFormVM(
            reader=self.reader,
            writer=self.writer,
            session=self._session,
            purpose_id=purpose_id,
            on_saved=self._saved,
        )

    def _saved(self, purpose_id: str) -> None:
        self.selected_id = purpose_id
        self.reload()


class _Staff:
    """The employees read with the purposes (``responsible_for`` asks only for these)."""

    def __init__(self, employees: list[Row]) -> None:
        self._employees = employees

    def employees(self, active_only: bool = True) -> list[Row]:
        return self._employees


def _draft_dict(draft: PurposeDraft) -> dict[str, Any]:
    return {name: getattr(draft, name) for name in PurposeDraft.__slots__}


def explain_purpose_error(error: BaseException) -> dict[str, str]:
    """The domain's (English) refusal as {field: message in the user's language}."""
    text = str(error)
    if isinstance(error, InputError) and "no right" in text:
        return {"form": i18n.tr("purposes.err.no_right")}
    if "full name" in text:
        return {"full_name": i18n.tr("purposes.err.full_name")}
    if "short name" in text:
        return {"short_name": i18n.tr("purposes.err.short_name_long")}
    if "already «" in text and text.startswith("ID "):
        code = text.split()[1]
        name = text.split("«", 1)[1].rstrip("»")
        return {"code": i18n.tr("purposes.err.code_taken", code=code, name=name)}
    if "ID is a number" in text:
        return {"code": i18n.tr("purposes.err.code")}
    if "auto-ignore" in text:
        return {"auto_ignore_days": i18n.tr("purposes.err.days")}
    return {"form": i18n.tr("purposes.err.other", detail=text)}


# --- the edit dialog's form ----------------------------------------------------------------------


class PurposeFormVM(EventDispatcher):  # type: ignore[misc]
    """What the edit dialog holds: texts as typed, choices as picked, a message per field."""

    department = StringProperty("service")
    direction = StringProperty("in")
    code = StringProperty("")
    full_name = StringProperty("")
    short_name = StringProperty("")
    enabled = BooleanProperty(True)
    require_car = BooleanProperty(False)
    require_region = BooleanProperty(False)
    auto_ignore_days = StringProperty("")
    employee_ids = ListProperty([])
    errors = DictProperty({})
    # the same messages, one property per field (kv binds to these)
    err_full_name = StringProperty("")
    err_short_name = StringProperty("")
    err_code = StringProperty("")
    err_auto_ignore_days = StringProperty("")
    err_form = StringProperty("")
    title = StringProperty("")
    people = ListProperty([])  # [{"id", "name", "presence", "chosen", "in_department"}]
    people_text = StringProperty("")
    saved_id = StringProperty("")
    version = NumericProperty(0)  # bumps when the people list's ticks change

    def __init__(
        self,
        *,
        reader: Any,
        writer: Any,
        session: Callable[[], Session | None],
        purpose_id: str | None = None,
        on_saved: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.reader, self.writer, self._session = reader, writer, session
        self.purpose_id, self.on_saved = purpose_id, on_saved
        row = reader.purpose(purpose_id) if purpose_id else None
        if purpose_id and row is None:
            raise NotFound(f"no contact purpose {purpose_id}")
        if row is not None:
            d = draft_of(row)
            self.department, self.direction = d.department, d.direction
            self.code = "" if d.code is None else str(d.code)
            self.full_name, self.short_name = d.full_name, d.short_name
            self.enabled, self.require_car = d.enabled, d.require_car
            self.require_region = d.require_region
            self.auto_ignore_days = "" if d.auto_ignore_days is None else str(d.auto_ignore_days)
            self.employee_ids = list(d.employee_ids)
            self.title = f"{i18n.tr('purposes.edit_title')}: {d.full_name}"
        else:
            self.title = i18n.tr("purposes.new_title")
        self.fbind("department", self._people)
        self.fbind("errors", self._errors)
        self._people()

    def _errors(self, *_: Any) -> None:
        for name in FORM_FIELDS:
            setattr(self, f"err_{name}", self.errors.get(name, ""))

    def _people(self, *_: Any) -> None:
        chosen = set(self.employee_ids)
        employees = self.reader.employees()
        people = [
            {
                "id": e["id"],
                "name": e["short_name"],
                "presence": e["presence"],
                "chosen": e["id"] in chosen,
                "in_department": self.department in json.loads(e["departments"] or "[]"),
            }
            for e in employees
        ]
        # the department's own people first, then the rest, each by name
        people.sort(key=lambda p: (not p["in_department"], p["name"]))
        self.people = people
        n = len(chosen)
        self.people_text = (
            i18n.tr("purposes.responsible_n", n=n) if n else i18n.tr("purposes.responsible_all")
        )
        self.version += 1

    def toggle_employee(self, employee_id: str) -> None:
        ids = list(self.employee_ids)
        if employee_id in ids:
            ids.remove(employee_id)
        else:
            ids.append(employee_id)
        self.employee_ids = ids
        self._people()

    def validate(self) -> tuple[PurposeDraft | None, dict[str, str]]:
        """The draft, or the message for each field that is wrong (user's language)."""
        errors: dict[str, str] = {}
        full = " ".join(self.full_name.split())
        if not full:
            errors["full_name"] = i18n.tr("purposes.err.full_name")
        elif len(full) > 200:
            errors["full_name"] = i18n.tr("purposes.err.full_name_long")
        short = " ".join(self.short_name.split())
        if len(short) > 60:
            errors["short_name"] = i18n.tr("purposes.err.short_name_long")
        code: int | None = None
        if self.code.strip():
            text = self.code.strip()
            if not text.isdigit() or not 0 < int(text) < 100_000:
                errors["code"] = i18n.tr("purposes.err.code")
            else:
                code = int(text)
                for p in self.reader.purposes(include_disabled=True):
                    if p["code"] == code and p["id"] != self.purpose_id:
                        errors["code"] = i18n.tr(
                            "purposes.err.code_taken", code=code, name=p["full_name"]
                        )
        days: int | None = None
        if self.auto_ignore_days.strip():
            text = self.auto_ignore_days.strip()
            if not text.isdigit() or not 1 <= int(text) <= 365:
                errors["auto_ignore_days"] = i18n.tr("purposes.err.days")
            else:
                days = int(text)
        session = self._session()
        if session is None or not session.may(Right.ADMIN_PURPOSES):
            errors["form"] = i18n.tr("purposes.err.no_right")
        if errors:
            if "form" not in errors:
                errors["form"] = i18n.tr("purposes.err.form")
            return None, errors
        return (
            PurposeDraft(
                department=self.department,
                direction=self.direction,
                full_name=full,
                short_name=short,
                code=code,
                enabled=self.enabled,
                require_car=self.require_car,
                require_region=self.require_region,
                auto_ignore_days=days,
                employee_ids=tuple(self.employee_ids),
            ),
            {},
        )

    def save(self) -> bool:
        """Check, then ``save_purpose``; on success ``saved_id`` is set and ``on_saved`` runs."""
        draft, errors = self.validate()
        if draft is None:
            self.errors = errors
            return False
        try:
            purpose_id = save_purpose(
                self.writer, self.reader, draft, self._session(), self.purpose_id
            )
        except LsnodeError as exc:
            errors = explain_purpose_error(exc)
            errors.setdefault("form", i18n.tr("purposes.err.form"))
            self.errors = errors
            return False
        self.errors = {}
        self.purpose_id = purpose_id
        self.saved_id = purpose_id
        if self.on_saved is not None:
            self.on_saved(purpose_id)
        return True


# --- widgets ----------------------------------------------------------------------------------


class PurposeRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    pid = StringProperty("")
    arrow = StringProperty("")
    code = StringProperty("")
    name = StringProperty("")
    enabled = BooleanProperty(True)
    selected = BooleanProperty(False)
    screen: Any = ObjectProperty(None, allownone=True)

    def refresh_view_attrs(self, rv: Any, index: int, data: dict[str, Any]) -> None:
        self.screen = rv.screen
        super().refresh_view_attrs(rv, index, data)

    def on_release(self) -> None:
        if self.screen is not None:
            self.screen.vm.select(self.pid)

    def toggle(self) -> None:
        if self.screen is not None:
            self.screen.toggle_enabled(self.pid)


class PurposeGroupRow(RecycleDataViewBehavior, BoxLayout):  # type: ignore[misc]
    text = StringProperty("")


class PurposeDirRow(RecycleDataViewBehavior, BoxLayout):  # type: ignore[misc]
    text = StringProperty("")


class PersonRow(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A responsible employee in the dialog: presence dot, name, tick."""

    eid = StringProperty("")
    name = StringProperty("")
    presence = StringProperty("away")
    chosen = BooleanProperty(False)
    own = BooleanProperty(True)  # of the purpose's department


class PurposeDialog(ModalView):  # type: ignore[misc]
    """Create / edit a purpose (the brochure's card of «Покупка нового автомобиля»)."""

    form: Any = ObjectProperty(None, rebind=True)
    on_done: Callable[[str], None] | None = None

    def on_form(self, _inst: Any, form: PurposeFormVM) -> None:
        form.fbind("version", self._people)
        self._people()

    def _people(self, *_: Any) -> None:
        box = self.ids.get("people")
        if box is None or self.form is None:
            return
        rows = list(reversed(box.children))
        people = self.form.people
        if [r.eid for r in rows] != [p["id"] for p in people]:  # a new order: new rows
            box.clear_widgets()
            rows = []
            for p in people:
                row = PersonRow(eid=p["id"])
                row.bind(on_release=lambda r: self.form.toggle_employee(r.eid))
                box.add_widget(row)
                rows.append(row)
        for row, p in zip(rows, people, strict=True):  # a tick changed: update in place
            row.name, row.presence = p["name"], p["presence"]
            row.chosen, row.own = p["chosen"], p["in_department"]

    def on_kv_post(self, _base: Any) -> None:
        self._people()

    def save(self) -> None:
        ids = self.ids
        form = self.form
        form.code, form.full_name = ids.code.text, ids.full_name.text
        form.short_name, form.auto_ignore_days = ids.short_name.text, ids.days.text
        if form.save():
            self.dismiss()
            if self.on_done is not None:
                self.on_done(form.saved_id)


def _children(box: Any, n: int, make: Callable[[], Any]) -> list[Any]:
    """``n`` children of ``box`` in order, reusing the ones there (building widgets is the
    slow part of a kv screen; re-setting their texts is not)."""
    have = list(reversed(box.children))
    for extra in have[n:]:
        box.remove_widget(extra)
    for _ in range(n - len(have)):
        box.add_widget(make())  # a kv dynamic class: its properties exist after init
    return list(reversed(box.children))


load_kv(__file__)


class PurposesScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        services = app.services
        assert services is not None
        vm = PurposesVM(
            reader=services.reader, writer=services.writer, session=lambda: services.session
        )
        super().__init__(app, vm=vm, **kwargs)
        services.on_session.append(self._session_changed)

    def on_kv_post(self, _base: Any) -> None:
        self.ids.rv.screen = self
        self.vm.fbind("facts", self._fill)
        self.vm.fbind("responsible", self._fill)
        self._fill()

    def _fill(self, *_: Any) -> None:
        """The selected purpose's facts and responsible employees (widgets reused)."""
        lines = _children(self.ids.facts, len(self.vm.facts), Factory.FactLine)
        for line, (label, value) in zip(lines, self.vm.facts, strict=True):
            line.label, line.value = label, value
        chips = _children(self.ids.people, len(self.vm.responsible), Factory.PersonChip)
        for chip, person in zip(chips, self.vm.responsible, strict=True):
            chip.name, chip.presence = person["name"], person["presence"]

    def _session_changed(self, _session: Any) -> None:
        self.stale = True
        if self.manager is not None and self.manager.current == self.name:
            self.refresh()

    def refresh(self) -> None:
        self.vm.reload()

    def toggle_enabled(self, purpose_id: str) -> None:
        if not self.vm.toggle_enabled(purpose_id):
            self.app.toast(self.vm.error_text)

    def open_editor(self, purpose_id: str | None = None) -> PurposeDialog:
        dialog = PurposeDialog(form=self.vm.form(purpose_id))
        dialog.on_done = lambda _pid: self.app.toast(
            i18n.tr("purposes.saved", name=dialog.form.full_name), "processed"
        )
        dialog.open()
        return dialog


register(
    "purposes",
    lambda app: PurposesScreen(app),
    label="purposes.rail",
    icon="target",
    order=85,  # after Отчёты, before Настройки
    right=Right.ADMIN_PURPOSES.value,
)
