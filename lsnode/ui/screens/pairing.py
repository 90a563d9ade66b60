"""«Подключение к хабу»: pair this device with the hub from the app (screen ``pairing``).

Reached from «Настройки» («Подключить к хабу»), and on a kiosk with ``lsavto kiosk --pair`` or
when it is not paired yet. The staff type the hub's address (HOST:PORT — filled in when zeroconf
finds a hub on the LAN; a pasted ``lsavto://pair?…`` link fills in everything) and the one-time
code the hub shows (``lsavto hub pairing-code``: 8 digits, ten minutes, single use). An
on-screen keypad types into the selected field, so a kiosk with no keyboard pairs too.

``PairingVM`` runs ``lsnode.sync.client.pair`` on the runtime loop and hears back on the main
thread; success shows the hub's id and certificate fingerprint and (re)starts sync
(``NodeContext.restart_sync``); failure shows one translated line: wrong or expired code, too
many wrong codes, hub unreachable, certificate pin mismatch, or what the hub said.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import urllib.parse
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, ObjectProperty, OptionProperty, StringProperty

from lsnode.errors import InputError
from lsnode.sync.client import SyncError, pair
from lsnode.sync.keys import TrustError
from lsnode.sync.pairing import CODE_DIGITS, NodeIdentity, PairingError, parse_pairing_uri
from lsnode.ui import i18n
from lsnode.ui.screens import ORDER, LsScreen, load_kv, register
from lsnode.ui.theme.widgets import Panel

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

log = logging.getLogger("lsavto.ui.pairing")

DISCOVERY_TIMEOUT_S: Final = 3.0
MAX_ADDRESS: Final = 255

STRINGS = {
    "pairing.title": ("Подключение к хабу", "Pair with the hub"),
    "pairing.open": ("Подключить к хабу", "Pair with a hub"),
    "pairing.intro": (
        "Хаб — главный компьютер салона: через него устройства обмениваются данными. "
        "Одноразовый код покажет хаб: команда «lsavto hub pairing-code»",
        "The hub is the dealership's main computer: devices share data through it. "
        "The hub shows a one-time code: run “lsavto hub pairing-code” there",
    ),
    "pairing.address": ("Адрес хаба", "Hub address"),
    "pairing.address_hint": ("Например 192.168.1.10:8765", "E.g. 192.168.1.10:8765"),
    "pairing.found": ("Найден в сети: {name}", "Found on the network: {name}"),
    "pairing.current": ("Сейчас подключено к {address}", "Now paired with {address}"),
    "pairing.code": ("Код подключения", "Pairing code"),
    "pairing.code_hint": ("8 цифр, действует 10 минут", "8 digits, valid for 10 minutes"),
    "pairing.connect": ("Подключить", "Pair"),
    "pairing.working": ("Подключаемся к {address}…", "Connecting to {address}…"),
    "pairing.done": ("Устройство подключено к хабу", "This device is paired with the hub"),
    "pairing.done_text": (
        "Синхронизация запущена: данные салона появятся через несколько секунд",
        "Sync has started: the dealership's data arrives in a few seconds",
    ),
    "pairing.hub": ("Хаб", "Hub"),
    "pairing.fingerprint": ("Отпечаток сертификата", "Certificate fingerprint"),
    "pairing.node": ("Это устройство", "This device"),
    "pairing.back": ("Назад", "Back"),
    "pairing.skip": ("Работать без хаба", "Work without a hub"),
    "pairing.finish": ("Готово", "Done"),
    "pairing.form": ("Данные для подключения", "Connection details"),
    "pairing.error.invalid_code": (
        "Код не подошёл: он неверный, уже использован или истёк. Получите на хабе новый код",
        "The code did not work: it is wrong, already used or expired. Get a new one on the hub",
    ),
    "pairing.error.locked_out": (
        "Слишком много неверных кодов: хаб отменил все открытые коды. Получите новый код",
        "Too many wrong codes: the hub cancelled every open code. Get a new code",
    ),
    "pairing.error.pin": (
        "Сертификат хаба не совпадает с ожидаемым: возможно, по этому адресу не ваш хаб. "
        "Проверьте адрес",
        "The hub's certificate is not the expected one: this address may not be your hub. "
        "Check the address",
    ),
    "pairing.error.unreachable": (
        "Хаб не отвечает по адресу {address}. Проверьте адрес, порт и сеть",
        "No hub answers at {address}. Check the address, the port and the network",
    ),
    "pairing.error.refused": ("Хаб отказал в подключении: {detail}", "The hub refused: {detail}"),
    "pairing.error.bad_address": (
        "Адрес хаба — это хост и порт, например 192.168.1.10:8765",
        "The hub address is a host and a port, e.g. 192.168.1.10:8765",
    ),
    "pairing.error.code_incomplete": (
        "Код — 8 цифр, введено {n}",
        "The code has 8 digits; {n} typed",
    ),
    "pairing.error.bad_link": (
        "Это не ссылка для подключения LSAvto",
        "This is not an LSAvto pairing link",
    ),
    "pairing.error.failed": ("Не удалось подключиться: {detail}", "Could not pair: {detail}"),
}
i18n.register(STRINGS)
load_kv(__file__)

ERRORS: Final = (
    "invalid_code",
    "locked_out",
    "pin",
    "unreachable",
    "refused",
    "bad_address",
    "code_incomplete",
    "bad_link",
    "failed",
)
_UNREACHABLE: tuple[type[BaseException], ...] = (OSError, TimeoutError, asyncio.TimeoutError)

Submit = Callable[[Coroutine[Any, Any, Any]], "Future[Any]"]
Post = Callable[..., None]


def valid_address(text: str) -> bool:
    """``HOST:PORT`` (a name, an IPv4 or a bracketed IPv6 address, and a port 1–65535)."""
    if not text or len(text) > MAX_ADDRESS or any(c in text for c in "/?#@\\ "):
        return False
    try:
        parts = urllib.parse.urlsplit("//" + text)
        port = parts.port
    except ValueError:
        return False
    return bool(parts.hostname) and port is not None and port > 0 and parts.netloc == text


def format_code(digits: str) -> str:
    """``48219377`` → ``4821-9377`` (as the hub shows it); partial codes group the same way."""
    return digits if len(digits) <= 4 else f"{digits[:4]}-{digits[4:]}"


def format_fingerprint(fingerprint: str) -> str:
    """64 hex digits in groups of four, upper case, to read aloud and compare with the hub."""
    text = fingerprint.upper()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def error_reason(exc: BaseException) -> tuple[str, str]:
    """(reason, detail) of a failed pairing: the reason picks the user's message."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, TrustError):
        return "pin", detail
    if isinstance(exc, PairingError):
        return exc.reason if exc.reason in ERRORS else "failed", detail
    if isinstance(exc, SyncError):
        if "wrong pairing codes in a row" in detail:
            return "locked_out", detail
        if "wrong or has expired" in detail:
            return "invalid_code", detail
        if "refused pairing" in detail:
            return "refused", detail.split(": ", 1)[-1]
        return "unreachable", detail
    if isinstance(exc, _UNREACHABLE):
        return "unreachable", detail
    try:
        from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException

        if isinstance(exc, InvalidHandshake | InvalidURI | WebSocketException):
            return "unreachable", detail
    except ImportError:  # pragma: no cover - websockets is a dependency
        pass
    return "failed", detail


def lan_address() -> str | None:
    """This machine's address on the LAN (the source of its default route), to look for a hub
    by zeroconf; None without a network. Connecting a UDP socket sends nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routed like the internet, never used
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("0.") else address


def node_name(device: str) -> str:
    """How the hub lists this device: «kiosk reception-1»."""
    name = f"{device} {socket.gethostname()}".strip()
    return "".join(c for c in name if c.isprintable())[:64] or device


class PairingVM(EventDispatcher):  # type: ignore[misc]
    """The pairing form; ``submit(coro) -> Future`` runs on the runtime loop and ``post(fn, *a)``
    comes back to the main thread (``Runtime.submit`` / ``Runtime.post``). ``on_paired(identity)``
    runs on the main thread after a success. ``discover()`` returns a coroutine that finds a
    hub announcement (or None)."""

    address = StringProperty("")
    code = StringProperty("")  # the digits only
    code_text = StringProperty("")  # «4821-9377»
    target = OptionProperty("code", options=["address", "code"])
    state = OptionProperty("idle", options=["idle", "working", "done", "error"])
    message = StringProperty("")
    reason = StringProperty("")  # the last error's reason (one of ERRORS), for tests and logs
    found_text = StringProperty("")
    current_text = StringProperty("")
    hub_id = StringProperty("")
    fingerprint_text = StringProperty("")
    node_id = StringProperty("")
    busy = BooleanProperty(False)
    on_paired: Any = ObjectProperty(None, allownone=True)

    def __init__(
        self,
        *,
        data_dir: Path,
        node_name: str,
        submit: Submit,
        post: Post,
        identity: NodeIdentity | None = None,
        discover: Callable[[], Coroutine[Any, Any, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data_dir = Path(data_dir)
        self.node_name = node_name
        self._submit, self._post = submit, post
        self._discover = discover
        self._discovered = False
        self._found_name = ""
        self.fingerprint: str | None = None  # a pin, only from a pairing link
        self._error: tuple[str, dict[str, str]] | None = None
        if identity is not None:
            self.address = identity.hub_address
            self._current = identity.hub_address
        else:
            self._current = ""
        i18n.on_lang_change(self._on_lang)
        self._texts()

    # -- typing ------------------------------------------------------------------------------

    def select(self, target: str) -> None:
        self.target = target

    def press(self, key: str) -> None:
        """A key of the on-screen keypad: a digit, «.» or «:» (the address only)."""
        if self.target == "code":
            if key.isdigit():
                self.set_code(self.code + key)
        elif key.isdigit() or key in ".:":
            self.set_address(self.address + key)

    def erase(self) -> None:
        if self.target == "code":
            self.set_code(self.code[:-1])
        else:
            self.set_address(self.address[:-1])

    def set_address(self, text: str) -> None:
        text = text.strip()
        if text.lower().startswith("lsavto://"):
            self.use_link(text)
            return
        if text != self.address:
            self.address = text[:MAX_ADDRESS]
            self.fingerprint = None  # a pin belongs to the link's address only
            self._clear_error()

    def set_code(self, text: str) -> None:
        digits = "".join(c for c in text if c.isdigit())[:CODE_DIGITS]
        if digits != self.code:
            self.code = digits
            self._clear_error()
        self.code_text = format_code(self.code)

    def use_link(self, uri: str) -> None:
        """A pasted ``lsavto://pair?hub=…&code=…&fp=…`` fills in everything, with the pin."""
        try:
            invite = parse_pairing_uri(uri)
        except PairingError:
            self._fail("bad_link")
            return
        self.address, self.fingerprint = invite.hub, invite.fingerprint
        self.set_code(invite.code)
        self._clear_error()

    def _clear_error(self) -> None:
        if self.state in ("error", "done"):
            self.state, self.message, self.reason, self._error = "idle", "", "", None

    # -- pairing -----------------------------------------------------------------------------

    def pair(self) -> None:
        """Check the form, then pair on the runtime loop; the result comes back by ``post``."""
        if self.busy:
            return
        address = self.address.strip()
        if not valid_address(address):
            self._fail("bad_address")
            return
        if len(self.code) != CODE_DIGITS:
            self._fail("code_incomplete", n=str(len(self.code)))
            return
        self.busy, self.state, self.reason, self._error = True, "working", "", None
        self.message = i18n.tr("pairing.working", address=address)
        coro = pair(self.data_dir, address, self.code, self.node_name, self.fingerprint)
        future = self._submit(coro)
        future.add_done_callback(lambda f: self._post(self._finished, f, address))

    def _finished(self, future: Future[NodeIdentity], address: str) -> None:
        self.busy = False
        try:
            identity = future.result()
        except Exception as exc:  # every failure becomes one line for the user
            reason, detail = error_reason(exc)
            log.info("pairing with %s failed (%s): %s", address, reason, detail)
            self._fail(reason, address=address, detail=detail)
            return
        self.code = ""
        self.code_text = ""
        self.state, self.reason = "done", ""
        self.hub_id, self.node_id = identity.hub_id, identity.node_id
        self.fingerprint_text = format_fingerprint(identity.hub_fingerprint)
        self._current = identity.hub_address
        self._texts()
        if self.on_paired is not None:
            self.on_paired(identity)

    def _fail(self, reason: str, **fmt: str) -> None:
        self.state, self.reason = "error", reason
        self._error = (reason, fmt)
        self._texts()

    # -- finding the hub ---------------------------------------------------------------------

    def discover(self) -> None:
        """Look for a hub by zeroconf once, to fill in an empty address."""
        if self._discover is None or self._discovered or self.address:
            return
        self._discovered = True
        try:
            future = self._submit(self._discover())
        except Exception as exc:  # no runtime, no network: typing the address still works
            log.info("hub discovery did not start: %s", exc)
            return
        future.add_done_callback(lambda f: self._post(self._found, f))

    def _found(self, future: Future[Any]) -> None:
        try:
            found = future.result()
        except Exception as exc:
            log.info("hub discovery failed: %s", exc)
            return
        if found is None:
            return
        self._found_name = str(found.name)
        self.found_text = i18n.tr("pairing.found", name=self._found_name)
        if not self.address:
            self.address = f"{found.host}:{found.port}"

    # -- texts -------------------------------------------------------------------------------

    def _on_lang(self, _lang: str) -> None:
        self._texts()
        if self._found_name:
            self.found_text = i18n.tr("pairing.found", name=self._found_name)

    def _texts(self) -> None:
        self.code_text = format_code(self.code)
        self.current_text = (
            i18n.tr("pairing.current", address=self._current) if self._current else ""
        )
        if self.state == "error" and self._error is not None:
            reason, fmt = self._error
            self.message = i18n.tr(f"pairing.error.{reason}", **fmt)
        elif self.state == "done":
            self.message = i18n.tr("pairing.done")
        elif self.state == "working":
            self.message = i18n.tr("pairing.working", address=self.address)
        else:
            self.message = ""


class PairingKeypad(Panel):
    """Digits, «.» and «:» typing into the selected field (``vm.target``)."""

    vm: Any = ObjectProperty(None, allownone=True, rebind=True)  # kv chains through it


class PairingResult(Panel):
    """The hub's id and certificate fingerprint after a success."""

    vm: Any = ObjectProperty(None, allownone=True, rebind=True)  # kv chains through it


class PairingScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    home = StringProperty("settings")  # where «Назад» / «Готово» lead
    kiosk = BooleanProperty(False)

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        ctx = app.ctx
        runtime = app.runtime
        interfaces = getattr(ctx, "mdns_interfaces", None)

        def discover() -> Coroutine[Any, Any, Any]:
            from lsnode.sync.discovery import find_hub

            where = interfaces or [a for a in (lan_address(),) if a]
            if not where:
                raise InputError("no network to look for a hub on")
            return find_hub(where, None, DISCOVERY_TIMEOUT_S)

        vm = PairingVM(
            data_dir=Path(app.data_dir),
            node_name=node_name(app.device),
            submit=lambda coro: runtime.submit(coro, log_errors=False),
            post=runtime.post,
            identity=getattr(ctx, "identity", None),
            # a real run looks on the LAN; screenshots and tests only where they say (loopback)
            discover=discover if interfaces or getattr(app, "sync", False) else None,
        )
        home = getattr(app, "home_screen", "settings")
        super().__init__(app, vm=vm, home=home, kiosk=home == "kiosk", **kwargs)
        vm.on_paired = self._paired
        self.result: Any = None  # the hub's facts, shown in the keypad's place after a success
        vm.fbind("state", self._show_result)

    def _show_result(self, *_: Any) -> None:
        side, keypad = self.ids.side, self.ids.keypad_panel
        done = self.vm.state == "done"
        if done and self.result is None:
            self.result = PairingResult(vm=self.vm)
        shown, hidden = (self.result, keypad) if done else (keypad, self.result)
        if hidden is not None and hidden.parent is not None:  # (ids are weak proxies: no «is»)
            side.remove_widget(hidden)
        if shown is not None and shown.parent is None:
            side.add_widget(shown)

    def _paired(self, _identity: NodeIdentity) -> None:
        if self.app.ctx is not None:
            self.app.ctx.restart_sync()

    def on_pre_enter(self, *args: Any) -> None:
        super().on_pre_enter(*args)
        self.vm.discover()

    def leave(self) -> None:
        self.app.go(self.home)


register(
    "pairing",
    lambda app: PairingScreen(app),
    label="pairing.title",
    icon="lan-connect",
    order=ORDER["settings"] + 1,
    nav=False,
)
