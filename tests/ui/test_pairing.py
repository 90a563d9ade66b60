"""Pairing from the app against a REAL hub on 127.0.0.1 (``hub.server.Hub`` in this process).

The view-model runs ``lsnode.sync.client.pair`` on a real runtime loop; its results come back
through a queue the test drains, as Kivy's Clock would run them on the main thread.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lsnode.runtime import Runtime
from lsnode.sync.pairing import HubTrust, NodeIdentity, pairing_uri
from lsnode.ui import i18n
from lsnode.ui.screens.pairing import (
    PairingVM,
    error_reason,
    format_code,
    format_fingerprint,
    valid_address,
)

FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
LOOPBACK = ["127.0.0.1"]


class MainThread:
    def __init__(self) -> None:
        self.inbox: queue.Queue[Callable[[], None]] = queue.Queue()

    def post(self, fn: Callable[[], None]) -> None:
        self.inbox.put(fn)

    def until(self, check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout * FACTOR
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            with contextlib.suppress(queue.Empty):
                self.inbox.get(timeout=0.05)()


@pytest.fixture
def main() -> MainThread:
    return MainThread()


@pytest.fixture
def runtime(main: MainThread) -> Iterator[Runtime]:
    rt = Runtime(poster=main.post)
    rt.start()
    yield rt
    rt.stop()


def _hub(path: Path, runtime: Runtime, mdns: list[str] | None = None) -> Iterator[Any]:
    from hub.server import Hub

    h = Hub(path, mdns_interfaces=mdns, name="Автосалон «Тест»")
    runtime.call_blocking(h.start(), 30 * FACTOR)
    yield h
    runtime.call_blocking(h.stop(), 30 * FACTOR)


@pytest.fixture
def hub(tmp_path: Path, runtime: Runtime) -> Iterator[Any]:
    """A real hub on 127.0.0.1 with a port of its own."""
    yield from _hub(tmp_path / "hub", runtime)


@pytest.fixture
def announced_hub(tmp_path: Path, runtime: Runtime) -> Iterator[Any]:
    """The same, announced by zeroconf on the loopback interface only."""
    yield from _hub(tmp_path / "hub", runtime, LOOPBACK)


def _vm(data_dir: Path, runtime: Runtime, main: MainThread, **kw: Any) -> PairingVM:
    return PairingVM(
        data_dir=data_dir,
        node_name="kiosk test",
        submit=lambda coro: runtime.submit(coro, log_errors=False),
        post=runtime.post,
        **kw,
    )


def _type_code(vm: PairingVM, code: str) -> None:
    vm.select("code")
    for char in code:
        vm.press(char)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_pairing_with_the_hubs_code_saves_the_identity_and_shows_the_hub(
    hub: Any, data_dir: Path, runtime: Runtime, main: MainThread
) -> None:
    paired: list[NodeIdentity] = []
    vm = _vm(data_dir, runtime, main)
    vm.on_paired = paired.append
    vm.select("address")
    for char in f"127.0.0.1:{hub.port}":
        vm.press(char)
    assert vm.address == f"127.0.0.1:{hub.port}"
    code = HubTrust(hub.data_dir).issue_code().code  # «4821-9377»
    _type_code(vm, code)
    assert vm.code == code.replace("-", "") and vm.code_text == code
    vm.pair()
    assert vm.state == "working" and vm.message == f"Подключаемся к 127.0.0.1:{hub.port}…"
    main.until(lambda: vm.state != "working", "the hub's answer")
    assert vm.state == "done", vm.message
    assert vm.message == "Устройство подключено к хабу"
    assert vm.hub_id == hub.store.hub_id
    assert vm.fingerprint_text == format_fingerprint(hub.certificate.fingerprint)
    identity = NodeIdentity.load(data_dir)
    assert identity is not None and paired == [identity]
    assert identity.hub_address == f"127.0.0.1:{hub.port}" and identity.node_id == vm.node_id
    assert vm.code == "" and vm.current_text == f"Сейчас подключено к 127.0.0.1:{hub.port}"
    assert [n["name"] for n in hub.trust.nodes()] == ["kiosk test"]


def test_a_wrong_code_is_refused_and_nothing_is_saved(
    hub: Any, data_dir: Path, runtime: Runtime, main: MainThread
) -> None:
    HubTrust(hub.data_dir).issue_code()
    vm = _vm(data_dir, runtime, main)
    vm.set_address(f"127.0.0.1:{hub.port}")
    _type_code(vm, "12345678")
    vm.pair()
    main.until(lambda: vm.state != "working", "the hub's answer")
    assert (vm.state, vm.reason) == ("error", "invalid_code")
    assert vm.message.startswith("Код не подошёл: он неверный, уже использован или истёк")
    i18n.set_lang("en")
    assert vm.message.startswith("The code did not work")
    assert NodeIdentity.load(data_dir) is None and hub.trust.nodes() == []
    vm.erase()  # typing again clears the message
    assert vm.state == "idle" and vm.message == ""


def test_an_expired_code_says_the_same_and_too_many_wrong_codes_lock_out(
    hub: Any, data_dir: Path, runtime: Runtime, main: MainThread
) -> None:
    vm = _vm(data_dir, runtime, main)
    vm.set_address(f"127.0.0.1:{hub.port}")
    reasons = []
    for attempt in range(5):
        vm.set_code(f"0000000{attempt}")
        vm.pair()
        main.until(lambda: vm.state != "working", "the hub's answer")
        reasons.append(vm.reason)
    assert reasons == ["invalid_code"] * 4 + ["locked_out"]
    assert vm.message.startswith("Слишком много неверных кодов")


def test_no_hub_at_the_address_says_it_is_unreachable(
    data_dir: Path, runtime: Runtime, main: MainThread
) -> None:
    vm = _vm(data_dir, runtime, main)
    address = f"127.0.0.1:{_free_port()}"
    vm.set_address(address)
    vm.set_code("1234-5678")
    vm.pair()
    main.until(lambda: vm.state != "working", "the connection to fail")
    assert vm.reason == "unreachable"
    assert vm.message == f"Хаб не отвечает по адресу {address}. Проверьте адрес, порт и сеть"


def test_a_pairing_link_with_another_certificate_is_a_pin_mismatch(
    hub: Any, data_dir: Path, runtime: Runtime, main: MainThread
) -> None:
    code = HubTrust(hub.data_dir).issue_code().code
    vm = _vm(data_dir, runtime, main)
    vm.set_address(pairing_uri(f"127.0.0.1:{hub.port}", code, "ab" * 32))  # pasted link
    assert vm.address == f"127.0.0.1:{hub.port}" and vm.code_text == code
    assert vm.fingerprint == "ab" * 32
    vm.pair()
    main.until(lambda: vm.state != "working", "the handshake")
    assert vm.reason == "pin" and vm.message.startswith("Сертификат хаба не совпадает")
    assert NodeIdentity.load(data_dir) is None
    vm.select("address")  # the address typed again by hand: the link's pin goes with it
    last = vm.address[-1]
    vm.erase()
    vm.press(last)
    assert vm.fingerprint is None
    vm.pair()
    main.until(lambda: vm.state != "working", "the hub's answer")
    assert vm.state == "done"


def test_the_form_is_checked_before_anything_goes_out(data_dir: Path) -> None:
    sent: list[Any] = []
    vm = PairingVM(
        data_dir=data_dir, node_name="t", submit=lambda c: sent.append(c.close()), post=print
    )
    vm.pair()
    assert vm.reason == "bad_address"
    assert vm.message == "Адрес хаба — это хост и порт, например 192.168.1.10:8765"
    vm.set_address("192.168.1.10:8765")
    _type_code(vm, "48219")
    vm.pair()
    assert (vm.reason, vm.message) == ("code_incomplete", "Код — 8 цифр, введено 5")
    vm.select("address")
    vm.press(":")
    vm.erase()
    assert vm.address == "192.168.1.10:8765"
    vm.select("code")
    vm.press(".")  # not a code character
    assert vm.code == "48219"
    vm.set_address("lsavto://pair?hub=x")
    assert vm.reason == "bad_link"
    assert sent == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("192.168.1.10:8765", True),
        ("hub.local:443", True),
        ("[::1]:8765", True),
        ("192.168.1.10", False),
        ("192.168.1.10:0", False),
        ("192.168.1.10:99999", False),
        ("http://hub:1", False),
        ("", False),
    ],
)
def test_hub_addresses(text: str, ok: bool) -> None:
    assert valid_address(text) is ok


def test_codes_and_fingerprints_read_as_the_hub_shows_them() -> None:
    assert format_code("4821") == "4821" and format_code("48219377") == "4821-9377"
    assert format_fingerprint("ab" * 32).startswith("ABAB ABAB ")
    assert error_reason(TimeoutError())[0] == "unreachable"
    assert error_reason(ConnectionRefusedError())[0] == "unreachable"


def test_a_hub_found_by_zeroconf_fills_in_the_address(
    announced_hub: Any, data_dir: Path, runtime: Runtime, main: MainThread
) -> None:
    hub = announced_hub
    from lsnode.sync.discovery import find_hub

    vm = _vm(
        data_dir,
        runtime,
        main,
        discover=lambda: find_hub(LOOPBACK, hub.store.hub_id, 10 * FACTOR),
    )
    vm.discover()
    main.until(lambda: bool(vm.address), "the hub's announcement")
    assert vm.address == f"127.0.0.1:{hub.port}"
    assert vm.found_text == "Найден в сети: Автосалон «Тест»"
