"""Регистрация входящего трафика on the real app offscreen: a visit registered by touch.

The salesman Петухов В.П. is signed in at the showroom tablet; he registers a walk-in for
himself — and, being the responsible employee, gets the ВХОДЯЩИЙ КОНТАКТ popup on this node and
the counter in the status bar.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lsnode.cli import seed_demo
from lsnode.ui.app import WorkstationApp
from lsnode.ui.harness import Harness

PIN = "1234"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "node"
    seed_demo(path, clients=30, seed=9, today=datetime.now(UTC).date())
    return path


@pytest.fixture
def tablet(window: object, demo: Path, tmp_path: Path) -> Iterator[Harness]:
    node = tmp_path / "node"
    shutil.copytree(demo, node)
    harness = Harness(WorkstationApp(node, sync=False)).start()
    services = harness.app.services
    assert services is not None
    petukhov = next(e for e in services.reader.employees() if e["short_name"] == "Петухов В.П.")
    services.sign_in(petukhov["id"], PIN)
    harness.app.popups.clear()
    harness.pump()
    yield harness
    harness.stop()


def _child(box: Any, **attrs: Any) -> Any:
    return next(w for w in box.children if all(getattr(w, k, None) == v for k, v in attrs.items()))


def _wait(h: Harness, ready: Any, frames: int = 200) -> None:
    """Pump frames until ``ready()`` (the search waits for typing to pause)."""
    for _ in range(frames):
        if ready():
            return
        h.pump(1)
        time.sleep(0.005)
    raise AssertionError("the screen never got there")


def test_register_a_visit_by_touch(tablet: Harness) -> None:
    app = tablet.app
    assert app.root.ids.screens.current == "traffic"
    screen = app.screen("traffic")
    vm, ids = screen.vm, screen.ids
    tablet.tap(ids.type_visit)
    tablet.tap(ids.dept_salon)
    assert vm.contact_type == "visit" and vm.department == "salon"
    purpose = _child(ids.purposes_box, text="Покупка нового автомобиля")
    tablet.tap(purpose)
    assert vm.require_car
    ids.search.text = "Иванов Василий"  # what the on-screen keyboard types
    _wait(tablet, lambda: ids.hits_box.children)
    tablet.tap(ids.hits_box.children[-1])  # the best hit is on top
    assert vm.client_name == "Иванов Василий Алибабаевич"
    assert ids.client_part.parent is ids.client_area.__self__ and ids.search_part.parent is None
    tablet.tap(ids.cars_box.children[-1])
    assert vm.car_id and vm.make_model
    me = app.services.session.employee_id
    tablet.tap(_child(ids.people_box, emp_id=me))
    assert vm.responsible_id == me
    tablet.tap(ids.btn_register)
    toast = app.root.ids.toast
    assert toast.shown and toast.text == "Зарегистрирован: Петухов В.П."
    row = app.services.ctx.db.execute(
        "SELECT contact_type, department, status, responsible_id, make_model FROM traffic "
        "ORDER BY created_at DESC, id DESC LIMIT 1"
    ).fetchone()
    assert tuple(row[:4]) == ("visit", "salon", "new", me) and row[4]
    # a clean form for the next visitor
    assert vm.client_id == "" and ids.search.text == "" and ids.search_part.parent is not None
    # the responsible employee's node: the popup and the counter
    tablet.pump(30)
    cards = list(app.root.ids.popups.ids.column.children)
    assert len(cards) == 1 and cards[0].vm.title == "ВХОДЯЩИЙ КОНТАКТ"
    assert "Покупка нового автомобиля" in cards[0].vm.text
    chip = app.root.ids.status.ids.unprocessed
    assert chip.text.startswith("НЕОБРАБОТАННЫХ: ") and chip.opacity == 1  # tablet: short


def test_a_missing_make_and_model_is_shown_above_the_actions(tablet: Harness) -> None:
    screen = tablet.app.screen("traffic")
    vm, ids = screen.vm, screen.ids
    tablet.tap(ids.dept_salon)
    tablet.tap(_child(ids.purposes_box, text="Покупка нового автомобиля"))
    ids.phone.text = "+7 916 555-44-33"
    tablet.tap(ids.btn_register)
    assert vm.message.startswith("Для цели «Покупка нового автомобиля» укажите марку")
    assert ids.message.text == vm.message and ids.problem.height > 0
    ids.make_model.text = "Kia Rio"
    tablet.pump()
    assert ids.problem.height == 0
    tablet.tap(ids.btn_queue)
    assert tablet.app.root.ids.toast.text == "Помещён в очередь ожидания"


def test_create_new_client_from_the_dialog(tablet: Harness) -> None:
    screen = tablet.app.screen("traffic")
    ids = screen.ids
    ids.search.text = "+7 916 555-44-33"
    tablet.tap(ids.create)
    dialog = screen.dialog
    assert dialog is not None and dialog.ids.phone.text == "+7 916 555-44-33"
    tablet.pump(20)  # the dialog fades in
    dialog.ids.name.text = "Сидоров Пётр Ильич"
    tablet.tap(dialog.ids.save)
    assert screen.vm.client_name == "Сидоров Пётр Ильич" and dialog.parent is None
