"""The waiting queue's view-model without a window: rows, live waiting time, actions, contests.

Each test works on its own copy of one small demo dealership (``traffic_world``) with a fixed
clock; contested actions go to the hub's real compare-and-set over a separate copy of the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lsnode.crm.traffic import LOSS_REASONS
from lsnode.ui import i18n
from lsnode.ui.screens.queue import WAIT_LIMIT_S, WAIT_TARGET_S, QueueVM, wait_clock, wait_tone
from tests.ui.traffic_world import (
    Node,
    OfflineArbiter,
    build_demo,
    demo_copy,
    hub_over,
    own_hub,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("queue") / "demo")


@pytest.fixture(autouse=True)
def _moscow() -> Iterator[None]:
    i18n.set_timezone("Europe/Moscow")
    yield
    i18n.set_timezone(None)


@pytest.fixture
def node(demo: Path, tmp_path: Path) -> Iterator[Node]:
    n = Node(demo_copy(demo, tmp_path / "node"))
    own_hub(n)
    yield n
    n.close()


class Messages:
    def __init__(self, vm: QueueVM) -> None:
        self.seen: list[tuple[str, str]] = []
        vm.bind(on_message=lambda _vm, text, tone: self.seen.append((text, tone)))

    @property
    def last(self) -> tuple[str, str]:
        return self.seen[-1]


def test_rows_show_arrival_live_wait_purpose_client_responsible_and_note(node: Node) -> None:
    client = node.client_with_cars_and_documents()
    tid = node.queue_visit(
        minutes_ago=14.5, client=client, responsible="Петухов В.П.", note="ждёт у стойки"
    )
    node.sign_in("Петухов В.П.")
    vm = QueueVM(node.services)
    assert vm.count == 1 and vm.total == 1
    (row,) = vm.rows
    name = node.services.clients.counterparty(client)["short_name"]  # type: ignore[index]
    assert row["tid"] == tid
    assert row["time_text"] == "11:45"  # 08:45 UTC, in Moscow
    assert (row["wait_text"], row["wait_clock"]) == ("14 мин", "0:14:30")
    assert row["wait_tone"] == "new"  # past the 10-minute target: amber
    assert row["purpose"] and row["client"] == name
    assert (row["responsible"], row["presence"]) == ("Петухов В.П.", "available")
    assert row["note"] == "ждёт у стойки"
    assert row["type_icon"] == "visit"


def test_the_waiting_time_ticks_every_second_and_turns_amber_then_red(node: Node) -> None:
    node.queue_visit(minutes_ago=9)
    vm = QueueVM(node.services)
    assert (vm.rows[0]["wait_clock"], vm.rows[0]["wait_tone"]) == ("0:09:00", "neutral")
    node.clock.advance(seconds=1)
    vm.tick()
    assert vm.rows[0]["wait_clock"] == "0:09:01"
    node.clock.advance(seconds=59)
    vm.tick()
    assert (vm.rows[0]["wait_text"], vm.rows[0]["wait_tone"]) == ("10 мин", "new")
    node.clock.advance(minutes=10)
    vm.tick()
    assert (vm.rows[0]["wait_text"], vm.rows[0]["wait_tone"]) == ("20 мин", "danger")
    node.clock.advance(minutes=45)
    vm.tick()
    assert vm.rows[0]["wait_text"] == "1 ч 05 мин"
    i18n.set_lang("en")
    assert vm.rows[0]["wait_text"] == "1 h 05 min"


def test_wait_helpers() -> None:
    assert wait_tone(WAIT_TARGET_S - 1) == "neutral"
    assert wait_tone(WAIT_TARGET_S) == "new"
    assert wait_tone(WAIT_LIMIT_S) == "danger"
    assert wait_clock(0) == "0:00:00" and wait_clock(3725) == "1:02:05"


def test_department_filter_counts_and_order(node: Node) -> None:
    first = node.queue_visit(department="salon", minutes_ago=20)
    node.queue_visit(department="service", minutes_ago=10)
    second = node.queue_visit(department="salon", minutes_ago=5)
    vm = QueueVM(node.services)
    tabs = {t["code"]: t["n"] for t in vm.tabs}
    assert tabs == {"": 3, "service": 1, "salon": 2, "shop": 0, "feedback": 0, "other": 0}
    assert [t["label"] for t in vm.tabs][:3] == ["ВСЕ", "СЕРВИС", "АВТОСАЛОН"]
    vm.choose_department("salon")
    assert [r["tid"] for r in vm.rows] == [first, second]  # longest waiting first
    assert (vm.count, vm.total) == (2, 3)
    vm.choose_department("")
    assert vm.count == 3
    with pytest.raises(ValueError):
        vm.choose_department("garage")


def test_rights_decide_which_row_actions_are_enabled(node: Node) -> None:
    node.queue_visit()
    vm = QueueVM(node.services)
    assert not vm.signed_in
    assert not any(vm.rows[0][k] for k in ("can_take", "can_assign", "can_lose"))
    node.sign_in("Петухов В.П.")  # a salesman takes, but assigns nobody
    vm.reload()
    assert (vm.can_take, vm.can_assign, vm.can_lose) == (True, False, True)
    node.sign_in("Перязева Н.")  # the secretary hands contacts out
    vm.reload()
    assert (vm.can_take, vm.can_assign, vm.can_lose) == (True, True, True)


def test_take_calls_the_hub_and_the_contact_leaves_the_queue(node: Node) -> None:
    tid = node.queue_visit(minutes_ago=3, responsible="Бадовец А.В.")
    node.sign_in("Петухов В.П.")
    vm = QueueVM(node.services)
    said = Messages(vm)
    assert vm.take(tid) is None
    assert vm.rows == [] and vm.count == 0
    assert said.last[1] == "processed" and said.last[0].startswith("Взят в работу")
    row = node.reader.traffic(tid)
    assert row is not None and (row["status"], row["responsible_name"]) == (
        "in_work",
        "Петухов В.П.",
    )
    assert node.ctx.changes > 0  # the app hears of the write (the agent pushes at once)


def test_two_salesmen_tap_the_same_visitor_one_wins_the_other_sees_who(
    demo: Path, tmp_path: Path
) -> None:
    """Two workstations with their own replicas; the hub decides in arrival order."""
    base = Node(demo_copy(demo, tmp_path / "base"))
    tid = base.queue_visit(minutes_ago=2, responsible="Аминева В.Р.")
    base.close()
    hub, hub_db = hub_over(demo_copy(tmp_path / "base", tmp_path / "hub"))
    a = Node(demo_copy(tmp_path / "base", tmp_path / "a"), arbiter=hub)
    b = Node(demo_copy(tmp_path / "base", tmp_path / "b"), arbiter=hub)
    try:
        a.sign_in("Петухов В.П.")
        b.sign_in("Бадовец А.В.")
        vm_a, vm_b = QueueVM(a.services), QueueVM(b.services)
        said_b = Messages(vm_b)
        assert [r["tid"] for r in vm_b.rows] == [tid]  # B has not heard of A's take yet
        assert vm_a.take(tid) is None
        error = vm_b.take(tid)
        assert error == "Уже взял: Петухов В.П."
        assert said_b.last == ("Уже взял: Петухов В.П.", "danger")
        row_b = b.reader.traffic(tid)
        assert row_b is not None and row_b["status"] == "new"  # the loser changed nothing
        assert [e["action"] for e in b.reader.history(tid)] == ["queue"]
        i18n.set_lang("en")
        assert vm_b.take(tid) == "Already taken by Петухов В.П."
    finally:
        a.close()
        b.close()
        hub_db.close()


def test_offline_take_is_refused_with_the_hubs_message(node: Node) -> None:
    tid = node.queue_visit()
    node.services.traffic.arbiter = OfflineArbiter()
    node.sign_in("Петухов В.П.")
    vm = QueueVM(node.services)
    said = Messages(vm)
    error = vm.take(tid)
    assert error == i18n.tr("ctx.offline") and error.startswith("Нет связи с хабом")
    assert said.last == (error, "danger")
    assert [r["tid"] for r in vm.rows] == [tid]  # still waiting


def test_assign_hands_the_visitor_to_the_chosen_employee(node: Node) -> None:
    tid = node.queue_visit()
    node.sign_in("Перязева Н.")
    vm = QueueVM(node.services)
    said = Messages(vm)
    badovets = node.employee("Бадовец А.В.")["id"]
    assert vm.assign(tid, badovets) is None
    assert said.last == ("Назначен: Бадовец А.В.", "processed")
    assert vm.rows[0]["responsible"] == "Бадовец А.В."  # still waiting, now his
    assert [r["id"] for r in node.reader.inbox(badovets)] == [tid]


def test_a_salesman_cannot_assign_a_colleague(node: Node) -> None:
    tid = node.queue_visit()
    node.sign_in("Петухов В.П.")
    vm = QueueVM(node.services)
    said = Messages(vm)
    error = vm.assign(tid, node.employee("Бадовец А.В.")["id"])
    assert error == "Недостаточно прав для этого действия"
    assert said.seen == []  # the picker shows it; no toast behind the dialog


def test_lost_contact_takes_the_visitor_out_of_the_queue_with_the_reason(node: Node) -> None:
    tid = node.queue_visit(minutes_ago=40)
    node.sign_in("Перязева Н.")
    vm = QueueVM(node.services)
    assert vm.lose(tid, LOSS_REASONS[0]) is None
    assert vm.rows == []
    row: Any = node.reader.traffic(tid)
    assert (row["status"], row["loss_reason"]) == ("lost", "Не дождался в очереди")


def test_not_signed_in_actions_explain_themselves(node: Node) -> None:
    tid = node.queue_visit()
    vm = QueueVM(node.services)
    assert vm.take(tid) == "Сначала войдите по PIN-коду"
