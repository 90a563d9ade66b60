"""The journal rendered offscreen in the real app, driven by taps: a few thousand demo rows
scroll, a filter changes the count, rows are selected and ignored in bulk, «Взять себе» with
no hub reports each row, the switches popup opens.

``mount`` (also used by the purposes and client card render tests) starts the app on a copy of
a demo base, signed in by PIN.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lsnode.cli import seed_demo
from lsnode.ui import screens
from lsnode.ui.app import WorkstationApp
from lsnode.ui.harness import Harness

TODAY = date.today()  # the app's clock is the real one: the demo's «today» is today


def mount(data: Path, start: str, who: str) -> Harness:
    """The app over ``data``, signed in as ``who`` (PIN 1234), showing ``start``."""
    app = WorkstationApp(data, sync=False, start_screen="settings")
    harness = Harness(app).start()
    services = app.services
    assert services is not None
    emp = next(e for e in services.reader.employees() if e["short_name"] == who)
    services.sign_in(emp["id"], "1234")
    inbox = getattr(app, "inbox", None)
    if inbox is not None:
        inbox.stop()  # no «ВХОДЯЩИЙ КОНТАКТ» popups over the top-right of the screen tested
    app.popups.clear()
    app.go(start)
    harness.settle()
    return harness


def copy_of(base: Path, where: Path) -> Path:
    data = where / f"{base.name}-node"
    shutil.copytree(base, data)
    return data


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("journal-render") / "demo"
    seed_demo(path, 2000, 7, TODAY)
    return path


@pytest.fixture(scope="module")
def app_on_demo(window: object, base: Path) -> Iterator[Harness]:
    """One app for the module (starting one costs seconds of software GL)."""
    h = mount(copy_of(base, base.parent), "journal", "Матвеев А.А.")
    yield h
    h.app.set_lang("ru")  # before the app stops: the shell's kv rules need a running app
    h.stop()


@pytest.fixture
def journal(app_on_demo: Harness) -> Iterator[Harness]:
    """The journal as a person finds it: default filters, nothing selected, no dialogs."""
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    h = app_on_demo
    h.app.go("journal")
    screen = h.app.screen("journal")
    screen.vm.clear_selection()
    screen.reset()
    screen.ids.table.ids.rv.scroll_y = 1
    h.settle()
    yield h
    for w in list(Window.children):
        if isinstance(w, ModalView):
            w.dismiss(animation=False)
    h.app.set_lang("ru")


def _views(screen: Any) -> list[Any]:
    rv = screen.ids.table.ids.rv
    return sorted(rv.layout_manager.children, key=lambda w: -w.y)


def _visible(screen: Any) -> list[Any]:
    """The row widgets whose middle is inside the table's viewport, top to bottom."""
    rv = screen.ids.table.ids.rv
    top, bottom = rv.to_window(rv.x, rv.top)[1], rv.to_window(rv.x, rv.y)[1]
    inside = [
        v for v in rv.layout_manager.children if bottom <= v.to_window(v.x, v.center_y)[1] <= top
    ]
    return sorted(inside, key=lambda v: v.index)


def _visible_ids(screen: Any) -> set[str]:
    return {v.tid for v in _visible(screen)}


def test_a_few_thousand_rows_scroll_and_a_filter_changes_the_count(journal: Harness) -> None:
    screen = journal.app.screen("journal")
    vm = screen.vm
    journal.tap(screen.ids.period_all)
    assert vm.period == "all"
    total = int(vm.total)
    assert total > 1500 and len(screen.ids.table.ids.rv.data) == total
    assert screen.ids.count.text == f"{total} из {total}"
    first = vm.rows[0]["id"]
    assert first in _visible_ids(screen)
    views = _views(screen)
    assert len(views) < 40  # recycled: a screenful of row widgets, not thousands
    rv = screen.ids.table.ids.rv
    rv.scroll_y = 0
    journal.settle()
    assert vm.rows[-1]["id"] in _visible_ids(screen) and first not in _visible_ids(screen)
    rv.scroll_y = 0.5
    journal.settle()
    middle = _visible_ids(screen)
    assert middle and first not in middle

    journal.tap(screen.ids.period_week)
    week = int(vm.total)
    assert 0 < week < total
    assert screen.ids.count.text == f"{week} из {week}"
    number = next(r["number"] for r in vm.rows if r["number"] is not None)
    screen.ids.f_number.text = str(number)
    journal.tap(screen.ids.search)
    assert screen.ids.count.text == "1 из 1"
    screen.ids.f_number.text = ""
    screen.ids.f_phone.text = "12"
    journal.tap(screen.ids.search)
    assert screen.ids.count.text == "Телефон: введите номер или хотя бы 4 последние цифры"
    journal.tap(screen.ids.reset)
    assert screen.ids.count.text == f"{week} из {week}"


def test_selected_rows_are_ignored_in_bulk_and_take_reports_each_row(journal: Harness) -> None:
    from kivy.core.window import Window

    screen = journal.app.screen("journal")
    vm = screen.vm
    journal.tap(screen.ids.period_all)
    vm.set_filters(statuses={"new"})
    journal.settle()
    assert len(vm.rows) >= 2
    assert screen.ids.take.disabled and screen.ids.ignore.disabled
    first, second = _visible(screen)[:2]
    journal.tap(first.children[-1])  # the checkbox column
    journal.tap(second.children[-1])
    assert vm.selected_count == 2 and first.selected and second.selected
    assert screen.ids.count.text == "Выбрано 2 контакта"
    assert not screen.ids.ignore.disabled and screen.ids.take.text == "Взять себе (2)"

    # «Взять себе» needs the hub: unpaired, each row says so
    journal.tap(screen.ids.take)
    dialog = next(w for w in Window.children if type(w).__name__ == "ResultDialog")
    lines = list(dialog.ids.lines_box.children)
    assert len(lines) == 2 and not any(line.ok for line in lines)
    assert all(line.message.startswith("Устройство не подключено к хабу") for line in lines)
    dialog.dismiss(animation=False)  # gone at once: a closing modal still takes taps
    assert vm.selected_count == 2  # what failed stays selected

    chosen = set(vm.selected)
    journal.tap(screen.ids.ignore)
    dialog = next(w for w in Window.children if type(w).__name__ == "IgnoreDialog")
    dialog.confirm("")  # no reason yet: the dialog stays and says why
    assert dialog.error_text == "Выберите или впишите причину"
    journal.tap(dialog.ids.reason0)
    journal.tap(dialog.ids.confirm)
    journal.settle()
    assert journal.app.shell.toast.message == "Выполнено: 2 из 2"
    services = journal.app.services
    assert services is not None
    for tid in chosen:
        row = services.reader.traffic(tid)
        assert row is not None and row["status"] == "ignored"
        assert row["ignore_reason"] == "Ошибся адресом"
    assert vm.selected_count == 0 and not (chosen & {r["id"] for r in vm.rows})


def test_a_rows_switches_open_in_a_popup_and_a_tap_opens_the_card(journal: Harness) -> None:
    from kivy.core.window import Window

    screen = journal.app.screen("journal")
    vm = screen.vm
    journal.tap(screen.ids.period_all)
    index = next(i for i, r in enumerate(vm.rows) if r["switch_count"])
    rv = screen.ids.table.ids.rv
    row_h = rv.layout_manager.default_size[1]
    scrollable = max(1.0, len(vm.rows) * row_h - rv.height)
    rv.scroll_y = max(0.0, 1 - index * row_h / scrollable)
    journal.settle()
    tid = vm.rows[index]["id"]
    assert tid in _visible_ids(screen)
    view = next(v for v in _visible(screen) if v.tid == tid)
    journal.tap(view.children[0])  # the switches button, last column
    dialog = next(w for w in Window.children if type(w).__name__ == "SwitchesDialog")
    assert dialog.lines and dialog.lines[0].startswith("1. ")
    dialog.dismiss(animation=False)  # gone at once: a closing modal still takes taps
    journal.settle()
    journal.tap(view.children[3])  # a text cell: the row itself
    if any(s.name == "traffic_card" for s in screens.specs()):
        assert journal.app.shell.nav.current == "traffic_card"
    else:
        assert journal.app.shell.toast.message == "Карточка трафика пока недоступна"


def test_the_screen_can_be_measured(journal: Harness) -> None:
    from lsnode.ui.screens.journal import measure_journal_screen

    screen = journal.app.screen("journal")
    result = measure_journal_screen(screen, runs=1)
    assert result["rows"] == screen.vm.total > 1500
    assert 0 < result["filtered_rows"] < result["rows"] and result["open_ms"] > 0


def test_english_rewords_the_rows(journal: Harness) -> None:
    screen = journal.app.screen("journal")
    journal.app.set_lang("en")
    journal.settle()
    views = _views(screen)
    assert views and all(v.status_text in {
        "New", "In work", "Document created", "Attached to document", "Ignored", "Lost",
    } for v in views)  # fmt: skip
    assert screen.ids.count.text.endswith(f"of {int(screen.vm.total)}")
