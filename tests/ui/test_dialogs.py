"""The traffic dialogs' view-models without a window, and the errors in the user's words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lsnode.crm.traffic import IGNORE_REASONS, IllegalTransition, Taken
from lsnode.errors import InputError, NotFound
from lsnode.ui import i18n
from lsnode.ui.context import HubUnavailable
from lsnode.ui.dialogs import (
    EmployeePickerVM,
    ProcessVM,
    ReasonVM,
    describe_error,
    format_money,
    parse_money,
)
from tests.ui.traffic_world import Node, build_demo, demo_copy


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("dialogs") / "demo")


@pytest.fixture
def node(demo: Path, tmp_path: Path) -> Iterator[Node]:
    n = Node(demo_copy(demo, tmp_path / "node"))
    yield n
    n.close()


# -- money --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kop"),
    [
        ("", 0),
        ("270,89", 27089),
        ("270.89", 27089),
        ("2 500 000", 250_000_000),
        ("2\u00a0500\u00a0000,5", 250_000_050),
        ("2,500,000.00", 250_000_000),
        ("1500 ₽", 150_000),
        ("1500 руб.", 150_000),
    ],
)
def test_parse_money(text: str, kop: int) -> None:
    assert parse_money(text) == kop


def test_parse_money_refuses_what_is_not_a_sum_in_the_users_words() -> None:
    with pytest.raises(InputError, match="Сумма не распознана: «12,3,4»"):
        parse_money("12,3,4")
    with pytest.raises(InputError, match="отрицательной"):
        parse_money("-5")


def test_format_money() -> None:
    assert format_money(27089) == "270,89"
    assert format_money(250_000_050) == "2\u00a0500\u00a0000,50"
    assert format_money(250_000_050, "en") == "2,500,000.50"
    assert format_money(None) == ""


# -- errors -------------------------------------------------------------------------------------


def test_errors_read_in_the_users_language() -> None:
    names = {"e1": "Петухов В.П."}.get
    assert describe_error(Taken("already taken by Петухов В.П.", "e1"), names) == (
        "Уже взял: Петухов В.П."
    )
    assert describe_error(Taken("already taken by Х", "e9")) == "Уже взял: Х"
    assert describe_error(Taken("already taken by taken", None)) == (
        "Контакт уже взял другой сотрудник"
    )
    assert describe_error(Taken("already taken by no such row", None)).startswith(
        "Хаб ещё не получил"
    )
    assert describe_error(HubUnavailable("offline")).startswith("Нет связи с хабом")
    assert describe_error(HubUnavailable("timeout")).startswith("Хаб не ответил")
    assert describe_error(IllegalTransition("cannot take a contact that is lost")) == (
        "Контакт уже изменился (сейчас: Упущенный контакт) — действие недоступно"
    )
    assert describe_error(InputError("Петухов В.П.: no right to assign")) == (
        "Недостаточно прав для этого действия"
    )
    assert describe_error(InputError("sign in first")) == "Сначала войдите по PIN-коду"
    assert describe_error(NotFound("no active employee x")) == (
        "Сотрудник не найден или не работает"
    )
    assert describe_error(InputError("reason: at most 200 characters")) == (
        "Причина: не больше 200 символов"
    )
    assert describe_error(InputError("something odd")) == "Не удалось: something odd"
    i18n.set_lang("en")
    assert describe_error(Taken("already taken by Петухов В.П.", "e1"), names) == (
        "Already taken by Петухов В.П."
    )
    assert describe_error(InputError("the sum cannot be negative")) == (
        "The sum cannot be negative"
    )


# -- employee picker ----------------------------------------------------------------------------


def test_employee_picker_puts_the_department_first_with_presence_and_counts(node: Node) -> None:
    picked: list[str] = []
    vm = EmployeePickerVM(
        node.services,
        lambda emp: picked.append(emp) or None,  # type: ignore[func-returns-value]
        department="salon",
        current_id=node.employee("Петухов В.П.")["id"],
    )
    assert vm.only_department and vm.department_text == "АВТОСАЛОН"
    names = [r["name"] for r in vm.rows]
    assert "Петухов В.П." in names and "Аверкин А.Г." not in names  # an adviser of service
    presences = [r["presence"] for r in vm.rows]
    assert presences == sorted(presences, key=["available", "busy", "away"].index)
    petukhov = next(r for r in vm.rows if r["name"] == "Петухов В.П.")
    assert petukhov["current"] and petukhov["detail"] == "1102 · АВТОСАЛОН"
    counts = {r["name"]: r["counts"] for r in vm.rows}
    open_ = node.reader.employee_counts(node.services.day_start())
    badovets = node.employee("Бадовец А.В.")
    if badovets["id"] in open_:
        assert counts["Бадовец А.В."] == "{}/{}".format(*open_[badovets["id"]])
    vm.only_department = False
    assert len(vm.rows) == len(node.reader.employees())
    assert vm.rows[0]["name"] in names  # the department still first
    vm.filter_text = "бад"
    assert [r["name"] for r in vm.rows] == ["Бадовец А.В."]
    vm.filter_text = "1102"
    assert [r["name"] for r in vm.rows] == ["Петухов В.П."]
    assert vm.choose(vm.rows[0]["emp_id"]) is None and picked == [petukhov["emp_id"]]


def test_employee_picker_shows_the_callbacks_error_and_stays(node: Node) -> None:
    vm = EmployeePickerVM(node.services, lambda _emp: "Уже взял: Петухов В.П.")
    assert not vm.only_department  # no department: everyone
    assert vm.choose(vm.rows[0]["emp_id"]) == "Уже взял: Петухов В.П."
    assert vm.error == "Уже взял: Петухов В.П."


# -- reasons ------------------------------------------------------------------------------------


def test_reason_from_the_list_or_in_own_words() -> None:
    got: list[str] = []
    vm = ReasonVM(IGNORE_REASONS, lambda r: got.append(r) or None)  # type: ignore[func-returns-value]
    assert not vm.can_confirm
    assert vm.confirm() == "Выберите причину или впишите свою" and got == []
    vm.pick("Зашел/вышел")
    assert vm.can_confirm and vm.reason == "Зашел/вышел"
    vm.custom = "  спросил   дорогу "
    assert vm.reason == "спросил дорогу"  # typed words win
    vm.pick("Ошибся адресом")
    assert vm.custom == "" and vm.reason == "Ошибся адресом"
    vm.pick("Ошибся адресом")  # a second tap unselects
    assert not vm.can_confirm
    vm.pick("Неудачный контакт")
    assert vm.confirm() is None and got == ["Неудачный контакт"]


# -- processing ---------------------------------------------------------------------------------


def _process(**kw: Any) -> tuple[ProcessVM, list[tuple[Any, ...]]]:
    calls: list[tuple[Any, ...]] = []
    defaults: dict[str, Any] = {
        "department": "service",
        "documents": [
            {"doc_id": "d1", "title": "ЗН 14029", "detail": "", "amount": "270,89", "status": ""}
        ],
        "has_client": True,
        "on_create": lambda *a: calls.append(("create", *a)) or None,
        "on_attach": lambda d: calls.append(("attach", d)) or None,
    }
    defaults.update(kw)
    return ProcessVM(**defaults), calls


def test_process_creates_a_document_of_the_departments_usual_type() -> None:
    vm, calls = _process()
    assert vm.doc_types[0] == "work_order" and vm.doc_type == "work_order"
    assert vm.starts_as == "Документ будет создан в статусе «Открыт»"
    vm.amount_text = "1 234,5"
    vm.doc_no = "ЗН 15001"
    vm.note = "замена колодок"
    assert vm.submit() is None
    assert calls == [("create", "work_order", 123450, "ЗН 15001", "замена колодок")]
    vm.amount_text = "abc"
    assert vm.submit() == "Сумма не распознана: «abc» — пример: 2 500 000,00"
    salon, _ = _process(department="salon")
    assert salon.doc_type == "car_sale"


def test_process_attaches_to_a_chosen_open_document() -> None:
    vm, calls = _process()
    vm.choose_mode("attach")
    assert not vm.can_submit and vm.attach_hint == "Выберите документ"
    vm.choose_doc("d1")
    assert vm.can_submit and vm.documents[0]["selected"]
    assert vm.submit() is None and calls == [("attach", "d1")]
    none, _ = _process(documents=[])
    assert not none.can_attach and none.attach_hint == "У клиента нет незакрытых документов"
    no_client, _ = _process(documents=[], has_client=False)
    assert no_client.attach_hint.startswith("Клиент не указан")


def test_a_failed_process_keeps_the_dialog_with_the_error() -> None:
    vm, _ = _process(on_create=lambda *a: "Недостаточно прав для этого действия")
    assert vm.submit() == "Недостаточно прав для этого действия"
    assert vm.error == "Недостаточно прав для этого действия"
    vm.choose_mode("attach")
    assert vm.error == ""
