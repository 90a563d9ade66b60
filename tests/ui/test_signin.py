"""«Вход»: the view-model without a window, then the real app offscreen driven by taps.

A node with employees opens on «Вход» with no rail; a tap on one's name and the PIN on the
keypad sign in, fill the status bar, show the rail the rights allow and open «Трафик»; «Выйти»
goes back. A node with nobody to sign in (fresh, unpaired) opens as before.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from lsnode.cli import seed_demo
from lsnode.clock import SettableClock
from lsnode.crm.staff import LOCK_S, MAX_TRIES
from lsnode.store.db import open_store
from lsnode.ui import i18n
from lsnode.ui.app import WorkstationApp
from lsnode.ui.harness import Harness
from lsnode.ui.screens.signin import SignInVM, sign_in_first_admin
from lsnode.ui.services import Services

PIN = "1234"


class FakeContext:
    def __init__(self, db: Database) -> None:
        self.db = db

    def notify_local_change(self) -> None:
        pass


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "node"
    seed_demo(path, clients=30, seed=3, today=datetime.now(UTC).date())
    return path


@pytest.fixture
def node(demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "node"
    shutil.copytree(demo, path)
    return path


@pytest.fixture
def store(node: Path) -> Iterator[Database]:
    db = open_store(node)
    yield db
    db.close()


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def vm(store: Database) -> SignInVM:
    services = Services(FakeContext(store), clock=SettableClock(datetime(2026, 12, 3, tzinfo=UTC)))
    model = SignInVM(services, monotonic=Ticking())
    model.reload()
    return model


def tile(vm: SignInVM, name: str) -> dict[str, Any]:
    return next(t for t in vm.employees if t["name"] == name)


# -- the view-model -----------------------------------------------------------------------------


def test_employees_are_big_buttons_with_department_and_presence(vm: SignInVM) -> None:
    assert len(vm.employees) == 23 and not vm.empty
    petukhov = tile(vm, "Петухов В.П.")
    assert petukhov["caption"] == "Автосалон · доб. 1102"
    assert petukhov["presence"] == "available" and not petukhov["selected"]
    assert vm.departments == ["service", "salon", "shop", "feedback", "other"]
    vm.filter("shop")
    assert [t["name"] for t in vm.employees] == ["Матвеев А.А.", "Семенчук Г.К.", "Юшков С.А."]
    vm.filter("")
    i18n.set_lang("en")
    assert tile(vm, "Петухов В.П.")["caption"] == "Showroom · ext. 1102"


def test_the_keypad_masks_the_pin_and_signs_in(vm: SignInVM) -> None:
    assert vm.selected_caption == "Выберите себя в списке слева" and not vm.can_submit
    emp = tile(vm, "Петухов В.П.")["emp_id"]
    vm.choose(emp)
    assert vm.selected_name == "Петухов В.П." and tile(vm, "Петухов В.П.")["selected"]
    for digit in "1239":
        vm.press(digit)
    vm.backspace()
    assert vm.pin == "123" and vm.pin_mask == "●●●" and not vm.can_submit
    vm.press("4")
    assert vm.can_submit
    session = vm.submit()
    assert session is not None and session.short_name == "Петухов В.П."
    assert vm.pin == "" and vm.message == "" and vm.selected_id == ""
    with pytest.raises(ValueError):
        vm.press("x")


def test_a_wrong_pin_says_how_many_tries_are_left_then_locks_with_a_countdown(
    vm: SignInVM,
) -> None:
    clock: Ticking = vm.monotonic  # type: ignore[assignment]
    vm.services._sign_in.monotonic = clock  # the node's lock and the screen's share a clock
    vm.choose(tile(vm, "Бадовец А.В.")["emp_id"])
    for left in range(MAX_TRIES - 1, 0, -1):
        for digit in "0000":
            vm.press(digit)
        assert vm.submit() is None
        assert vm.message == f"Неверный PIN-код. Осталось попыток: {left}" and vm.pin == ""
    for digit in "0000":
        vm.press(digit)
    vm.submit()
    assert vm.locked_s == int(LOCK_S)
    assert vm.message == f"Слишком много неверных попыток. Повторите через {int(LOCK_S)} с"
    vm.press("1")
    assert vm.pin == "" and not vm.can_submit  # the keypad is off while locked
    clock.now += 12.2
    vm.tick()
    assert vm.message == f"Слишком много неверных попыток. Повторите через {int(LOCK_S) - 12} с"
    clock.now += LOCK_S
    vm.tick()
    assert vm.locked_s == 0 and vm.message == ""
    for digit in PIN:
        vm.press(digit)
    assert vm.submit() is not None


def test_too_short_a_pin_and_no_choice_are_explained(vm: SignInVM) -> None:
    assert vm.submit() is None and vm.message == "Выберите себя в списке слева"
    vm.choose(tile(vm, "Петухов В.П.")["emp_id"])
    vm.press("1")
    assert vm.submit() is None and vm.message == "PIN-код — от 4 до 8 цифр"


# -- the real app, by touch ---------------------------------------------------------------------


def _tile_widget(h: Harness, name: str) -> Any:
    layout = h.app.screen("signin").ids.tiles.children[0]
    return next(w for w in layout.children if getattr(w, "name", "") == name)


def _rail_names(h: Harness) -> list[str]:
    rail = h.app.root.ids.rail
    return [c.name for c in reversed(rail.ids["rail_items"].children)]


@pytest.fixture
def shell(window: object, node: Path) -> Iterator[Harness]:
    harness = Harness(WorkstationApp(node, sync=False)).start()
    yield harness
    harness.stop()


def test_sign_in_with_the_keypad_then_sign_out(shell: Harness) -> None:
    app = shell.app
    manager, rail, bar = app.root.ids.screens, app.root.ids.rail, app.root.ids.status
    assert manager.current == "signin" and rail.width == 0  # no way around «Вход»
    assert bar.ids.employee.text == "Вход не выполнен" and bar.ids.presence.opacity == 0
    screen = app.screen("signin")
    shell.tap(screen.ids.filter_salon)
    shell.tap(_tile_widget(shell, "Петухов В.П."))
    assert screen.vm.selected_name == "Петухов В.П."
    for key in ("key_1", "key_2", "key_3", "key_9", "key_back", "key_4"):
        shell.tap(screen.ids[key])
    assert screen.vm.pin == PIN
    shell.tap(screen.ids.enter)
    assert app.services.session is not None and app.services.session.short_name == "Петухов В.П."
    assert manager.current == "traffic" and rail.width > 0
    assert "traffic" in _rail_names(shell) and "signin" not in _rail_names(shell)
    assert bar.ids.employee.text == "Петухов В.П." and bar.ids.presence.opacity == 1
    assert app.shell.presence.state == "available"
    app.shell.presence.choose("busy", "на тест-драйве")  # the selector writes through the domain
    emp = app.services.reader.employee(app.services.session.employee_id)
    assert emp is not None and (emp["presence"], emp["presence_note"]) == ("busy", "на тест-драйве")
    shell.tap(bar.ids.sign_out)
    assert app.services.session is None and manager.current == "signin" and rail.width == 0
    assert bar.ids.employee.text == "Вход не выполнен"


def test_a_wrong_pin_on_the_keypad_is_shown(shell: Harness) -> None:
    screen = shell.app.screen("signin")
    screen.vm.choose(screen.vm.employees[0]["emp_id"])
    for key in ("key_0", "key_0", "key_0", "key_0"):
        shell.tap(screen.ids[key])
    shell.tap(screen.ids.enter)
    assert shell.app.services.session is None
    assert screen.ids.message.text == f"Неверный PIN-код. Осталось попыток: {MAX_TRIES - 1}"


def test_the_screen_asked_for_opens_after_sign_in(window: object, node: Path) -> None:
    with Harness(WorkstationApp(node, sync=False, start_screen="settings")).start() as h:
        assert h.app.root.ids.screens.current == "signin"
        session = sign_in_first_admin(h.app)
        assert session is not None and session.role == "admin"
        h.pump()
        assert h.app.root.ids.screens.current == "settings"
        assert h.app.root.ids.status.ids.employee.text == session.short_name


def test_a_node_with_nobody_to_sign_in_opens_as_before(window: object, data_dir: Path) -> None:
    with Harness(WorkstationApp(data_dir, sync=False, start_screen="settings")).start() as h:
        assert h.app.root.ids.screens.current == "settings"
        assert h.app.root.ids.rail.width > 0
        assert sign_in_first_admin(h.app) is None


def test_screenshots_sign_in_the_first_admin(window: object, node: Path) -> None:
    with Harness(WorkstationApp(node, sync=False)).start() as h:
        assert sign_in_first_admin(h.app) is not None
        h.pump()
        assert h.app.root.ids.screens.current == "traffic"
        assert h.app.inbox is not None and h.app.inbox.employee_id


def test_no_pin_for_anyone_means_no_sign_in(window: object, node: Path) -> None:
    db = open_store(node)
    db.execute("UPDATE employees SET pin_hash = NULL")
    db.conn.commit()
    db.close()
    with Harness(WorkstationApp(node, sync=False, start_screen="settings")).start() as h:
        assert h.app.root.ids.screens.current == "settings"
        h.app.go("signin")
        assert h.app.screen("signin").vm.empty
