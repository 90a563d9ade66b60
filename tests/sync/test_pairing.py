"""Pairing codes, node credentials, revocation across processes, the node's sealed identity and
the pairing link — on real files, with time as an input."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import stat
import struct
import threading
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsnode.errors import DataDirError, InputError, NotFound
from lsnode.sync import keys
from lsnode.sync.pairing import (
    MAX_OPEN_CODES,
    HubTrust,
    NodeIdentity,
    PairingError,
    PairingInvite,
    pairing_uri,
    parse_pairing_uri,
    write_qr_png,
)

T0 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC).timestamp()
FP = "e4be63e2c91150482577250e1de7c36050fb49bff739c584c77e52fb1c4f1ae0"


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _no_operator_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keys.MASTER_SECRET_ENV, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hub(tmp_path: Path, clock: FakeClock) -> HubTrust:
    return HubTrust(tmp_path, clock=clock)


def wrong_code(right: str) -> str:
    digits = right.replace("-", "")
    return f"{(int(digits) + 1) % 10**8:08d}"


# --- issue, redeem, verify --------------------------------------------------------------------


def test_issue_redeem_verify(hub: HubTrust, clock: FakeClock) -> None:
    code = hub.issue_code()
    assert re.fullmatch(r"\d{4}-\d{4}", code.code)
    assert code.expires_at == T0 + 600
    assert code.code not in repr(code)
    cred = hub.redeem(code.code, "Планшет у входа")
    assert re.fullmatch(r"[0-9a-f]{16}", cred.node_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cred.token)
    assert cred.token not in repr(cred)
    assert hub.verify(cred.node_id, cred.token) is True


@pytest.mark.parametrize("typed", ["{a}-{b}", "{a}{b}", " {a} {b} ", "{a}–{b}", "{a}\u00a0{b}"])
def test_codes_may_be_typed_with_or_without_separators(hub: HubTrust, typed: str) -> None:
    digits = hub.issue_code().code.replace("-", "")
    cred = hub.redeem(typed.format(a=digits[:4], b=digits[4:]), "tablet")
    assert hub.verify(cred.node_id, cred.token)


def test_a_code_is_single_use(hub: HubTrust) -> None:
    code = hub.issue_code()
    hub.redeem(code.code, "first")
    with pytest.raises(PairingError, match="wrong or has expired") as info:
        hub.redeem(code.code, "second")
    assert info.value.reason == "invalid_code"
    assert isinstance(info.value, InputError)
    assert [n["name"] for n in hub.nodes()] == ["first"]


def test_a_code_expires(hub: HubTrust, clock: FakeClock) -> None:
    late, in_time = hub.issue_code(ttl_s=60), hub.issue_code(ttl_s=60)
    clock.now += 59
    hub.redeem(in_time.code, "in time")
    clock.now += 1
    with pytest.raises(PairingError) as info:
        hub.redeem(late.code, "too late")
    assert info.value.reason == "invalid_code"


def test_several_codes_may_be_open(hub: HubTrust) -> None:
    codes = [hub.issue_code() for _ in range(3)]
    creds = [hub.redeem(c.code, f"tablet {i}") for i, c in reversed(list(enumerate(codes)))]
    assert len({c.node_id for c in creds}) == 3
    assert all(hub.verify(c.node_id, c.token) for c in creds)


def test_only_the_newest_codes_stay_open(hub: HubTrust) -> None:
    codes = [hub.issue_code() for _ in range(MAX_OPEN_CODES + 1)]
    with pytest.raises(PairingError):
        hub.redeem(codes[0].code, "oldest")
    hub.redeem(codes[-1].code, "newest")


def test_ttl_is_checked(hub: HubTrust) -> None:
    for ttl in (0, -1, 24 * 3600 + 1):
        with pytest.raises(InputError):
            hub.issue_code(ttl_s=ttl)


def test_cancel_codes(hub: HubTrust) -> None:
    code = hub.issue_code()
    hub.issue_code()
    assert hub.cancel_codes() == 2
    with pytest.raises(PairingError):
        hub.redeem(code.code, "tablet")


# --- brute force ------------------------------------------------------------------------------


def test_five_wrong_codes_cancel_every_open_code(hub: HubTrust) -> None:
    code, other = hub.issue_code(), hub.issue_code()
    for _ in range(4):
        with pytest.raises(PairingError) as info:
            hub.redeem(wrong_code(code.code), "guess")
        assert info.value.reason == "invalid_code"
    with pytest.raises(PairingError, match="cancelled") as info:
        hub.redeem("0000-000", "guess")
    assert info.value.reason == "locked_out"
    for right in (code, other):
        with pytest.raises(PairingError):
            hub.redeem(right.code, "too late")
    fresh = hub.issue_code()
    hub.redeem(fresh.code, "after the lockout")


def test_four_wrong_codes_do_not_lock(hub: HubTrust) -> None:
    code = hub.issue_code()
    for _ in range(4):
        with pytest.raises(PairingError):
            hub.redeem(wrong_code(code.code), "guess")
    hub.redeem(code.code, "right")


def test_failures_older_than_ten_minutes_are_forgotten(hub: HubTrust, clock: FakeClock) -> None:
    code = hub.issue_code(ttl_s=3600)
    for _ in range(4):
        with pytest.raises(PairingError):
            hub.redeem(wrong_code(code.code), "guess")
    clock.now += 601
    with pytest.raises(PairingError) as info:
        hub.redeem(wrong_code(code.code), "guess")
    assert info.value.reason == "invalid_code"
    hub.redeem(code.code, "right")


def test_a_bad_node_name_neither_uses_the_code_nor_counts(hub: HubTrust) -> None:
    code = hub.issue_code()
    for bad in ("", "   ", "x" * 65, "tab\nlet"):
        with pytest.raises(PairingError) as info:
            hub.redeem(code.code, bad)
        assert info.value.reason == "bad_name"
    cred = hub.redeem(code.code, "  Ресепшн  ")
    assert hub.nodes()[0]["name"] == "Ресепшн"
    assert hub.verify(cred.node_id, cred.token)


@pytest.fixture(scope="module")
def fuzzed_hub(tmp_path_factory: pytest.TempPathFactory) -> HubTrust:
    hub = HubTrust(tmp_path_factory.mktemp("fuzz"), clock=FakeClock())
    hub.issue_code(ttl_s=3600)
    return hub


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(code=st.text(), name=st.text())
def test_redeem_refuses_arbitrary_text_only_with_pairing_error(
    fuzzed_hub: HubTrust, code: str, name: str
) -> None:
    with pytest.raises(PairingError):
        fuzzed_hub.redeem(code, name)


@settings(deadline=None, max_examples=100)
@given(node_id=st.text(), token=st.text())
def test_verify_answers_false_for_arbitrary_text(
    fuzzed_hub: HubTrust, node_id: str, token: str
) -> None:
    assert fuzzed_hub.verify(node_id, token) is False


# --- verify, revoke, nodes --------------------------------------------------------------------


def test_verify_refuses_what_is_not_the_credential(hub: HubTrust) -> None:
    one = hub.redeem(hub.issue_code().code, "one")
    two = hub.redeem(hub.issue_code().code, "two")
    assert not hub.verify(one.node_id, two.token)
    assert not hub.verify(one.node_id, one.token[:-1])
    assert not hub.verify(one.node_id, "")
    assert not hub.verify("0123456789abcdef", one.token)
    assert not hub.verify("", "")


def test_revoke_takes_effect_at_once(hub: HubTrust, clock: FakeClock) -> None:
    cred = hub.redeem(hub.issue_code().code, "lost tablet")
    clock.now += 3600
    hub.revoke(cred.node_id)
    assert not hub.verify(cred.node_id, cred.token)
    hub.revoke(cred.node_id)  # twice is fine
    (row,) = hub.nodes()
    assert row["revoked_at"] == "2026-12-03T10:00:00+00:00"


def test_revoke_from_another_process_reaches_the_running_hub(
    tmp_path: Path, clock: FakeClock
) -> None:
    running = HubTrust(tmp_path, clock=clock)
    cred = running.redeem(running.issue_code().code, "tablet")
    assert running.verify(cred.node_id, cred.token)
    HubTrust(tmp_path, clock=clock).revoke(cred.node_id)  # what `lsavto hub revoke` does
    assert not running.verify(cred.node_id, cred.token)


def test_revoke_unknown_node(hub: HubTrust) -> None:
    with pytest.raises(NotFound):
        hub.revoke("0123456789abcdef")


def test_concurrent_changes_from_two_instances_are_not_lost(
    tmp_path: Path, clock: FakeClock
) -> None:
    first, second = HubTrust(tmp_path, clock=clock), HubTrust(tmp_path, clock=clock)
    creds = [first.redeem(first.issue_code().code, f"tablet {i}") for i in range(6)]
    threads = [
        threading.Thread(target=(first, second)[i % 2].revoke, args=(c.node_id,))
        for i, c in enumerate(creds)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(row["revoked_at"] for row in second.nodes())
    assert not any(first.verify(c.node_id, c.token) for c in creds)


def test_nodes_lists_pairing_and_last_seen(hub: HubTrust, clock: FakeClock) -> None:
    one = hub.redeem(hub.issue_code().code, "one")
    clock.now += 60
    two = hub.redeem(hub.issue_code().code, "two")
    hub.mark_seen(two.node_id)
    rows = hub.nodes()
    assert [r["node_id"] for r in rows] == [one.node_id, two.node_id]
    assert rows[0] == {
        "node_id": one.node_id,
        "name": "one",
        "paired_at": "2026-12-03T09:00:00+00:00",
        "revoked_at": None,
        "last_seen": None,
    }
    assert rows[1]["last_seen"] == "2026-12-03T09:01:00+00:00"
    with pytest.raises(NotFound):
        hub.mark_seen("0123456789abcdef")


def test_trust_file_holds_no_code_or_token(tmp_path: Path, hub: HubTrust) -> None:
    used = hub.issue_code()
    cred = hub.redeem(used.code, "tablet")
    open_code = hub.issue_code()
    raw = (tmp_path / "trust.json").read_text()
    for code in (used.code, open_code.code):
        assert code not in raw and code.replace("-", "") not in raw
    assert cred.token not in raw
    assert stat.S_IMODE((tmp_path / "trust.json").stat().st_mode) == 0o600
    assert json.loads(raw)["version"] == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_damaged_trust_file_is_refused(tmp_path: Path, hub: HubTrust) -> None:
    (tmp_path / "trust.json").write_text("{not json")
    with pytest.raises(DataDirError):
        hub.verify("0123456789abcdef", "x")
    with pytest.raises(DataDirError):
        hub.issue_code()


def test_a_missing_data_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataDirError):
        HubTrust(tmp_path / "typo").issue_code()
    assert not (tmp_path / "typo").exists()


# --- the node's identity ----------------------------------------------------------------------


def identity(**changes: str) -> NodeIdentity:
    fields = {
        "hub_address": "192.168.1.10:8765",
        "hub_fingerprint": FP,
        "hub_id": "hub-01",
        "node_id": "0123456789abcdef",
        "token": "A" * 42 + "_",
    }
    return NodeIdentity(**{**fields, **changes})


def test_node_identity_round_trip_sealed(tmp_path: Path) -> None:
    assert NodeIdentity.load(tmp_path) is None
    ident = identity()
    ident.save(tmp_path)
    assert NodeIdentity.load(tmp_path) == ident
    sealed = tmp_path / "keys" / "node_identity.sealed"
    raw = sealed.read_bytes()
    assert ident.token.encode() not in raw and b"hub-01" not in raw
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    assert ident.token not in repr(ident)


def test_node_identity_does_not_open_on_another_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity().save(tmp_path)
    monkeypatch.setattr(keys, "machine_identity", lambda: b"machine-id:elsewhere")
    with pytest.raises(keys.SecretError):
        NodeIdentity.load(tmp_path)


@pytest.mark.parametrize(
    "changes",
    [
        {"hub_address": "no-port"},
        {"hub_fingerprint": "abc"},
        {"hub_id": ""},
        {"node_id": "XYZ"},
        {"token": "short"},
    ],
)
def test_node_identity_is_validated(changes: dict[str, str]) -> None:
    with pytest.raises(InputError):
        identity(**changes)


def test_end_to_end_pairing_gives_a_loadable_identity(tmp_path: Path, hub: HubTrust) -> None:
    node_dir = tmp_path / "node"
    node_dir.mkdir()
    uri = pairing_uri("192.168.1.10:8765", hub.issue_code().code, FP)
    invite = parse_pairing_uri(uri)
    cred = hub.redeem(invite.code, "tablet")
    NodeIdentity(invite.hub, invite.fingerprint, "hub-01", cred.node_id, cred.token).save(node_dir)
    loaded = NodeIdentity.load(node_dir)
    assert loaded is not None and hub.verify(loaded.node_id, loaded.token)


# --- the pairing link and QR code -------------------------------------------------------------


def test_pairing_uri_shape() -> None:
    uri = pairing_uri("192.168.1.10:8765", "4821-9377", FP.upper())
    assert uri == f"lsavto://pair?hub=192.168.1.10:8765&code=48219377&fp={FP}"
    assert parse_pairing_uri(uri) == PairingInvite("192.168.1.10:8765", "48219377", FP)


hosts = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.from_regex(
        r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?){0,3}",
        fullmatch=True,
    ),
)


@given(
    host=hosts,
    port=st.integers(1, 65535),
    code=st.integers(0, 10**8 - 1),
    dash=st.booleans(),
    fingerprint=st.binary(min_size=32, max_size=32).map(bytes.hex),
    upper=st.booleans(),
)
def test_pairing_uri_round_trip(
    host: str, port: int, code: int, dash: bool, fingerprint: str, upper: bool
) -> None:
    digits = f"{code:08d}"
    typed = f"{digits[:4]}-{digits[4:]}" if dash else digits
    uri = pairing_uri(f"{host}:{port}", typed, fingerprint.upper() if upper else fingerprint)
    assert parse_pairing_uri(uri) == PairingInvite(f"{host}:{port}", digits, fingerprint)


@given(st.text())
def test_parse_refuses_arbitrary_text_only_with_pairing_error(text: str) -> None:
    try:
        parse_pairing_uri(text)
    except PairingError as exc:
        assert exc.reason == "bad_link"


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "https://pair?hub=a:1&code=12345678&fp=" + FP,
        "lsavto://other?hub=a:1&code=12345678&fp=" + FP,
        "lsavto://pair?hub=a&code=12345678&fp=" + FP,
        "lsavto://pair?hub=a:0&code=12345678&fp=" + FP,
        "lsavto://pair?hub=a:99999&code=12345678&fp=" + FP,
        "lsavto://pair?hub=a:1&code=1234567&fp=" + FP,
        "lsavto://pair?hub=a:1&code=12345678&fp=" + FP[:-1],
        "lsavto://pair?hub=a:1&code=12345678",
        "lsavto://pair?hub=a:1&hub=b:1&code=12345678&fp=" + FP,
        "lsavto://pair?hub=u@a:1&code=12345678&fp=" + FP,
    ],
)
def test_parse_refuses_bad_links(uri: str) -> None:
    with pytest.raises(PairingError):
        parse_pairing_uri(uri)


def test_pairing_uri_refuses_bad_parts() -> None:
    with pytest.raises(InputError):
        pairing_uri("host-without-port", "12345678", FP)
    with pytest.raises(InputError):
        pairing_uri("host:1", "1234", FP)
    with pytest.raises(InputError):
        pairing_uri("host:1", "12345678", "nope")


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


def test_qr_png_is_a_valid_png_about_300_px(tmp_path: Path) -> None:
    uri = pairing_uri("192.168.1.10:8765", "4821-9377", FP)
    path = tmp_path / "pair.png"
    write_qr_png(uri, path)
    chunks = _png_chunks(path.read_bytes())
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    assert width == height and 280 <= width <= 400
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) == height * (1 + math.ceil(width * depth * channels / 8))
    assert os.path.getsize(path) > 100
