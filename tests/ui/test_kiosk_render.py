"""The reception kiosk rendered offscreen at 1080×1920 and driven by taps, as a visitor would.

The window is resized to the kiosk's portrait size for these tests and back to the tablet's
afterwards (the process has one window).
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from kivy.uix.label import Label

from lsnode.ui import i18n
from lsnode.ui.harness import Harness
from lsnode.ui.kiosk import KioskApp, KioskChoices, render_screenshots

KIOSK = (1080, 1920)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lsnode.cli import seed_demo

    path = tmp_path_factory.mktemp("kiosk-render") / "node"
    with contextlib.redirect_stdout(io.StringIO()):
        seed_demo(path, 40, 3, date.today())
    return path


@pytest.fixture
def node(demo: Path, tmp_path: Path) -> Path:
    data = tmp_path / "node"
    shutil.copytree(demo, data)
    return data


@pytest.fixture
def portrait(window: Any) -> Iterator[Any]:
    yield window
    window.size = (1280, 800)


@pytest.fixture
def kiosk(portrait: Any, node: Path) -> Iterator[Harness]:
    app = KioskApp(node, sync=False, start_screen="kiosk")
    harness = Harness(app).start(size=KIOSK)
    yield harness
    harness.stop()


def _tile(choices: KioskChoices, title: str) -> Any:
    return next(t for t in choices.children if t.title == title)


def _digit(screen: Any, label: str) -> Any:
    return next(k for k in screen.ids.keypad.children if k.label == label)


def _overflowing(root: Any) -> list[str]:
    """Labels whose text does not fit their box (clipped or overlapping text)."""
    bad = []
    stack = [root]
    while stack:
        widget = stack.pop()
        stack.extend(widget.children)
        if not isinstance(widget, Label) or not widget.text or widget.opacity == 0:
            continue
        tw, th = widget.texture_size
        if getattr(widget, "shorten", False):
            continue
        if tw > widget.width + 2 or th > widget.height + 2:
            bad.append(f"{widget.text!r}: {tw}x{th} in {widget.width:.0f}x{widget.height:.0f}")
    return bad


def test_a_visitor_checks_in_with_taps_only(kiosk: Harness) -> None:
    app = kiosk.app
    screen = app.screen("kiosk")
    vm = screen.vm
    steps = screen.ids.steps
    assert app.root.ids.screens.current == "kiosk" and steps.current == "welcome"
    assert screen.ids.back.parent.opacity == 0  # nowhere to go back to
    assert _overflowing(steps) == []

    kiosk.tap(_tile(screen.ids.departments, "Покупка автомобиля"))
    assert steps.current == "purpose"
    assert _overflowing(steps) == []
    kiosk.tap(_tile(screen.ids.purposes, "Продать свой автомобиль"))
    assert steps.current == "phone"

    for digit in "916123":
        kiosk.tap(_digit(screen, digit))
    kiosk.tap(screen.ids.phone_next)
    assert steps.current == "phone"
    assert screen.ids.phone_error.text == "Номер неполный: не хватает 4 цифр"
    for digit in "45668":  # the eleventh digit is not taken
        kiosk.tap(_digit(screen, digit))
    kiosk.tap(next(k for k in screen.ids.keypad.children if k.icon == "backspace-outline"))
    kiosk.tap(_digit(screen, "7"))
    assert vm.phone_typed == "+7 (916) 123-45-67" and screen.ids.phone_error.text == ""
    assert screen.ids.phone_typed.text == "+7 (916) 123-45-67"
    kiosk.tap(screen.ids.phone_next)
    assert steps.current == "name"

    keyboard = screen.ids.name_keyboard
    for letter in "ОЛЯ":
        kiosk.tap(keyboard.key(f"key-{letter}"))
    assert screen.ids.name_display.text == "Оля"
    assert _overflowing(steps) == []
    kiosk.tap(screen.ids.name_done)

    assert steps.current == "done"
    assert screen.ids.done_title.text.startswith("Вы в очереди: ")
    assert screen.ids.done_wait.text.startswith("Ожидание ≈ ")
    assert _overflowing(steps) == []
    visit = app.services.reader.traffic(vm.traffic_id)
    assert visit["origin"] == "kiosk" and visit["extra_info"] == "Представился: Оля"

    kiosk.tap(screen.ids.done_title)  # a tap anywhere ends it
    assert steps.current == "welcome" and vm.name_text == ""


def test_the_keys_are_big_enough_for_a_finger(kiosk: Harness) -> None:
    from lsnode.ui.theme.style import THEME

    screen = kiosk.app.screen("kiosk")
    screen.vm.choose_department("service")
    kiosk.settle()
    for key in screen.ids.keypad.children:
        assert key.height >= THEME.touch and key.width >= THEME.touch
    assert screen.ids.phone_next.height >= THEME.touch
    screen.vm.press_digit("9")
    for _ in "161234567":
        screen.vm.press_digit("1")
    screen.vm.submit_phone()
    kiosk.settle()
    rows = screen.ids.name_keyboard.children
    assert all(row.height >= THEME.touch for row in rows)
    letter = screen.ids.name_keyboard.key("key-Ж")
    assert letter.width >= THEME.touch * 0.8  # 11 keys across 1080 px


def test_english_fits_too_and_the_start_returns_to_russian(kiosk: Harness) -> None:
    screen = kiosk.app.screen("kiosk")
    kiosk.tap(screen.ids.lang_en)
    assert i18n.current_lang() == "en"
    assert _tile(screen.ids.departments, "Buying a car") is not None
    assert _overflowing(screen.ids.steps) == []
    kiosk.tap(_tile(screen.ids.departments, "Parts and accessories"))
    assert screen.ids.steps.current == "phone"
    screen.vm.reset()
    kiosk.settle()
    assert i18n.current_lang() == "ru"


def test_an_unpaired_kiosk_opens_on_pairing_and_can_work_alone(portrait: Any, node: Path) -> None:
    harness = Harness(KioskApp(node, sync=False)).start(size=KIOSK)
    try:
        app = harness.app
        assert app.root.ids.screens.current == "pairing"
        pairing = app.screen("pairing")
        assert pairing.kiosk and pairing.ids.skip.parent.opacity == 1
        assert _overflowing(pairing) == []
        harness.tap(pairing.ids.skip)
        assert app.root.ids.screens.current == "kiosk"
    finally:
        harness.stop()


def test_the_kiosk_has_no_rail_no_status_bar_and_no_employee(kiosk: Harness) -> None:
    root = kiosk.app.root
    assert "rail" not in root.ids and "status" not in root.ids
    texts = []
    stack = [root]
    while stack:
        w = stack.pop()
        stack.extend(w.children)
        if isinstance(w, Label):
            texts.append(w.text)
    assert not any("Вход не выполнен" in t or "Доступен" in t for t in texts)


def test_screenshots_of_every_step_are_written(portrait: Any, node: Path, tmp_path: Path) -> None:
    written = render_screenshots(node, tmp_path / "shots", ("ru",))
    names = sorted(p.name for p in written)
    for step in ("welcome", "purpose", "car", "phone", "name", "done"):
        assert f"kiosk-ru-kiosk-{step}.png" in names
    assert "kiosk-ru-pairing.png" in names
    assert all(p.read_bytes()[:8] == PNG for p in written)


def test_a_check_in_reaches_the_hub_with_the_alerts(
    portrait: Any, demo: Path, tmp_path: Path
) -> None:
    """A paired kiosk (sync on) and a real hub on 127.0.0.1 holding the dealership (as in
    ``lsavto demo``): the kiosk gets the purposes from the hub, and the visit and the LAN
    alerts of the Available employees arrive on the hub, from where every node's queue gets
    them."""
    import os
    import time

    from hub.server import Hub
    from lsnode.runtime import Runtime
    from lsnode.store.db import init_store
    from lsnode.sync.client import pair
    from lsnode.sync.pairing import HubTrust

    factor = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
    shutil.copytree(demo, tmp_path / "hub")
    node = tmp_path / "kiosk"
    init_store(node).close()
    loop = Runtime()
    loop.start()
    hub = Hub(tmp_path / "hub")
    loop.call_blocking(hub.start(), 30 * factor)
    harness = None
    try:
        code = HubTrust(hub.data_dir).issue_code().code
        loop.call_blocking(pair(node, f"127.0.0.1:{hub.port}", code, "kiosk", None), 30 * factor)
        harness = Harness(KioskApp(node)).start(size=KIOSK)
        app = harness.app
        assert app.root.ids.screens.current == "kiosk"  # paired: straight to the visitors
        vm = app.screen("kiosk").vm

        def until(check: Any, what: str) -> None:
            deadline = time.monotonic() + 60 * factor
            while not check():
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                harness.pump(1)

        until(lambda: "shop" in [d["key"] for d in vm.departments], "the purposes from the hub")
        vm.choose_department("shop")
        for digit in "9035550101":
            vm.press_digit(digit)
        vm.submit_phone()
        vm.submit_name(skip=True)
        assert vm.step == "done" and not vm.failed

        def arrived() -> bool:
            row = hub.db.execute(
                "SELECT origin, queued_at FROM traffic WHERE id = ?", [vm.traffic_id]
            ).fetchone()
            return row is not None and row[0] == "kiosk" and row[1] is not None

        until(arrived, "the visit on the hub")
        alerts = hub.db.execute("SELECT count(*) FROM lan_messages").fetchone()[0]
        assert alerts >= 1
    finally:
        if harness is not None:
            harness.stop()
        loop.call_blocking(hub.stop(), 30 * factor)
        loop.stop()
