"""«Цели контактов» without a window: only the right sees them, the brochure's grouping, the
«Вкл.» switch, and the edit form's validation messages in the user's language."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database

from lsnode.cli import seed_demo
from lsnode.crm.purposes import PurposeDraft, save_purpose
from lsnode.crm.staff import Session, session_of
from lsnode.errors import InputError
from lsnode.store.changes import Writer
from lsnode.store.db import open_store
from lsnode.store.traffic import SqliteTraffic
from lsnode.ui import i18n
from lsnode.ui.screens.purposes import PurposesVM, explain_purpose_error, grouped_rows


@pytest.fixture(autouse=True)
def _no_kv_rules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """View-model tests draw nothing: a language switch here must not re-run the kv rules of
    widgets that other tests' apps left behind (their ``app`` is gone)."""
    monkeypatch.setattr(i18n.TR, "notify", lambda: None)
    yield
    i18n.set_lang("ru")  # while kv stays quiet; the conftest's reset is then a no-op


class Office:
    def __init__(self, data: Path) -> None:
        self.db: Database = open_store(data)
        self.reader = SqliteTraffic(self.db)
        self.writer = Writer(self.db)
        self.session: Session | None = None
        self.vm = PurposesVM(reader=self.reader, writer=self.writer, session=lambda: self.session)

    def sign_in(self, short_name: str) -> Session:
        emp = next(e for e in self.reader.employees() if e["short_name"] == short_name)
        self.session = session_of(emp)
        self.vm.reload()
        return self.session

    def purpose(self, code: int) -> dict:
        return next(p for p in self.reader.purposes(include_disabled=True) if p["code"] == code)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("purposes") / "demo"
    seed_demo(path, 20, 7, date(2026, 12, 3))
    return path


@pytest.fixture
def office(base: Path, tmp_path: Path) -> Iterator[Office]:
    import shutil

    shutil.copytree(base, tmp_path / "node")
    o = Office(tmp_path / "node")
    yield o
    o.db.close()


def test_only_the_right_sees_the_purposes(office: Office) -> None:
    office.vm.reload()
    assert not office.vm.can_admin and office.vm.rows == []
    office.sign_in("Петухов В.П.")  # a salesman
    assert not office.vm.can_admin and office.vm.rows == []
    office.sign_in("Бектус Е.В.")  # marketing
    assert office.vm.can_admin and office.vm.rows


def test_the_list_is_grouped_by_department_and_direction(office: Office) -> None:
    office.sign_in("Матвеев А.А.")
    rows = office.vm.rows
    assert [r["text"] for r in rows[:2]] == ["СЕРВИС", "Входящие контакты"]
    assert (rows[2]["code"], rows[2]["name"], rows[2]["arrow"]) == ("2", "Ремонт автомобиля", "in")
    groups = [r["text"] for r in rows if r["viewclass"] == "PurposeGroupRow"]
    assert groups[:3] == ["СЕРВИС", "МАГАЗИН", "САЛОН ПРОДАЖ"]
    out = [r for r in rows if r["viewclass"] == "PurposeRow" and r["arrow"] == "out"]
    assert out and all(r["code"] for r in out)
    total = len(office.reader.purposes(include_disabled=True))
    assert office.vm.count_text == f"{total} из {total}"
    # the first purpose shows its card at once, as the brochure's screen does
    assert office.vm.title == "Ремонт автомобиля"
    facts = dict(office.vm.facts)
    assert facts["Краткое наименование"] == "Ремонт"
    assert facts["Требовать информацию о регионе"] == "нет"
    new_car = office.purpose(1)
    office.vm.select(new_car["id"])
    facts = dict(office.vm.facts)
    assert facts["Требовать информацию о марке/модели/классе автомобиля"] == "да"
    assert facts["Дней до автоматического игнорирования, если не обработано"] == "7"
    names = [p["name"] for p in office.vm.responsible]
    named = json.loads(new_car["employee_ids"])
    assert len(names) == len(named) and office.vm.responsible[0]["presence"] in (
        "available", "busy", "away",
    )  # fmt: skip
    i18n.set_lang("en")
    assert dict(office.vm.facts)["Require the region"] == "no"
    assert office.vm.rows[0]["text"] == "SERVICE"


def test_switching_a_purpose_off_hides_it_until_show_hidden(office: Office) -> None:
    office.sign_in("Бектус Е.В.")
    repair = office.purpose(2)
    assert office.vm.toggle_enabled(repair["id"])
    assert not office.purpose(2)["enabled"]
    shown = [r.get("pid") for r in office.vm.rows]
    assert repair["id"] not in shown
    total = len(office.reader.purposes(include_disabled=True))
    assert office.vm.count_text == f"{total - 1} из {total}"
    office.vm.toggle_hidden()
    hidden = next(r for r in office.vm.rows if r.get("pid") == repair["id"])
    assert hidden["enabled"] is False
    assert office.vm.toggle_enabled(repair["id"]) and office.purpose(2)["enabled"]


def test_the_form_says_what_is_wrong_in_the_users_language(office: Office) -> None:
    office.sign_in("Бектус Е.В.")
    form = office.vm.form()
    assert form.title == "Новая цель контакта"
    form.full_name, form.code, form.auto_ignore_days = "  ", "11", "400"
    form.short_name = "x" * 61
    assert not form.save()
    assert form.err_full_name == "Укажите полное наименование цели"
    assert form.err_code == "ID 11 уже занят: «Подтверждение записи на сервис»"
    assert form.err_auto_ignore_days == "Дней до игнорирования: от 1 до 365 или пусто (никогда)"
    assert form.err_short_name == "Краткое наименование: не длиннее 60 знаков"
    assert form.err_form == "Исправьте отмеченные поля"
    form.code = "12a"
    assert not form.save() and form.err_code == "ID цели — число от 1 до 99999"
    before = len(office.reader.purposes(include_disabled=True))
    assert len(office.reader.purposes(include_disabled=True)) == before  # nothing was written


def test_the_form_creates_and_edits_a_purpose(office: Office) -> None:
    office.sign_in("Бектус Е.В.")
    form = office.vm.form()
    form.department, form.direction = "salon", "out"
    form.full_name, form.short_name, form.code = "Предложение визита (салон)", "Визит", "1105"
    form.require_region, form.auto_ignore_days = True, "3"
    people = [p for p in form.people if p["in_department"]]
    assert people and all(p["in_department"] for p in form.people[: len(people)])
    form.toggle_employee(people[0]["id"])
    assert form.people_text == "Выбран 1 сотрудник"
    assert form.save(), form.errors
    saved = office.reader.purpose(form.saved_id)
    assert saved is not None
    assert (saved["code"], saved["department"], saved["direction"]) == (1105, "salon", "out")
    assert saved["require_region"] == 1 and saved["auto_ignore_days"] == 3
    assert json.loads(saved["employee_ids"]) == [people[0]["id"]]
    assert office.vm.selected_id == form.saved_id and office.vm.title == saved["full_name"]

    edit = office.vm.form(form.saved_id)
    assert edit.full_name == "Предложение визита (салон)" and edit.code == "1105"
    assert edit.title == "Цель контакта: Предложение визита (салон)"
    edit.auto_ignore_days, edit.enabled = "", False
    assert edit.save()
    again = office.reader.purpose(form.saved_id)
    assert again is not None and again["auto_ignore_days"] is None and not again["enabled"]


def test_without_the_right_the_form_refuses(office: Office) -> None:
    office.sign_in("Бектус Е.В.")
    form = office.vm.form(office.purpose(2)["id"])
    office.session = office.sign_in("Петухов В.П.")
    form.full_name = "Ремонт"
    assert not form.save() and form.err_form == "Нет права изменять цели контактов"


def test_domain_refusals_are_translated(office: Office) -> None:
    salesman = session_of(
        next(e for e in office.reader.employees() if e["short_name"] == "Петухов В.П.")
    )
    with pytest.raises(InputError) as refused:
        save_purpose(office.writer, office.reader, PurposeDraft("service", "in", "X"), salesman)
    assert explain_purpose_error(refused.value) == {"form": "Нет права изменять цели контактов"}
    with pytest.raises(InputError) as taken:
        save_purpose(office.writer, office.reader, PurposeDraft("service", "in", "X", code=2), None)
    assert explain_purpose_error(taken.value) == {"code": "ID 2 уже занят: «Ремонт автомобиля»"}
    assert grouped_rows([], show_hidden=True) == []
