"""The waiting queue and the traffic card rendered offscreen in the real shell, driven by taps:
take from the queue, lose a contest, mark a visitor lost, assign one; ignore with a reason and
process into a document from the card.

Each test mounts a ``WorkstationApp`` (sync off) on its own copy of a small demo dealership with
visitors waiting, signs an employee in, and lets the app's own store decide contests (the hub's
compare-and-set, ``SqliteHubStore.intent``) — the real two-process contest is the end-to-end
test's. Only the screens under test are loaded, so other screens' work does not leak in.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kivy.tests.common import UnitTestTouch

from lsnode.crm.traffic import Claim
from lsnode.sync.stores import SqliteHubStore
from lsnode.ui import i18n, screens
from lsnode.ui.app import WorkstationApp
from lsnode.ui.harness import Harness
from tests.ui.traffic_world import HubArbiter, Node, build_demo, demo_copy

MINE = ("settings", "queue", "traffic_card")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("queue-render") / "demo")


class World:
    def __init__(self, harness: Harness, visits: dict[str, str]) -> None:
        self.h = harness
        self.app: Any = harness.app
        self.visits = visits

    def tap(self, widget: Any, *, settle: bool = True, scrolled: bool = False) -> None:
        """A finger down and up on ``widget``. Inside a scrolling list (``scrolled``) the
        ScrollView hands the release on only after its short delay: frames run until it has."""
        if settle:
            self.h.settle()
        x, y = widget.to_window(widget.center_x, widget.center_y)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.h.pump(1)
        touch.touch_up()
        end = time.monotonic() + (0.25 if scrolled else 0)
        while time.monotonic() < end:
            self.h.pump(1)
            time.sleep(0.01)
        self.h.pump(2)

    def sign_in(self, short_name: str) -> None:
        emp = next(e for e in self.app.services.reader.employees() if e["short_name"] == short_name)
        self.app.services.sign_in(emp["id"], "1234")
        self.app.shell.employee_name = short_name
        inbox = getattr(self.app, "inbox", None)
        if inbox is not None:  # its ВХОДЯЩИЙ КОНТАКТ cards would cover the rows: not tested here
            inbox.stop()
        self.app.popups.clear()
        self.h.pump(2)

    def employee_id(self, short_name: str) -> str:
        return str(
            next(
                e["id"]
                for e in self.app.services.reader.employees()
                if e["short_name"] == short_name
            )
        )

    @property
    def queue(self) -> Any:
        return self.app.screen("queue")

    @property
    def card(self) -> Any:
        return self.app.screen("traffic_card")

    def row(self, tid: str) -> Any:
        self.h.settle()
        views = self.queue.ids.rv.layout_manager.children
        return next(v for v in views if v.tid == tid)

    def tap_row(self, tid: str, cls: str = "", text: str = "", *, button_id: str = "") -> None:
        """Tap a row's button (or the row): found and touched with no frame in between, as
        the list re-binds its views every second."""
        row = self.row(tid)
        target = row
        if button_id:
            target = row.ids[button_id]
        elif cls:
            target = self.button(row, cls, text)
        self.tap(target, settle=False, scrolled=True)

    def button(self, parent: Any, cls: str, text: str = "") -> Any:
        return next(
            w
            for w in parent.walk(restrict=True)
            if type(w).__name__ == cls and (not text or getattr(w, "text", "") == text)
        )

    def dialog(self, cls: str) -> Any:
        self.h.pump(10)  # the open animation
        return next(w for w in self.h.window.children if type(w).__name__ == cls)

    @property
    def toast(self) -> str:
        return str(self.app.root.ids.toast.text)


@pytest.fixture
def world(
    window: object, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    data = demo_copy(demo, tmp_path / "node")
    node = Node(data)
    client = node.client_with_cars_and_documents()
    visits = {
        "ivanov": node.queue_visit(
            minutes_ago=25, client=client, responsible="Аминева В.Р.", note="ждёт у стойки"
        ),
        "walk_in": node.queue_visit(minutes_ago=4, department="service"),
    }
    node.close()

    def load_mine() -> list[screens.ScreenSpec]:
        for name in MINE:  # these must load
            importlib.import_module(f"lsnode.ui.screens.{name}")
        for info in pkgutil.iter_modules(screens.__path__):
            if not info.name.startswith("_") and info.name not in MINE:
                try:  # the shell's own (sign-in …); a screen still being written stays out
                    importlib.import_module(f"lsnode.ui.screens.{info.name}")
                except Exception:
                    continue
        return screens.specs()

    monkeypatch.setattr(screens, "load_all", load_mine)
    app = WorkstationApp(data, sync=False, start_screen="queue")
    harness = Harness(app).start()
    assert app.ctx is not None and app.services is not None
    app.services.traffic.arbiter = HubArbiter(SqliteHubStore(app.ctx.db))
    yield World(harness, visits)
    from kivy.uix.modalview import ModalView

    for widget in list(harness.window.children):
        if isinstance(widget, ModalView):
            widget.dismiss(animation=False)
    i18n.set_lang("ru")  # while the app runs: its kv rules re-render with it
    harness.stop()


def test_the_queue_lists_the_waiting_with_every_action_inside_the_window(world: World) -> None:
    world.sign_in("Петухов В.П.")
    world.app.go("queue")
    world.h.settle()
    queue = world.queue
    assert queue.ids.count.text == "Контактов в очереди ожидания: 2"
    row = world.row(world.visits["ivanov"])
    assert row.wait_tone == "danger" and row.note == "ждёт у стойки"
    take = world.button(row, "PrimaryButton", "Взять себе")
    assert not take.disabled
    assert world.button(row, "FlatButton", "Назначить").disabled  # a salesman assigns nobody
    for widget in row.walk(restrict=True):
        assert widget.right <= world.h.window.width + 1  # nothing pushed off a tablet
    world.tap(world.button(queue, "SegmentButton", "СЕРВИС  1"))
    assert [r["tid"] for r in queue.vm.rows] == [world.visits["walk_in"]]


def test_tapping_take_wins_the_visitor_and_opens_the_card(world: World) -> None:
    world.sign_in("Петухов В.П.")
    tid = world.visits["ivanov"]
    world.tap_row(tid, "PrimaryButton", "Взять себе")
    assert world.app.root.ids.screens.current == "traffic_card"
    card = world.card
    assert card.vm.traffic_id == tid and card.vm.status == "in_work"
    assert card.ids.status.text == "В работе"
    assert card.ids.responsible.value == "Петухов В.П."
    assert world.toast.startswith("Взят в работу")
    assert card.ids.take.disabled and not card.ids.process.disabled
    world.tap(card.ids.back)
    assert world.app.root.ids.screens.current == "queue"
    assert tid not in [r["tid"] for r in world.queue.vm.rows]


def test_a_lost_contest_shows_who_won(world: World) -> None:
    world.sign_in("Бадовец А.В.")
    winner = world.employee_id("Петухов В.П.")

    class Lost:
        def claim(self, *_: Any) -> Claim:
            return Claim(False, winner, "taken")

    world.app.services.traffic.arbiter = Lost()
    tid = world.visits["ivanov"]
    world.tap_row(tid, "PrimaryButton", "Взять себе")
    assert world.toast == "Уже взял: Петухов В.П."
    assert world.app.root.ids.toast.shown
    assert world.app.root.ids.screens.current == "queue"
    i18n.set_lang("en")
    world.tap_row(tid, "PrimaryButton", "Take")
    assert world.toast == "Already taken by Петухов В.П."


def test_lost_contact_with_the_preselected_reason(world: World) -> None:
    world.sign_in("Перязева Н.")
    tid = world.visits["walk_in"]
    world.tap_row(tid, "FlatDangerButton", "Упущенный контакт")
    dialog = world.dialog("ReasonDialog")
    assert dialog.vm.reason == "Не дождался в очереди"
    world.tap(dialog.ids.confirm)
    assert tid not in [r["tid"] for r in world.queue.vm.rows]
    row: Any = world.app.services.reader.traffic(tid)
    assert (row["status"], row["loss_reason"]) == ("lost", "Не дождался в очереди")


def test_assign_through_the_employee_picker(world: World) -> None:
    world.sign_in("Перязева Н.")
    tid = world.visits["ivanov"]
    world.tap_row(tid, "FlatButton", "Назначить")
    picker = world.dialog("EmployeePicker")
    picker.ids.filter.text = "бад"  # typed into «Фамилия или доб. номер»
    world.h.settle()
    (option,) = picker.ids.rv.layout_manager.children
    assert option.name == "Бадовец А.В."
    world.tap(option, scrolled=True)
    assert picker not in world.h.window.children
    assert world.toast == "Назначен: Бадовец А.В."
    assert world.queue.vm.row(tid)["responsible"] == "Бадовец А.В."


def test_ignore_from_the_card_with_a_reason(world: World) -> None:
    world.sign_in("Перязева Н.")
    tid = world.visits["walk_in"]
    world.tap_row(tid, button_id="details")  # the row's «Подробнее» (› on a tablet)
    card = world.card
    assert world.app.root.ids.screens.current == "traffic_card" and card.vm.traffic_id == tid
    world.tap(card.ids.ignore)
    dialog = world.dialog("ReasonDialog")
    assert dialog.ids.confirm.disabled  # no reason yet: nothing to confirm
    world.tap(world.button(dialog, "ReasonDialogOption", "Зашел/вышел"))
    assert not dialog.ids.confirm.disabled
    world.tap(dialog.ids.confirm)
    assert card.vm.status == "ignored" and card.ids.status.text == "Проигнорирован"
    assert card.vm.history[0]["what"] == "Проигнорирован: Зашел/вышел"
    assert not card.ids.cancel.disabled and card.ids.ignore.disabled


def test_process_into_a_new_document_from_the_card(world: World) -> None:
    world.sign_in("Петухов В.П.")
    tid = world.visits["ivanov"]
    world.tap_row(tid)  # a tap on the row opens the card too
    card = world.card
    assert card.vm.traffic_id == tid
    for button in ("take", "reassign", "dial", "process", "ignore", "cancel"):
        assert card.ids[button].right <= world.h.window.width + 1
    world.tap(card.ids.process)
    dialog = world.dialog("ProcessDialog")
    world.tap(world.button(dialog, "SegmentButton", "Продажа автомобиля"), scrolled=True)
    dialog.ids.amount.text = "2 500 000"
    dialog.ids.doc_no.text = "ДК 7781"
    world.tap(dialog.ids.submit)
    assert card.vm.status == "document_created"
    assert card.ids.status.text == "Создан документ"
    row: Any = world.app.services.reader.traffic(tid)
    doc: Any = world.app.services.reader.document(row["document_id"])
    assert (doc["doc_type"], doc["amount_kop"], doc["doc_no"]) == (
        "car_sale",
        250_000_000,
        "ДК 7781",
    )
    assert world.toast == "Создан документ"


def test_a_dismissed_dialog_does_not_break_the_next_language_switch(world: World) -> None:
    import gc

    world.sign_in("Перязева Н.")
    world.tap_row(world.visits["walk_in"], "FlatButton", "Назначить")
    picker = world.dialog("EmployeePicker")
    picker.dismiss(animation=False)
    del picker
    world.h.pump(2)
    gc.collect()
    world.app.set_lang("en")
    world.h.settle()
    assert world.queue.ids.heading.text == "Waiting queue"
    assert world.queue.ids.count.text == "Contacts in the waiting queue: 2"


def test_the_screenshot_tool_sees_a_real_contact_on_the_card(world: World) -> None:
    world.sign_in("Матвеев А.А.")
    world.app.go("traffic_card")
    card = world.card
    assert not card.vm.loaded  # nothing opened yet: «Откройте контакт из очереди…»
    card.screenshot_sample()
    assert card.vm.traffic_id == world.visits["ivanov"]  # the longest waiting
