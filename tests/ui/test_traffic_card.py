"""The traffic card's view-model without a window: facts, sections, history in words, and which
actions the state machine and the employee's rights enable — each calling the domain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lsnode.crm.staff import rights_of
from lsnode.crm.traffic import TRANSITIONS, Action, TrafficStatus
from lsnode.ui import i18n
from lsnode.ui.screens.traffic_card import (
    CARD_ACTIONS,
    TrafficCardVM,
    card_actions,
    format_duration,
)
from tests.ui.traffic_world import (
    Node,
    build_demo,
    demo_copy,
    hub_over,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("card") / "demo")


@pytest.fixture(autouse=True)
def _moscow() -> Iterator[None]:
    i18n.set_timezone("Europe/Moscow")
    yield
    i18n.set_timezone(None)


@pytest.fixture
def node(demo: Path, tmp_path: Path) -> Iterator[Node]:
    n = Node(demo_copy(demo, tmp_path / "node"))  # no hub: contests are the queue's tests
    yield n
    n.close()


def _card(node: Node, tid: str) -> tuple[TrafficCardVM, list[tuple[str, str]]]:
    vm = TrafficCardVM(node.services)
    said: list[tuple[str, str]] = []
    vm.bind(on_message=lambda _vm, text, tone: said.append((text, tone)))
    vm.open(tid)
    return vm, said


def _enabled(vm: TrafficCardVM) -> set[str]:
    return {a for a in CARD_ACTIONS if getattr(vm, f"can_{a}")}


# -- which actions: the state machine and the rights --------------------------------------------


class _Session:
    def __init__(self, role: str, employee_id: str = "me") -> None:
        self.employee_id = employee_id
        self.rights = rights_of(role)

    def may(self, right: Any) -> bool:
        return right in self.rights


@pytest.mark.parametrize("status", [s.value for s in TrafficStatus])
def test_enabled_actions_follow_the_transition_table(status: str) -> None:
    row = {"status": status, "responsible_id": None}
    got = card_actions(row, _Session("admin"))  # type: ignore[arg-type]
    allowed = {a for (s, a) in TRANSITIONS if s == status}
    assert got["take"] == (Action.TAKE in allowed)
    assert got["reassign"] == (Action.ASSIGN in allowed)
    assert got["process"] == (Action.CREATE_DOCUMENT in allowed)
    assert got["ignore"] == (Action.IGNORE in allowed)
    assert got["cancel"] == (Action.CANCEL in allowed)
    assert got["note"] and not got["dial"]


def test_rights_narrow_the_actions_and_nobody_signed_in_may_do_nothing() -> None:
    new = {"status": "new", "responsible_id": "someone"}
    manager = card_actions(new, _Session("manager"))  # type: ignore[arg-type]
    assert manager["take"] and manager["process"] and not manager["reassign"]
    staff = card_actions(new, _Session("staff"))  # type: ignore[arg-type]
    assert staff["take"] and not staff["reassign"]
    assert not any(card_actions(new, None).values())
    # someone else's contact in work cannot be taken (the hub would refuse it anyway)
    theirs = {"status": "in_work", "responsible_id": "someone"}
    assert not card_actions(theirs, _Session("admin"))["take"]  # type: ignore[arg-type]
    unowned = {"status": "in_work", "responsible_id": None}
    assert card_actions(unowned, _Session("admin"))["take"]  # type: ignore[arg-type]
    assert card_actions(new, _Session("admin"), can_dial=True)["dial"]  # type: ignore[arg-type]


# -- what the card shows ------------------------------------------------------------------------


def test_header_and_sections_of_a_waiting_visit(node: Node) -> None:
    client = node.client_with_cars_and_documents()
    tid = node.queue_visit(
        minutes_ago=5, client=client, responsible="Петухов В.П.", note="ждёт у стойки"
    )
    node.sign_in("Петухов В.П.")
    vm, _ = _card(node, tid)
    assert vm.loaded and not vm.missing
    assert vm.title == "Трафик · ожидает номера"  # numbered by the hub on accept
    assert (vm.type_icon, vm.type_text) == ("visit", "Визит")
    assert vm.when_text == "03.12.2026 11:55"
    assert (vm.status_text, vm.status_tone) == ("Не обработан", "new")
    assert (vm.responsible_text, vm.responsible_presence) == ("Петухов В.П.", "available")
    assert vm.department_text == "АВТОСАЛОН" and vm.purpose_text
    cp: Any = node.services.clients.counterparty(client)
    assert vm.client_text == cp["full_name"]
    facts = dict(vm.registration)
    assert facts["Контакт"] == "Визит · АВТОСАЛОН"
    assert facts["Сотрудник"] == "Денщикова А.А."
    assert dict(vm.outcome)["В очереди ожидания с"] == "03.12.2026 11:55"
    assert dict(vm.client)["Наименование"] == cp["full_name"]
    assert [line["line"] for line in vm.crm_lines] == [
        "Ремонт автомобилей",
        "Продажа запасных частей",
        "Продажа автомобилей",
    ]
    assert vm.cars and {"id", "plate", "year", "mileage", "warranty", "vin", "model"} <= set(
        vm.cars[0]
    )
    assert vm.documents and vm.documents[0]["sum"].endswith(tuple(f",{d:02d}" for d in range(100)))
    assert vm.note == "ждёт у стойки"
    assert vm.history == [
        {
            "when": "03.12.2026 11:55",
            "by": "Денщикова А.А.",
            "what": "Помещён в очередь ожидания, ответственный: Петухов В.П.",
        }
    ]
    assert _enabled(vm) == {"take", "process", "ignore", "note"}
    assert vm.bar_hint == "Набрать: телефония не подключена"


def test_a_numbered_contact_and_an_unknown_one(node: Node) -> None:
    tid = node.queue_visit()
    node.db.execute("UPDATE traffic SET number = 59452 WHERE id = ?", [tid])
    vm, _ = _card(node, tid)
    assert vm.title == "Трафик № 59452"
    assert vm.client_text.startswith("+7 916") and not vm.has_client
    vm.open("no-such-id")
    assert vm.missing and not vm.loaded and _enabled(vm) == set()
    i18n.set_lang("en")
    vm.open(tid)
    assert vm.title == "Traffic no. 59452" and vm.status_text == "Unprocessed"


# -- each action calls the domain ---------------------------------------------------------------


def test_take_then_process_into_a_document_then_cancel(node: Node) -> None:
    client = node.client_with_cars_and_documents()
    tid = node.queue_visit(client=client)
    node.sign_in("Петухов В.П.")
    vm, said = _card(node, tid)
    assert vm.take() is None
    assert said[-1] == ("Взят в работу", "processed")
    assert (vm.status, vm.responsible_text) == ("in_work", "Петухов В.П.")
    assert _enabled(vm) == {"process", "ignore", "note"}  # his now: nothing to take
    process = vm.process_vm()
    process.doc_type = "car_sale"
    process.amount_text = "2 500 000,50"
    process.doc_no = "ДК 7781"
    assert process.submit() is None
    assert vm.status == "document_created" and vm.status_tone == "processed"
    row: Any = node.reader.traffic(tid)
    doc: Any = node.reader.document(row["document_id"])
    assert (doc["doc_no"], doc["amount_kop"], doc["doc_type"]) == (
        "ДК 7781",
        250_000_050,
        "car_sale",
    )
    assert dict(vm.outcome)["Документ"] == "ДК 7781"
    assert vm.history[0]["what"] == "Создан документ ДК 7781"
    assert _enabled(vm) == {"cancel", "note"}
    assert vm.cancel() is None
    assert vm.status == "in_work"
    assert vm.history[0]["what"] == "Обработка отменена (было: Создан документ)"


def test_attach_to_one_of_the_clients_open_documents(node: Node) -> None:
    client = node.client_with_cars_and_documents()
    tid = node.queue_visit(client=client)
    node.sign_in("Петухов В.П.")
    vm, _ = _card(node, tid)
    process = vm.process_vm()
    assert process.can_attach and process.documents
    process.choose_mode("attach")
    assert not process.can_submit
    doc_id = process.documents[0]["doc_id"]
    process.choose_doc(doc_id)
    assert process.can_submit and process.submit() is None
    assert vm.status == "document_attached"
    assert [d["mark"] for d in vm.documents if d["doc_id"] == doc_id] == [True]
    assert vm.history[0]["what"].startswith("Прикреплен к документу")


def test_ignore_with_a_reason_and_cancel_back_to_work(node: Node) -> None:
    tid = node.queue_visit()
    node.sign_in("Перязева Н.")
    vm, said = _card(node, tid)
    assert vm.ignore("Зашел/вышел") is None
    assert (vm.status_text, vm.status_tone) == ("Проигнорирован", "ignored")
    assert dict(vm.outcome)["Причина игнорирования"] == "Зашел/вышел"
    assert vm.history[0] == {
        "when": "03.12.2026 12:00",
        "by": "Перязева Н.",
        "what": "Проигнорирован: Зашел/вышел",
    }
    assert said[-1] == ("Контакт проигнорирован", "processed")
    assert (
        vm.ignore("ещё раз")
        == "Контакт уже изменился (сейчас: Проигнорирован) — действие недоступно"
    )


def test_reassign_and_the_history_names_both(node: Node) -> None:
    tid = node.queue_visit(responsible="Петухов В.П.")
    node.sign_in("Петухов В.П.")
    vm, _ = _card(node, tid)
    assert vm.take() is None
    node.sign_in("Перязева Н.")
    vm.reload()
    assert vm.can_reassign
    assert vm.reassign(node.employee("Бадовец А.В.")["id"]) is None
    assert vm.responsible_text == "Бадовец А.В." and vm.status == "new"
    assert vm.history[0]["what"] == "Переназначен: Петухов В.П. → Бадовец А.В."
    assert vm.switches and vm.switches[0]["who"] == "Петухов В.П. → Бадовец А.В."


def test_the_note_is_editable(node: Node) -> None:
    tid = node.queue_visit()
    node.sign_in("Петухов В.П.")
    vm, said = _card(node, tid)
    assert vm.save_note("Перезвонить после 15:00") is None
    assert vm.note == "Перезвонить после 15:00" and said[-1][0] == "Примечание сохранено"
    assert vm.history[0]["what"] == "Изменено примечание"
    assert vm.save_note("x" * 2001) == "Примечание: не больше 2000 символов"


def test_a_lost_take_names_the_winner(demo: Path, tmp_path: Path) -> None:
    base = Node(demo_copy(demo, tmp_path / "base"))
    tid = base.queue_visit()
    base.close()
    hub, hub_db = hub_over(demo_copy(tmp_path / "base", tmp_path / "hub"))
    a = Node(demo_copy(tmp_path / "base", tmp_path / "a"), arbiter=hub)
    b = Node(demo_copy(tmp_path / "base", tmp_path / "b"), arbiter=hub)
    try:
        a.sign_in("Петухов В.П.")
        b.sign_in("Бадовец А.В.")
        card_a, _ = _card(a, tid)
        card_b, said_b = _card(b, tid)
        assert card_a.take() is None
        assert card_b.take() == "Уже взял: Петухов В.П."
        assert said_b[-1] == ("Уже взял: Петухов В.П.", "danger")
        assert card_b.status == "new"  # its replica has not heard yet; nothing was written
    finally:
        a.close()
        b.close()
        hub_db.close()


def test_dial_is_enabled_only_with_a_telephony_hook(node: Node) -> None:
    tid = node.queue_visit(phone="+7 925 111-22-33")
    node.sign_in("Петухов В.П.")
    vm, said = _card(node, tid)
    assert not vm.can_dial
    calls: list[tuple[str, dict[str, Any]]] = []
    node.services.dial = lambda phone, **kw: calls.append((phone, kw))  # type: ignore[attr-defined]
    vm.reload()
    assert vm.can_dial and vm.bar_hint == ""
    assert vm.dial() is None
    assert calls == [("+7 925 111-22-33", {"counterparty_id": None, "traffic_id": tid})]
    assert said[-1][0] == "Набираем +7 925 111-22-33…"


def test_duration_format() -> None:
    assert format_duration(None) == ""
    assert format_duration(158) == "02:38"
    assert format_duration(3758) == "1:02:38"
