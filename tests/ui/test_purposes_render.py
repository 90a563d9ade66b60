"""«Цели контактов» rendered offscreen: the rail shows it only to the right, and the edit
dialog saves (or says what is wrong) by taps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from lsnode.cli import seed_demo
from lsnode.ui.harness import Harness
from tests.ui.test_journal_render import copy_of, mount


@pytest.fixture(scope="module")
def harness(window: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    base = tmp_path_factory.mktemp("purposes-render") / "demo"
    seed_demo(base, 30, 7, date.today())
    h = mount(copy_of(base, base.parent), "purposes", "Бектус Е.В.")  # marketing
    yield h
    h.app.set_lang("ru")
    h.stop()


def _rail(h: Harness) -> list[str]:
    return [c.name for c in reversed(h.app.root.ids.rail.ids["rail_items"].children)]


def test_the_rail_shows_purposes_only_to_whom_the_right_allows(harness: Harness) -> None:
    services = harness.app.services
    assert services is not None
    assert "purposes" in _rail(harness)
    manager = next(e for e in services.reader.employees() if e["short_name"] == "Петухов В.П.")
    services.sign_in(manager["id"], "1234")
    harness.settle()
    assert "purposes" not in _rail(harness) and "journal" in _rail(harness)
    harness.app.go("purposes")  # reached from code anyway: it shows only a notice
    harness.settle()
    screen = harness.app.screen("purposes")
    assert not screen.vm.can_admin and screen.vm.rows == []
    marketing = next(e for e in services.reader.employees() if e["short_name"] == "Бектус Е.В.")
    services.sign_in(marketing["id"], "1234")
    harness.app.go("purposes")
    harness.settle()
    assert "purposes" in _rail(harness) and screen.vm.can_admin


def test_the_edit_dialog_saves_and_reports_errors(harness: Harness) -> None:
    from kivy.core.window import Window

    harness.app.go("purposes")
    screen = harness.app.screen("purposes")
    screen.vm.reload()
    harness.settle()
    assert screen.vm.title == "Ремонт автомобиля"
    harness.tap(screen.ids.edit)
    dialog = next(w for w in Window.children if type(w).__name__ == "PurposeDialog")
    dialog.ids.full_name.text = ""
    harness.tap(dialog.ids.save)
    assert dialog.ids.err_full_name.text == "Укажите полное наименование цели"
    assert dialog.ids.err_full_name.height > 0 and dialog.parent is not None
    dialog.ids.full_name.text = "Ремонт и обслуживание автомобиля"
    dialog.ids.days.text = "5"
    harness.tap(dialog.ids.require_region)
    closed: list[bool] = []
    dialog.bind(on_dismiss=lambda *_: closed.append(True))
    harness.tap(dialog.ids.save)
    assert closed  # (it leaves the window when its closing animation ends)
    services = harness.app.services
    assert services is not None
    saved = next(p for p in services.reader.purposes() if p["code"] == 2)
    assert saved["full_name"] == "Ремонт и обслуживание автомобиля"
    assert saved["auto_ignore_days"] == 5 and saved["require_region"] == 1
    harness.settle()
    assert screen.vm.title == "Ремонт и обслуживание автомобиля"
    assert harness.app.shell.toast.message == "Цель «Ремонт и обслуживание автомобиля» сохранена"
