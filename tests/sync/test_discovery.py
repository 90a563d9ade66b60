"""Zeroconf discovery of the hub: real mDNS, but only ever on 127.0.0.1 (never the real NIC).

Hub ids are random per test, and assertions only look at this test's hubs, so two test runs on one
machine (which share the loopback multicast group) cannot disturb each other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zeroconf import IPVersion, NonUniqueNameException, ServiceInfo
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from lsnode.errors import InputError
from lsnode.sync.discovery import (
    MAX_EPOCH,
    SERVICE_TYPE,
    DiscoveryError,
    HubAdvertiser,
    HubAnnouncement,
    HubBrowser,
    find_hub,
)

LOOPBACK = ["127.0.0.1"]
FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
REPO = Path(__file__).resolve().parents[2]


def scaled(seconds: float) -> float:
    return seconds * FACTOR


def announcement(**changes: Any) -> HubAnnouncement:
    fields: dict[str, Any] = {
        "hub_id": secrets.token_hex(8),
        "epoch": 1,
        "fingerprint": secrets.token_hex(32),
        "host": "127.0.0.1",
        "port": 8443,
        "schema_version": 1,
        "name": "Автосалон «Север»",
    }
    fields.update(changes)
    return HubAnnouncement(**fields)


async def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + scaled(timeout)
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {scaled(timeout):.1f} s: {what}")
        await asyncio.sleep(0.02)


# --- on the wire (loopback) ---------------------------------------------------------------------


def test_a_hub_is_found_updated_and_said_goodbye_to() -> None:
    hub = announcement(epoch=7)
    views: list[dict[str, HubAnnouncement]] = []

    async def scenario() -> tuple[float, int]:
        threads = threading.active_count()
        async with HubBrowser(LOOPBACK, on_change=views.append) as browser:
            advertiser = HubAdvertiser(hub, LOOPBACK)
            started = time.monotonic()
            registering = asyncio.create_task(advertiser.start())
            found = await browser.wait_for(hub.hub_id, scaled(10))
            elapsed = time.monotonic() - started
            await registering
            assert found == hub
            assert browser.hubs[hub.hub_id] == hub
            assert (await browser.wait_for(hub.hub_id, 0)) == hub  # already known: no waiting
            # zeroconf rides the caller's loop: neither it nor this module started a thread
            busy_threads = threading.active_count()

            await advertiser.update(epoch=8)  # the hub was restored
            assert advertiser.announcement == dataclasses.replace(hub, epoch=8)
            await eventually(
                lambda: browser.hubs[hub.hub_id].epoch == 8, 5, "the new epoch is seen"
            )
            assert browser.hubs[hub.hub_id] == dataclasses.replace(hub, epoch=8)

            await advertiser.stop()
            await eventually(lambda: hub.hub_id not in browser.hubs, 5, "the goodbye is seen")
            await advertiser.stop()  # stopping twice is harmless
        assert busy_threads == threads
        print(f"advertise-start to browser-found: {elapsed:.2f} s")
        return elapsed, busy_threads

    asyncio.run(scenario())
    # other hubs on the loopback (other test runs) may come and go too: look at ours only
    ours = [view[hub.hub_id].epoch if hub.hub_id in view else None for view in views]
    ours = ours[ours.index(7) :]
    assert [epoch for i, epoch in enumerate(ours) if i == 0 or ours[i - 1] != epoch] == [7, 8, None]


def test_two_hubs_are_told_apart_and_a_malformed_service_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    north = announcement(name="Север", port=8443)
    south = announcement(name="Юг", port=9443, epoch=3)
    bad = announcement()
    bad_props = {**bad.to_properties(), "fp": bad.fingerprint.upper()}
    bad_info = AsyncServiceInfo(
        SERVICE_TYPE,
        bad.instance_name,
        port=bad.port,
        properties=bad_props,
        server=f"lsavto-{bad.hub_id}.local.",
        parsed_addresses=["127.0.0.1"],
    )

    async def scenario() -> None:
        async with HubBrowser(LOOPBACK) as browser:
            rogue = AsyncZeroconf(interfaces=LOOPBACK, ip_version=IPVersion.V4Only)
            advertisers = [HubAdvertiser(north, LOOPBACK), HubAdvertiser(south, LOOPBACK)]
            try:
                await asyncio.gather(
                    *(a.start() for a in advertisers),
                    rogue.async_register_service(bad_info),
                )
                assert await browser.wait_for(south.hub_id, scaled(5)) == south
                assert await browser.wait_for(north.hub_id, scaled(5)) == north
                hubs = browser.hubs
                assert hubs[north.hub_id] == north
                assert hubs[south.hub_id] == south
                await eventually(
                    lambda: bad.instance_name in caplog.text, 5, "the bad service is reported"
                )
                assert bad.hub_id not in browser.hubs
            finally:
                await asyncio.gather(*(a.stop() for a in advertisers))
                await rogue.async_close()

    with caplog.at_level(logging.WARNING, logger="lsnode.sync.discovery"):
        asyncio.run(scenario())
    warnings = [r for r in caplog.records if bad.instance_name in r.getMessage()]
    assert warnings
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert "fingerprint" in warnings[0].getMessage()


def test_a_second_hub_with_the_same_id_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """mDNS probing finds the clash; here it is faked, because the defending hub answers a probe
    by unicast to port 5353, which the kernel hands to any one of the mDNS sockets on this host:
    with other test runs on the machine the real probe result is a matter of luck."""

    async def clash(*args: object, **kwargs: object) -> None:
        raise NonUniqueNameException

    monkeypatch.setattr(AsyncZeroconf, "async_register_service", clash)
    hub = announcement()

    async def scenario() -> None:
        impostor = HubAdvertiser(hub, LOOPBACK)
        with pytest.raises(DiscoveryError, match=hub.hub_id):
            await impostor.start()
        assert not impostor.running
        await impostor.stop()

    asyncio.run(scenario())


def test_waiting_for_an_absent_hub_gives_none_after_the_timeout() -> None:
    absent = secrets.token_hex(8)

    async def scenario() -> None:
        async with HubBrowser(LOOPBACK) as browser:
            started = time.monotonic()
            assert await browser.wait_for(absent, scaled(0.5)) is None
            waited = time.monotonic() - started
            assert scaled(0.5) * 0.9 <= waited < scaled(0.5) + scaled(2)
        assert await find_hub(LOOPBACK, absent, timeout=scaled(0.3)) is None

    asyncio.run(scenario())


def test_a_waiter_is_answered_none_when_the_browser_stops() -> None:
    async def scenario() -> None:
        browser = HubBrowser(LOOPBACK)
        await browser.start()
        waiting = asyncio.create_task(browser.wait_for(secrets.token_hex(8), scaled(30)))
        await asyncio.sleep(0.05)
        await browser.stop()
        assert await asyncio.wait_for(waiting, scaled(2)) is None
        with pytest.raises(RuntimeError):
            await browser.wait_for(None, 0.1)

    asyncio.run(scenario())


FIND_IN_A_CHILD = """
import asyncio, dataclasses, json, sys
from lsnode.sync.discovery import find_hub
found = asyncio.run(find_hub(["127.0.0.1"], sys.argv[1], timeout=float(sys.argv[2])))
print(json.dumps(None if found is None else dataclasses.asdict(found)))
"""


def test_a_hub_is_found_from_another_process() -> None:
    hub = announcement()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", FIND_IN_A_CHILD, hub.hub_id, str(scaled(15))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )

    async def scenario() -> None:
        async with HubAdvertiser(hub, LOOPBACK):
            await eventually(lambda: child.poll() is not None, 20, "the child finds the hub")

    try:
        asyncio.run(scenario())
        out, err = child.communicate(timeout=scaled(5))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert HubAnnouncement(**json.loads(out)) == hub


def test_interfaces_must_be_explicit_addresses() -> None:
    for interfaces in ([], ["eth0"], ["0.0.0.0/0"], "127.0.0.1"):
        with pytest.raises(DiscoveryError):
            HubBrowser(interfaces)  # type: ignore[arg-type]
        with pytest.raises(DiscoveryError):
            HubAdvertiser(announcement(), interfaces)  # type: ignore[arg-type]


def test_an_advertiser_that_is_not_started_keeps_the_new_epoch_for_later() -> None:
    advertiser = HubAdvertiser(announcement(epoch=1), LOOPBACK)
    asyncio.run(advertiser.update(2))
    assert advertiser.announcement.epoch == 2
    assert not advertiser.running
    with pytest.raises(DiscoveryError):
        asyncio.run(advertiser.update(-1))


# --- the TXT record: untrusted input ------------------------------------------------------------


def test_the_txt_record_is_what_the_format_says() -> None:
    hub = announcement(hub_id="0123456789abcdef", fingerprint="ab" * 32, epoch=12, name="Север")
    assert hub.to_properties() == {
        "v": "1",
        "hub": "0123456789abcdef",
        "epoch": "12",
        "fp": "ab" * 32,
        "schema": "1",
        "name": "Север",
    }
    assert hub.instance_name == f"lsavto-0123456789abcdef.{SERVICE_TYPE}"
    assert issubclass(DiscoveryError, InputError)


GOOD = announcement()


@pytest.mark.parametrize(
    ("change", "host", "port"),
    [
        ({"v": "2"}, "127.0.0.1", 8443),
        ({"v": None}, "127.0.0.1", 8443),
        ({"hub": "0123456789ABCDEF"}, "127.0.0.1", 8443),
        ({"hub": "0123456789abcde"}, "127.0.0.1", 8443),
        ({"hub": "0123456789abcdeg"}, "127.0.0.1", 8443),
        ({"hub": None}, "127.0.0.1", 8443),
        ({"fp": "A" * 64}, "127.0.0.1", 8443),
        ({"fp": "a" * 63}, "127.0.0.1", 8443),
        ({"epoch": "-1"}, "127.0.0.1", 8443),
        ({"epoch": str(MAX_EPOCH + 1)}, "127.0.0.1", 8443),
        ({"epoch": "1" * 400}, "127.0.0.1", 8443),
        ({"epoch": " 1"}, "127.0.0.1", 8443),
        ({"epoch": "1_000"}, "127.0.0.1", 8443),
        ({"epoch": "٣"}, "127.0.0.1", 8443),
        ({"epoch": "01"}, "127.0.0.1", 8443),
        ({"epoch": "0x10"}, "127.0.0.1", 8443),
        ({"schema": "0"}, "127.0.0.1", 8443),
        ({"schema": "70000"}, "127.0.0.1", 8443),
        ({"name": ""}, "127.0.0.1", 8443),
        ({"name": " Север"}, "127.0.0.1", 8443),
        ({"name": "Се\x00вер"}, "127.0.0.1", 8443),
        ({"name": "Ю" * 65}, "127.0.0.1", 8443),
        ({"name": b"\xff\xfe"}, "127.0.0.1", 8443),
        ({"name": "\ud800"}, "127.0.0.1", 8443),
        ({"note": "x" * 256}, "127.0.0.1", 8443),
        ({"HUB": GOOD.hub_id}, "127.0.0.1", 8443),
        ({b"hub": GOOD.hub_id}, "127.0.0.1", 8443),
        ({"": "x"}, "127.0.0.1", 8443),
        ({"k\xe9y": "x"}, "127.0.0.1", 8443),
        ({f"k{i}": "x" for i in range(40)}, "127.0.0.1", 8443),
        ({}, "0.0.0.0", 8443),
        ({}, "224.0.0.251", 8443),
        ({}, "hub.local", 8443),
        ({}, "127.0.0.1", 0),
        ({}, "127.0.0.1", 65536),
        ({}, "127.0.0.1", True),
    ],
)
def test_a_malformed_announcement_is_refused(change: dict[Any, Any], host: str, port: int) -> None:
    props: dict[Any, Any] = {**GOOD.to_properties(), **change}
    with pytest.raises(DiscoveryError):
        HubAnnouncement.from_properties(props, host, port)


def test_missing_keys_are_refused() -> None:
    for key in GOOD.to_properties():
        props = {k: v for k, v in GOOD.to_properties().items() if k != key}
        with pytest.raises(DiscoveryError, match=r"v=|no value"):
            HubAnnouncement.from_properties(props, GOOD.host, GOOD.port)


def test_unknown_keys_are_ignored_and_keys_are_case_insensitive() -> None:
    props = {k.upper(): v.encode() for k, v in GOOD.to_properties().items()}
    props["FUTURE"] = b"whatever"
    assert HubAnnouncement.from_properties(props, GOOD.host, GOOD.port) == GOOD


def service_info(hub: HubAnnouncement, name: str | None = None, **kwargs: Any) -> ServiceInfo:
    kwargs.setdefault("parsed_addresses", [hub.host])
    return ServiceInfo(
        SERVICE_TYPE,
        name or hub.instance_name,
        port=hub.port,
        properties=hub.to_properties(),
        server=f"lsavto-{hub.hub_id}.local.",
        **kwargs,
    )


def test_a_service_must_be_named_after_its_hub_and_have_an_address() -> None:
    assert HubAnnouncement.from_info(service_info(GOOD)) == GOOD
    other = secrets.token_hex(8)
    with pytest.raises(DiscoveryError, match="does not match"):
        HubAnnouncement.from_info(service_info(GOOD, f"lsavto-{other}.{SERVICE_TYPE}"))
    with pytest.raises(DiscoveryError, match="no address"):
        HubAnnouncement.from_info(service_info(GOOD, parsed_addresses=[]))


hex16 = st.from_regex(r"[0-9a-f]{16}", fullmatch=True)
hex64 = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
good_hosts = (
    st.ip_addresses().filter(lambda ip: not ip.is_unspecified and not ip.is_multicast).map(str)
)
good_names = (
    st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
announcements = st.builds(
    HubAnnouncement,
    hub_id=hex16,
    epoch=st.integers(0, MAX_EPOCH),
    fingerprint=hex64,
    host=good_hosts,
    port=st.integers(1, 65535),
    schema_version=st.integers(1, 65535),
    name=good_names,
)


@given(announcements)
def test_good_announcements_round_trip(hub: HubAnnouncement) -> None:
    props = hub.to_properties()
    assert HubAnnouncement.from_properties(props, hub.host, hub.port) == hub
    as_bytes = {k.encode(): v.encode() for k, v in props.items()}
    assert HubAnnouncement.from_properties(as_bytes, hub.host, hub.port) == hub
    assert all(len(k) + 1 + len(v) <= 255 for k, v in as_bytes.items())
    assert HubAnnouncement.from_info(service_info(hub)) == hub


anything_text = st.text(st.characters(exclude_categories=()), max_size=20)
txt_keys = st.one_of(
    st.sampled_from(["v", "hub", "epoch", "fp", "schema", "name", "Hub", "EPOCH", "=", ""]),
    anything_text,
    st.binary(max_size=12),
    st.sampled_from([b"hub", b"v", b"fp"]),
    st.integers(),
    st.none(),
)
txt_values = st.one_of(
    st.none(),
    anything_text,
    st.binary(max_size=300),
    st.sampled_from(["1", "0", "-1", "01", "1_0", " 1", "٣", "9" * 20, "1" * 300]),
    hex16,
    hex64,
    hex16.map(str.upper),
    st.integers(),
    st.floats(),
    st.lists(st.integers(), max_size=2),
)
hosts = st.one_of(good_hosts, anything_text, st.none(), st.integers(), st.binary(max_size=8))
ports = st.one_of(st.integers(), st.booleans(), st.none(), anything_text, st.floats())


def mutated(base: Mapping[str, str]) -> st.SearchStrategy[dict[Any, Any]]:
    """The good record with some keys dropped and some values replaced by garbage."""
    return st.builds(
        lambda drop, extra: {**{k: v for k, v in base.items() if k not in drop}, **extra},
        st.sets(st.sampled_from(sorted(base))),
        st.dictionaries(txt_keys, txt_values, max_size=4),
    )


@given(
    st.one_of(
        st.dictionaries(txt_keys, txt_values, max_size=40),
        mutated(GOOD.to_properties()),
        st.none(),
        st.lists(st.tuples(st.text(), st.text())),
        st.text(),
    ),
    hosts,
    ports,
)
def test_garbage_never_raises_anything_but_discovery_error(
    props: Any, host: Any, port: Any
) -> None:
    try:
        hub = HubAnnouncement.from_properties(props, host, port)
    except DiscoveryError as exc:
        assert str(exc) and "\n" not in str(exc) and len(str(exc)) < 200
    else:
        assert HubAnnouncement.from_properties(hub.to_properties(), hub.host, hub.port) == hub
