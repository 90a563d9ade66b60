"""The notification screens and «Запись» rendered offscreen in the real shell, driven by taps.

Each test mounts a ``WorkstationApp`` (sync off) on its own copy of a small demo dealership with
the brochure's channels, templates and rules, and messages the «hub» already made. Only the
screens under test must load; other screens being written elsewhere stay out if they fail.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from kivy.tests.common import UnitTestTouch

from lsnode.notify.appointments import AppointmentDraft, book_appointment
from lsnode.ui import i18n, screens
from lsnode.ui.app import WorkstationApp
from lsnode.ui.harness import Harness
from tests.ui.notify_world import World, build

MINE = ("settings", "notify_journal", "notify_templates", "notify_channels", "appointments")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("notify-render") / "demo")


class Shell:
    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.app: Any = harness.app

    def tap(self, widget: Any) -> None:
        """A finger down and up on ``widget``; inside a scrolling view the press reaches the
        child only after the ScrollView's short timeout, so frames run until it has."""
        self.h.settle()
        x, y = widget.to_window(widget.center_x, widget.center_y)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.h.pump(1)
        touch.touch_up()
        end = time.monotonic() + 0.35
        while time.monotonic() < end:
            self.h.pump(1)
            time.sleep(0.01)
        self.h.pump(2)

    def screen(self, name: str) -> Any:
        self.app.go(name)
        self.h.settle()
        return self.app.screen(name)

    def rail(self, name: str) -> Any:
        box = self.app.root.ids.rail.ids["rail_items"]
        return next(c for c in box.children if c.name == name)

    def visible(self, widget: Any) -> Any:
        """Scroll the ScrollView holding ``widget`` so it is on screen."""
        parent = widget.parent
        while parent is not None and not hasattr(parent, "scroll_to"):
            parent = parent.parent
        if parent is not None:
            parent.scroll_to(widget, padding=10, animate=False)
            self.h.settle()
        return widget

    def rows(self, rv: Any) -> list[Any]:
        return sorted(rv.children[0].children, key=lambda w: -w.y)


def _messages(base: Path, dst: Path) -> dict[str, str]:
    """A copy of the base where the hub already confirmed two bookings (one refused)."""
    world = World(base, dst)
    try:
        out = {}
        for i, sms in enumerate(("yes", "no")):
            party = world.person(i, sms=sms)
            visit = world.clock() + timedelta(days=1, hours=i)
            draft = AppointmentDraft(party["id"], visit, None, world.adviser()["id"], "ТО")
            book_appointment(world.hub, draft, world.clock())
            out[sms] = party["full_name"]
        world.hub_tick()
        return out
    finally:
        world.close()


@pytest.fixture
def shell(
    window: object, base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Shell, dict[str, str]]]:
    data = tmp_path / "node"
    clients = _messages(base, data)

    def load_mine() -> list[screens.ScreenSpec]:
        for name in MINE:
            importlib.import_module(f"lsnode.ui.screens.{name}")
        for info in pkgutil.iter_modules(screens.__path__):
            if not info.name.startswith("_") and info.name not in MINE:
                try:  # the shell's own (sign-in …); a screen still being written stays out
                    importlib.import_module(f"lsnode.ui.screens.{info.name}")
                except Exception:
                    continue
        return screens.specs()

    monkeypatch.setattr(screens, "load_all", load_mine)
    app = WorkstationApp(data, sync=False, start_screen="notify_journal")
    harness = Harness(app).start()
    yield Shell(harness), clients
    from kivy.uix.modalview import ModalView

    for widget in list(harness.window.children):
        if isinstance(widget, ModalView):
            widget.dismiss(animation=False)
    i18n.set_lang("ru")
    harness.stop()


def test_the_rail_the_tabs_and_the_journal_with_addressees_and_unsent_only(
    shell: tuple[Shell, dict[str, str]],
) -> None:
    s, clients = shell
    assert s.rail("notify_journal").children[0].text == "Уведомления"
    assert s.rail("appointments").children[0].text == "Запись"
    journal = s.screen("notify_journal")
    s.tap(journal.ids.tabs.ids.tab_templates)
    assert s.app.root.ids.screens.current == "notify_templates"
    s.tap(s.app.screen("notify_templates").ids.tabs.ids.tab_channels)
    assert s.app.root.ids.screens.current == "notify_channels"
    s.tap(s.app.screen("notify_channels").ids.tabs.ids.tab_journal)
    assert s.app.root.ids.screens.current == "notify_journal"
    s.tap(s.rail("appointments"))
    assert s.app.root.ids.screens.current == "appointments"
    width = s.h.window.width
    for name in ("notify_journal", "notify_templates", "notify_channels"):
        tabs = s.screen(name).ids.tabs.ids
        assert max(t.right for t in tabs.values()) <= width
    screen = s.screen("notify_journal")
    table = screen.ids.messages
    assert len(table.rows) == 4
    refused = next(i for i, r in enumerate(table.rows) if r["state"] == "Отказ")
    rows = s.rows(table.ids.rv)
    s.tap(rows[refused])
    assert screen.vm.selected == refused
    assert screen.vm.addressees[0]["info"] == "Отказ: нет согласия клиента на рассылку СМС"
    assert "подтверждена" in screen.ids.msg_text.text
    s.tap(screen.ids.f_unsent)
    assert screen.vm.unsent_only and [r["state"] for r in table.rows] == ["Отказ"]
    assert clients["no"] in screen.vm.addressees[0]["recipient"]
    s.tap(screen.ids.f_reset)
    assert len(table.rows) == 4
    i18n.set_lang("en")
    s.h.settle()
    assert screen.ids.tabs.ids.tab_journal.text == "Message journal"
    assert {r["state"] for r in table.rows} == {"Sent", "Refused", "Delivered"}


def test_a_channel_form_never_shows_the_password(shell: tuple[Shell, dict[str, str]]) -> None:
    s, _ = shell
    screen = s.screen("notify_channels")
    vm = screen.vm
    store = vm.store
    email = vm.rows[0]["channel_id"]
    store.update("notify_channels", email, {"secret_sealed": "hub1:c2VhbGVk"})
    vm.select(email)
    s.h.settle()
    form = screen.ids.kind_form.children[0]
    password = form.ids.password if "password" in form.ids else None
    if password is None:  # the password block is its own widget inside the form
        block = next(w for w in form.walk() if "password" in getattr(w, "ids", {}))
        password = block.ids.password
    assert password.password and password.text == ""
    assert password.hint_text.startswith("Сохранён (скрыт)")
    assert "hub1:" not in " ".join(str(getattr(w, "text", "")) for w in screen.walk())
    rows = s.rows(screen.ids.channels)
    s.tap(rows[1])  # SMS
    assert vm.kind == "sms"
    url = screen.ids.kind_form.children[0].ids.url
    assert url.text.startswith("json://127.0.0.1:8026")
    ftp = next(r for r in rows if r.kind == "ftp")
    toggle = next(w for w in ftp.walk() if type(w).__name__ == "NtToggle")
    s.tap(toggle)
    assert store.channel(ftp.channel_id)["enabled"] == 1


def test_tapping_a_placeholder_chip_inserts_it_and_the_preview_follows(
    shell: tuple[Shell, dict[str, str]],
) -> None:
    s, _ = shell
    screen = s.screen("notify_templates")
    vm = screen.vm
    tree = s.rows(screen.ids.tree)
    booked = next(r for r in tree if getattr(r, "title", "") == "Подтверждение П/З")
    s.tap(booked)
    assert vm.name == "Подтверждение П/З" and vm.trigger == "event"
    body = screen.ids.body
    body.text = "Тест: "
    body.cursor = body.get_cursor_from_index(len(body.text))
    chip = next(c for c in screen.ids.chips.children if c.name == "car_descr")
    s.tap(s.visible(chip))
    assert vm.body == "Тест: {car_descr}" and body.text == vm.body
    s.h.settle()
    assert not screen.ids.preview.text.startswith("Тест: {")
    assert screen.ids.sms.ids.sl_text.text.startswith("СМС: 1 часть")
    assert screen.ids.save.disabled is False


def test_booking_from_the_card(shell: tuple[Shell, dict[str, str]]) -> None:
    s, _ = shell
    screen = s.screen("appointments")
    vm = screen.vm
    name = vm.services.clients.counterparty_by_number(1)["full_name"]  # the brochure's Иванов
    search = screen.ids.search
    search.text = name.split()[0]
    s.h.settle()
    hit = next(h for h in screen.ids.hits.children if h.name == name)
    s.tap(hit)
    assert vm.client_id and screen.ids.client_name.value == name
    s.tap(s.visible(screen.ids.tomorrow))
    chip = next(c for c in screen.ids.times.children if c.text == "16:00")
    s.tap(s.visible(chip))
    assert vm.time_text == "16:00" and screen.ids.time.text == "16:00"
    s.tap(screen.ids.save)
    assert not vm.is_new, vm.error
    assert vm.notice == "Клиент записан. Подтверждение отправит хаб"
    s.tap(screen.ids.p_tomorrow)
    assert any(r["client"] == name and r["visit"].endswith("16:00") for r in vm.rows)
