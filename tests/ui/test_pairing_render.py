"""The pairing screen in the running workstation app, against a REAL hub on 127.0.0.1.

Settings → «Подключить к хабу» → the address and the hub's one-time code typed with taps →
«Подключить»: the node is paired and starts syncing with the hub; a wrong code is refused with
a clear line. The hub runs on the app's own runtime loop.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lsnode.sync.pairing import HubTrust, NodeIdentity
from lsnode.ui.app import WorkstationApp
from lsnode.ui.harness import Harness

FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))


@pytest.fixture
def running(window: object, data_dir: Path, tmp_path: Path) -> Iterator[tuple[Harness, Any]]:
    from hub.server import Hub

    app = WorkstationApp(data_dir, sync=False, start_screen="settings")
    harness = Harness(app).start()
    assert app.ctx is not None
    app.ctx.mdns_interfaces = ["127.0.0.1"]  # the screen looks for hubs on loopback only
    hub = Hub(tmp_path / "hub")
    app.runtime.call_blocking(hub.start(), 30 * FACTOR)
    try:
        yield harness, hub
    finally:
        app.runtime.call_blocking(hub.stop(), 30 * FACTOR)
        harness.stop()


def _until(h: Harness, check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout * FACTOR
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        h.pump(1)


def _key(screen: Any, label: str) -> Any:
    keypad = screen.ids.keypad_panel.ids.keypad
    return next(k for k in keypad.children if k.label == label)


def _open_pairing(h: Harness, port: int) -> Any:
    settings = h.app.screen("settings")
    h.tap(settings.ids.pair)
    assert h.app.root.ids.screens.current == "pairing"
    screen = h.app.screen("pairing")
    h.tap(screen.ids.address)
    assert screen.vm.target == "address"
    screen.ids.address.text = f"127.0.0.1:{port}"  # typed on the tablet's own keyboard
    h.tap(screen.ids.code)
    assert screen.vm.target == "code" and screen.ids.code.selected
    return screen


def test_pairing_from_settings_with_the_keypad_starts_sync(running: tuple[Harness, Any]) -> None:
    h, hub = running
    code = HubTrust(hub.data_dir).issue_code().code
    screen = _open_pairing(h, hub.port)
    for digit in code.replace("-", ""):
        h.tap(_key(screen, digit))
    assert screen.ids.code.text == code
    h.tap(screen.ids.connect)
    _until(h, lambda: screen.vm.state != "working", "the hub's answer")
    assert screen.vm.state == "done", screen.vm.message
    h.settle()
    assert screen.result.parent == screen.ids.side  # in the keypad's place
    assert screen.ids.keypad_panel.parent is None
    assert screen.result.title == "Устройство подключено к хабу"
    fingerprint = screen.result.ids.fingerprint.value
    assert fingerprint.replace(" ", "").lower() == hub.certificate.fingerprint
    ctx = h.app.ctx
    assert ctx is not None and ctx.paired and ctx.agent is not None
    assert NodeIdentity.load(Path(h.app.data_dir)) is not None
    _until(h, lambda: ctx.online, "the node to sync with the hub")
    h.tap(screen.ids.skip)  # «Готово»
    assert h.app.root.ids.screens.current == "settings"
    assert h.app.screen("settings").vm.hub_text == f"127.0.0.1:{hub.port}"


def test_a_wrong_code_is_refused_on_screen(running: tuple[Harness, Any]) -> None:
    h, hub = running
    HubTrust(hub.data_dir).issue_code()
    screen = _open_pairing(h, hub.port)
    for digit in "11112222":
        h.tap(_key(screen, digit))
    h.tap(screen.ids.connect)
    _until(h, lambda: screen.vm.state != "working", "the hub's answer")
    h.settle()
    assert screen.ids.outcome_text.text.startswith("Код не подошёл")
    assert screen.ids.outcome.opacity == 1 and screen.result is None
    assert h.app.ctx is not None and not h.app.ctx.paired and h.app.ctx.agent is None
    assert screen.ids.skip.parent.opacity == 0  # a workstation goes back with «Назад»
    h.tap(screen.ids.back)
    assert h.app.root.ids.screens.current == "settings"
