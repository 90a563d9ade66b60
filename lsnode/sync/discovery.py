"""Finding the hub on the shop's LAN with zeroconf (mDNS/DNS-SD), service ``_lsavto._tcp.local.``.

Zeroconf only says *where* a hub is. Everything in an announcement is untrusted network input: any
device on the LAN can advertise anything, so every TXT record is validated before it is used and a
malformed one is skipped with a warning. The ``fp`` (certificate fingerprint) in the TXT record is
a hint for display and diagnostics only and is **never** used for pinning: the pin a node trusts
comes from pairing (``lsnode.sync.pairing``), and the TLS handshake with that pin decides whether
the machine found here is our hub.

TXT record, format ``v=1``::

    v=1  hub=<16 lowercase hex>  epoch=<decimal>  fp=<64 lowercase hex, SHA-256 of the TLS cert>
    schema=<decimal>  name=<human site name, UTF-8>

The instance name is ``lsavto-<hub_id>``, so two hubs never collide and a restarted hub reclaims its
own name. Unknown TXT keys are ignored (new keys are additive); an incompatible format bumps ``v``.

Everything here runs on an asyncio loop that someone else owns (``lsnode.runtime``): zeroconf is
attached to the running loop; this module starts no threads and no loops. Every API takes the list
of interface addresses to use, so tests can keep all multicast on ``127.0.0.1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

from zeroconf import IPVersion, NonUniqueNameException, ServiceInfo, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from lsnode.errors import InputError

log = logging.getLogger(__name__)

SERVICE_TYPE: Final = "_lsavto._tcp.local."
TXT_VERSION: Final = "1"
INSTANCE_PREFIX: Final = "lsavto-"
MAX_EPOCH: Final = 2**63 - 1
MAX_SCHEMA_VERSION: Final = 65535
MAX_NAME_BYTES: Final = 128
#: One TXT string is at most 255 bytes; a record with more keys than this is not from a hub.
MAX_TXT_VALUE_BYTES: Final = 255
MAX_TXT_KEYS: Final = 32
MAX_TXT_KEY_LEN: Final = 64
#: How long one resolve (SRV + TXT + A) of a seen service may take, in milliseconds.
RESOLVE_TIMEOUT_MS: Final = 3000

_HEX16 = re.compile(r"[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
_KEY = re.compile(r"[\x21-\x3c\x3e-\x7e]+")  # printable ASCII without "=" (RFC 6763 §6.4)
_BAD_NAME_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


class DiscoveryError(InputError):
    """A hub announcement (from the network or from settings) that cannot be used."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_bad_char(char: str) -> bool:
    return unicodedata.category(char) in _BAD_NAME_CATEGORIES


def _check_hub_id(hub_id: object) -> None:
    if not isinstance(hub_id, str) or not _HEX16.fullmatch(hub_id):
        raise DiscoveryError(f"hub id must be 16 lowercase hex digits, not {_show(hub_id)}")


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise DiscoveryError(f"hub name must be text, not {_show(name)}")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise DiscoveryError(f"hub name {_show(name)} is not valid Unicode") from None
    if not name or name != name.strip():
        raise DiscoveryError(f"hub name {_show(name)} is empty or has spaces at its ends")
    if size > MAX_NAME_BYTES:
        raise DiscoveryError(f"hub name is {size} bytes long; at most {MAX_NAME_BYTES}")
    if any(_is_bad_char(c) for c in name):
        raise DiscoveryError(f"hub name {_show(name)} has control characters")


def _check_int(field: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DiscoveryError(f"hub {field} must be an integer {low}..{high}, not {_show(value)}")


def _check_host(host: object) -> None:
    if not isinstance(host, str):
        raise DiscoveryError(f"hub host must be an IP address, not {_show(host)}")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise DiscoveryError(f"hub host must be an IP address, not {_show(host)}") from None
    if address.is_unspecified or address.is_multicast:
        raise DiscoveryError(f"hub host {host} cannot be connected to")


@dataclass(frozen=True, slots=True)
class HubAnnouncement:
    """Where a hub is and what it says about itself (validated; the fingerprint is not trusted)."""

    hub_id: str
    epoch: int
    fingerprint: str
    host: str
    port: int
    schema_version: int
    name: str

    def __post_init__(self) -> None:
        _check_hub_id(self.hub_id)
        _check_int("epoch", self.epoch, 0, MAX_EPOCH)
        if not isinstance(self.fingerprint, str) or not _HEX64.fullmatch(self.fingerprint):
            raise DiscoveryError(
                f"hub fingerprint must be 64 lowercase hex digits, not {_show(self.fingerprint)}"
            )
        _check_host(self.host)
        _check_int("port", self.port, 1, 65535)
        _check_int("schema version", self.schema_version, 1, MAX_SCHEMA_VERSION)
        _check_name(self.name)

    @property
    def instance_name(self) -> str:
        """The DNS-SD service name this hub is advertised under."""
        return f"{INSTANCE_PREFIX}{self.hub_id}.{SERVICE_TYPE}"

    def to_properties(self) -> dict[str, str]:
        """The TXT record, format ``v=1``."""
        return {
            "v": TXT_VERSION,
            "hub": self.hub_id,
            "epoch": str(self.epoch),
            "fp": self.fingerprint,
            "schema": str(self.schema_version),
            "name": self.name,
        }

    @classmethod
    def from_properties(cls, props: Mapping[Any, object], host: str, port: int) -> HubAnnouncement:
        """Parse and validate a TXT record (str or bytes keys and values) from the network.

        Raises :class:`DiscoveryError` for anything that is not a well-formed ``v=1`` record.
        """
        txt = _decode_txt(props)
        version = txt.get("v")
        if version != TXT_VERSION:
            raise DiscoveryError(f"TXT format v={_show(version)} is not v={TXT_VERSION}")
        for key in ("hub", "epoch", "fp", "schema", "name"):
            if txt.get(key) is None:
                raise DiscoveryError(f"TXT record has no value for {key!r}")
        return cls(
            hub_id=str(txt["hub"]),
            epoch=_parse_decimal("epoch", txt["epoch"]),
            fingerprint=str(txt["fp"]),
            host=host,
            port=port,
            schema_version=_parse_decimal("schema", txt["schema"]),
            name=str(txt["name"]),
        )

    @classmethod
    def from_info(cls, info: ServiceInfo) -> HubAnnouncement:
        """Validate a resolved zeroconf service: its name, address, port and TXT record."""
        name = info.name
        suffix = "." + SERVICE_TYPE
        if not name.lower().endswith(suffix):
            raise DiscoveryError(f"service {_show(name)} is not of type {SERVICE_TYPE}")
        addresses = info.parsed_addresses(IPVersion.V4Only) or info.parsed_addresses()
        if not addresses:
            raise DiscoveryError(f"service {_show(name)} has no address")
        port = info.port
        if port is None:
            raise DiscoveryError(f"service {_show(name)} has no port")
        announcement = cls.from_properties(info.properties, addresses[0], port)
        if name.lower() != announcement.instance_name.lower():
            raise DiscoveryError(
                f"service {_show(name)} does not match its hub id {announcement.hub_id}"
            )
        return announcement


def _decode_txt(props: object) -> dict[str, str | None]:
    if not isinstance(props, Mapping):
        raise DiscoveryError(f"TXT record must be a mapping, not {_show(props)}")
    if len(props) > MAX_TXT_KEYS:
        raise DiscoveryError(f"TXT record has {len(props)} keys; at most {MAX_TXT_KEYS}")
    txt: dict[str, str | None] = {}
    for raw_key, raw_value in props.items():
        key = _decode_text("key", raw_key)
        if not 0 < len(key) <= MAX_TXT_KEY_LEN or not _KEY.fullmatch(key):
            raise DiscoveryError(f"TXT key {_show(key)} is not printable ASCII")
        key = key.lower()
        if key in txt:
            raise DiscoveryError(f"TXT key {key!r} appears twice")
        txt[key] = None if raw_value is None else _decode_text(f"value of {key!r}", raw_value)
    return txt


def _decode_text(what: str, raw: object) -> str:
    if isinstance(raw, bytes):
        encoded = raw
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DiscoveryError(f"TXT {what} is not UTF-8") from None
    elif isinstance(raw, str):
        text = raw
        try:
            encoded = raw.encode("utf-8")
        except UnicodeEncodeError:
            raise DiscoveryError(f"TXT {what} is not valid Unicode") from None
    else:
        raise DiscoveryError(f"TXT {what} must be text, not {_show(raw)}")
    if len(encoded) > MAX_TXT_VALUE_BYTES:
        raise DiscoveryError(f"TXT {what} is {len(encoded)} bytes; at most {MAX_TXT_VALUE_BYTES}")
    return text


def _parse_decimal(key: str, value: str | None) -> int:
    if value is None or not _DECIMAL.fullmatch(value):
        raise DiscoveryError(f"TXT {key!r} must be a plain decimal number, not {_show(value)}")
    return int(value)


def _ip_version(interfaces: list[str]) -> IPVersion:
    """Check the interface addresses and choose the IP versions they need."""
    if not isinstance(interfaces, list) or not interfaces:
        raise DiscoveryError("zeroconf needs a non-empty list of interface addresses")
    versions = set()
    for interface in interfaces:
        try:
            versions.add(ipaddress.ip_address(interface).version)
        except ValueError:
            raise DiscoveryError(f"interface {_show(interface)} is not an IP address") from None
    if versions == {4}:
        return IPVersion.V4Only
    if versions == {6}:
        return IPVersion.V6Only
    return IPVersion.All


def _open_zeroconf(interfaces: list[str], ip_version: IPVersion) -> AsyncZeroconf:
    # Zeroconf attaches to the running loop when there is one; without it, it would start a
    # thread with a loop of its own, which the runtime forbids.
    asyncio.get_running_loop()
    return AsyncZeroconf(interfaces=list(interfaces), ip_version=ip_version)


class HubAdvertiser:
    """Advertises one hub on the given interfaces (the hub process owns one of these)."""

    def __init__(self, announcement: HubAnnouncement, interfaces: list[str]) -> None:
        if not isinstance(announcement, HubAnnouncement):
            raise TypeError("announcement must be a HubAnnouncement")
        self._interfaces = list(interfaces)
        self._ip_version = _ip_version(self._interfaces)
        self._announcement = announcement
        self._aiozc: AsyncZeroconf | None = None
        self._info: ServiceInfo | None = None

    @property
    def announcement(self) -> HubAnnouncement:
        return self._announcement

    @property
    def running(self) -> bool:
        return self._info is not None

    def _service_info(self) -> ServiceInfo:
        ann = self._announcement
        return AsyncServiceInfo(
            SERVICE_TYPE,
            ann.instance_name,
            port=ann.port,
            properties=ann.to_properties(),
            server=f"{INSTANCE_PREFIX}{ann.hub_id}.local.",
            parsed_addresses=[ann.host],
        )

    async def start(self) -> None:
        """Probe for the name (~1.6 s) and announce; a second hub with this id is refused."""
        if self._aiozc is not None:
            return
        aiozc = _open_zeroconf(self._interfaces, self._ip_version)
        info = self._service_info()
        try:
            await (await aiozc.async_register_service(info))
        except NonUniqueNameException:
            await aiozc.async_close()
            raise DiscoveryError(
                f"another hub already advertises hub id {self._announcement.hub_id} on this network"
            ) from None
        except BaseException:
            await aiozc.async_close()
            raise
        self._aiozc, self._info = aiozc, info

    async def update(self, epoch: int) -> None:
        """Re-announce with a new epoch (after a restore); nodes see it as an update."""
        self._announcement = dataclasses.replace(self._announcement, epoch=epoch)
        if self._aiozc is None:
            return
        info = self._service_info()
        await (await self._aiozc.async_update_service(info))
        self._info = info

    async def stop(self) -> None:
        """Send goodbyes so browsers drop the hub at once, then close zeroconf."""
        aiozc, info = self._aiozc, self._info
        self._aiozc = self._info = None
        if aiozc is None:
            return
        try:
            if info is not None:
                await (await aiozc.async_unregister_service(info))
        finally:
            await aiozc.async_close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


OnChange = Callable[[dict[str, HubAnnouncement]], None]


class HubBrowser:
    """Keeps ``hubs`` (hub id → announcement) current as hubs come, change and go.

    ``on_change`` is called on the loop with a fresh copy of ``hubs`` after every change.
    A hub may still be listed for a while after it vanished without a goodbye (until its records
    expire); whoever connects must cope with a hub that is not there.
    """

    def __init__(self, interfaces: list[str], on_change: OnChange | None = None) -> None:
        self._interfaces = list(interfaces)
        self._ip_version = _ip_version(self._interfaces)
        self._on_change = on_change
        self._aiozc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._by_name: dict[str, HubAnnouncement] = {}
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._warned: dict[str, str] = {}
        self._waiters: list[tuple[str | None, asyncio.Future[HubAnnouncement | None]]] = []

    @property
    def hubs(self) -> dict[str, HubAnnouncement]:
        return {ann.hub_id: ann for ann in self._by_name.values()}

    async def start(self) -> None:
        if self._aiozc is not None:
            return
        self._aiozc = _open_zeroconf(self._interfaces, self._ip_version)
        self._browser = AsyncServiceBrowser(
            self._aiozc.zeroconf, SERVICE_TYPE, handlers=[self._on_service_state_change]
        )

    async def stop(self) -> None:
        aiozc, browser = self._aiozc, self._browser
        self._aiozc = self._browser = None
        tasks = list(self._resolving.values())
        self._resolving.clear()
        for task in tasks:
            task.cancel()
        for _, future in self._waiters:
            if not future.done():
                future.set_result(None)
        self._waiters.clear()
        self._by_name.clear()
        self._warned.clear()
        try:
            if browser is not None:
                await browser.async_cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            if aiozc is not None:
                await aiozc.async_close()

    async def wait_for(self, hub_id: str | None, timeout: float) -> HubAnnouncement | None:
        """The hub with this id (or the first hub found, for ``None``), or None after timeout."""
        if hub_id is not None:
            _check_hub_id(hub_id)
        if self._aiozc is None:
            raise RuntimeError("start() the browser before waiting for a hub")
        found = self._match(hub_id)
        if found is not None:
            return found
        future: asyncio.Future[HubAnnouncement | None] = asyncio.get_running_loop().create_future()
        waiter = (hub_id, future)
        self._waiters.append(waiter)
        try:
            # stop() answers every waiter with None
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _match(self, hub_id: str | None) -> HubAnnouncement | None:
        for ann in self._by_name.values():
            if hub_id is None or ann.hub_id == hub_id:
                return ann
        return None

    def _on_service_state_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        pending = self._resolving.pop(name, None)
        if pending is not None:
            pending.cancel()
        if state_change is ServiceStateChange.Removed:
            self._warned.pop(name, None)
            if self._by_name.pop(name, None) is not None:
                self._changed()
            return
        self._resolving[name] = asyncio.get_running_loop().create_task(
            self._resolve(zeroconf, service_type, name), name=f"resolve {name}"
        )

    async def _resolve(self, zeroconf: Zeroconf, service_type: str, name: str) -> None:
        try:
            info = AsyncServiceInfo(service_type, name)
            if not await info.async_request(zeroconf, RESOLVE_TIMEOUT_MS):
                log.debug("zeroconf: %s did not resolve in time", name)
                return
            announcement = HubAnnouncement.from_info(info)
        except DiscoveryError as exc:
            if self._warned.get(name) != str(exc):
                self._warned[name] = str(exc)
                log.warning("zeroconf: skipping service %r: %s", name, exc)
            if self._by_name.pop(name, None) is not None:
                self._changed()
            return
        finally:
            if self._resolving.get(name) is asyncio.current_task():
                del self._resolving[name]
        self._warned.pop(name, None)
        if self._by_name.get(name) != announcement:
            self._by_name[name] = announcement
            self._changed()

    def _changed(self) -> None:
        for hub_id, future in list(self._waiters):
            found = self._match(hub_id)
            if found is not None and not future.done():
                future.set_result(found)
        if self._on_change is not None:
            try:
                self._on_change(self.hubs)
            except Exception:
                log.exception("zeroconf: on_change callback failed")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def find_hub(
    interfaces: list[str], hub_id: str | None = None, timeout: float = 5.0
) -> HubAnnouncement | None:
    """Browse once: the hub with this id (or the first one seen), or None after ``timeout``."""
    async with HubBrowser(interfaces) as browser:
        return await browser.wait_for(hub_id, timeout)
