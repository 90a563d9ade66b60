"""A hostile LAN: what a dealer's IT person wants proven before a hub goes on the shop network.

Everything here runs over real TLS websockets on 127.0.0.1 against a real ``Hub`` started in this
process, with raw frames where a well-behaved client could not send them. The rule checked every
time: a frame that breaks the protocol gets an ``Error`` frame with a machine code and a close
(1008, code); the master store is untouched (rows, ``_rowmeta``, ``hub_seq``, ``_sites``); and the
hub goes on serving everybody else. (Pushes the schema refuses only get the last two checked for
now: the hub answers them with close 1011 and no Error frame — a reported defect.)

``decode`` is fuzzed first (hypothesis): it may refuse anything, but only with ``ProtocolError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

import hub.server
from hub.server import REVOCATION_CHECK_S, Hub
from lsnode.store import replica
from lsnode.store.changes import Writer, meta_int
from lsnode.store.db import init_store
from lsnode.store.migrations import SCHEMA_VERSION
from lsnode.sync import keys
from lsnode.sync.client import NodeAgent, SyncError, _open, pair
from lsnode.sync.hlc import MAX_DRIFT_MS, SITE_HEX, make_version
from lsnode.sync.keys import TrustError, client_ssl_context
from lsnode.sync.merge import RowState
from lsnode.sync.messages import (
    MAX_BATCH,
    MAX_FRAME_BYTES,
    MESSAGES,
    Ack,
    Changes,
    Error,
    Hello,
    Intent,
    IntentResult,
    Message,
    Pair,
    Paired,
    Ping,
    Pong,
    ProtocolError,
    Pull,
    Push,
    Welcome,
    decode,
    encode,
    state_to_json,
)
from lsnode.sync.pairing import HubTrust, NodeCredential, NodeIdentity
from lsnode.sync.stores import SqliteNodeStore

FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
TIMEOUT = 5.0 * FACTOR
DAY_MS = 24 * 3600 * 1000

#: Every code ``decode`` may refuse a frame with.
DECODE_CODES = {
    "too_big", "bad_json", "bad_frame", "bad_version", "bad_type", "bad_fields", "bad_field",
    "bad_value", "bad_state", "bad_batch",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_operator_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keys.MASTER_SECRET_ENV, raising=False)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30 * FACTOR))


# -- 1. decode() on untrusted input ----------------------------------------------------------


def decode_or_refuse(frame: str | bytes) -> Message | None:
    """The message, or None when ``decode`` refused it properly; anything else fails the test."""
    try:
        msg = decode(frame)
    except ProtocolError as exc:
        assert exc.code in DECODE_CODES, exc.code
        assert str(exc)
        return None
    assert encode(decode(encode(msg))) == encode(msg)  # what decode accepts, encode reproduces
    return msg


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)
FIELD_NAMES = [
    "v", "type", "node_id", "token", "site_id", "schema", "epoch", "cursor", "code", "name",
    "hub_id", "acked_seq", "hub_seq", "time_ms", "rebootstrap", "batch", "since", "upto",
    "limit", "states", "more", "intent_id", "table", "row_id", "column", "value", "expect",
    "ok", "current", "reason", "nonce", "fatal",
]  # fmt: skip
TYPES = sorted(MESSAGES)  # every type the codec knows, today and tomorrow


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decode_refuses_arbitrary_bytes_only_with_protocol_error(frame: bytes) -> None:
    decode_or_refuse(frame)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_decode_refuses_arbitrary_text_only_with_protocol_error(frame: str) -> None:
    decode_or_refuse(frame)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_decode_of_any_json_shape_only_refuses_with_protocol_error(value: Any) -> None:
    decode_or_refuse(json.dumps(value))


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(TYPES),
    st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=8),
    st.sampled_from([1, 1, 1, 0, 2, "1", None]),
)
def test_decode_of_near_miss_frames_only_refuses_with_protocol_error(
    kind: str, body: dict[str, Any], version: Any
) -> None:
    """Right envelope, plausible field names, arbitrary field values: the likeliest attack."""
    decode_or_refuse(json.dumps({**body, "v": version, "type": kind}))


# Strategies for valid messages: every one must survive encode → decode unchanged.
ids = st.text(min_size=1, max_size=64)
seqs = st.integers(0, 2**62)
sites = st.text("0123456789abcdef", min_size=SITE_HEX, max_size=SITE_HEX)
versions = st.builds(make_version, st.integers(0, 2**48 - 1), st.integers(0, 0xFFFF), sites)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=50)
)


@st.composite
def row_states(draw: st.DrawFn) -> RowState:
    cl = draw(st.integers(1, 2**31))
    values = draw(st.dictionaries(ids, scalars, min_size=1, max_size=5)) if cl % 2 else {}
    overrides = draw(st.dictionaries(ids, versions, max_size=3))
    return RowState(draw(ids), draw(ids), cl, draw(versions), overrides, values)


schemas = st.integers(0, 10_000)
messages = st.one_of(
    st.builds(Hello, ids, st.text(min_size=1, max_size=200), sites, schemas, st.none() | ids, seqs),
    st.builds(Pair, ids, st.text(min_size=1, max_size=200), schemas),
    st.builds(Paired, ids, ids, st.text(min_size=1, max_size=200)),
    st.builds(Welcome, ids, ids, schemas, seqs, seqs, st.integers(0, 2**53), st.booleans()),
    st.builds(
        Push, st.lists(st.tuples(st.integers(1, 2**62), row_states()), max_size=5).map(tuple)
    ),
    st.builds(Ack, seqs),
    st.builds(Pull, seqs, st.integers(1, MAX_BATCH)),
    st.builds(Changes, seqs, seqs, st.lists(row_states(), max_size=5).map(tuple), st.booleans()),
    st.builds(Intent, ids, ids, ids, ids, scalars, scalars),
    st.builds(IntentResult, ids, st.booleans(), scalars, st.text(max_size=500)),
    st.builds(Ping, seqs),
    st.builds(Pong, seqs),
    st.builds(Error, ids, st.text(max_size=1000), st.booleans()),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_valid_messages_round_trip(msg: Message) -> None:
    assert decode(encode(msg)) == msg
    assert decode(encode(msg).encode()) == msg  # a binary frame of the same JSON


@pytest.mark.parametrize("frame", ["x" * (MAX_FRAME_BYTES + 1), b"{" * (MAX_FRAME_BYTES + 1)])
def test_frames_over_the_limit_are_too_big_before_any_parsing(frame: str | bytes) -> None:
    with pytest.raises(ProtocolError) as refused:
        decode(frame)
    assert refused.value.code == "too_big"


# -- a real hub, nodes and raw connections ---------------------------------------------------


@dataclass
class Node:
    """A node's replica plus the credential the hub issued for it."""

    db: Database
    site: str
    cred: NodeCredential

    @property
    def writer(self) -> Writer:
        return Writer(self.db)

    def states(self, after: int = 0) -> tuple[tuple[int, RowState], ...]:
        return tuple(replica.pending(self.db, after, 1000)[0])

    def hello(self, token: str | None = None, schema: int = SCHEMA_VERSION) -> Hello:
        return Hello(self.cred.node_id, token or self.cred.token, self.site, schema, None, 0)


def make_node(hub: Hub, root: Path, name: str) -> Node:
    db = init_store(root / name)
    cred = hub.trust.redeem(hub.trust.issue_code().code, name)
    return Node(db, SqliteNodeStore(db).site_id(), cred)


@contextlib.asynccontextmanager
async def running_hub(root: Path) -> AsyncIterator[Hub]:
    init_store(root / "hub").close()
    the_hub = Hub(root / "hub", "127.0.0.1", 0)
    await the_hub.start()
    # Something in the master store already, so "untouched" means something.
    the_hub.store.writer.insert("regions", {"name": "Москва"})
    try:
        yield the_hub
    finally:
        await the_hub.stop()


def snapshot(the_hub: Hub) -> dict[str, Any]:
    db = the_hub.db
    return {
        "checksums": replica.checksums(db),
        "rowmeta_count": db.execute("SELECT count(*) FROM _rowmeta").fetchone()[0],
        "rowmeta": db.execute(
            "SELECT tbl, row_id, cl, base, overrides, hub_seq FROM _rowmeta ORDER BY tbl, row_id"
        ).fetchall(),
        "hub_seq": meta_int(db, "hub_seq"),
        "sites": db.execute("SELECT site_id, acked_seq FROM _sites ORDER BY site_id").fetchall(),
    }


async def raw(the_hub: Hub) -> ClientConnection:
    return await connect(
        f"wss://127.0.0.1:{the_hub.port}",
        ssl=client_ssl_context(),
        max_size=MAX_FRAME_BYTES,
        compression=None,
        open_timeout=TIMEOUT,
    )


async def recv(ws: ClientConnection) -> Message:
    return decode(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def recv_reply(ws: ClientConnection) -> Message:
    """The next frame that is not a live ``Changes`` (the hub fans new rows out at once)."""
    while isinstance(msg := await recv(ws), Changes):
        pass
    return msg


async def until_closed(ws: ClientConnection) -> tuple[list[Message], int, str]:
    """Every frame the hub sends until it closes; then the close code and reason it sent."""
    frames: list[Message] = []
    try:
        while True:
            frames.append(await recv(ws))
    except ConnectionClosed as exc:
        assert exc.rcvd is not None, "the connection dropped without a close frame"
        return frames, exc.rcvd.code, exc.rcvd.reason


async def quiet(the_hub: Hub) -> None:
    """Let the hub finish handling whatever reached it."""
    for _ in range(int(50 * FACTOR)):
        if not the_hub.peers:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("a connection stayed open at the hub")


async def authenticated(the_hub: Hub, node: Node) -> ClientConnection:
    ws = await raw(the_hub)
    await ws.send(encode(node.hello()))
    welcome = await recv(ws)
    assert isinstance(welcome, Welcome), welcome
    return ws


def assert_refused(
    frames: list[Message], close: int, reason: str, code: str, *, fatal: bool = True
) -> None:
    errors = [m for m in frames if isinstance(m, Error)]
    assert [e.code for e in errors] == [code], frames
    assert errors[0].fatal is fatal and errors[0].reason
    assert not any(isinstance(m, (Ack, Welcome, Changes, Paired)) for m in frames), frames
    assert (close, reason) == (1008, code)


def region_state(node: Node, name: str = "Тверь") -> tuple[int, RowState]:
    node.writer.insert("regions", {"name": name})
    return node.states()[-1]


# -- 2. hostile frames over the wire ----------------------------------------------------------

HELLO_OF_NOBODY = Hello("0123456789abcdef", "x" * 43, "0123456789abcdef", SCHEMA_VERSION, None, 0)
HELLO_WITH_EXTRA = json.loads(encode(HELLO_OF_NOBODY)) | {"admin": True}
LIVE_STATE = {
    "t": "regions",
    "id": "01a23c35-038d-7563-8c5e-894bb3c167b8",
    "cl": 1,
    "b": make_version(1_796_300_000_000, 0, "0123456789abcdef"),
    "v": {"name": "Тверь", "created_at": "2026-12-03T00:00:00Z", "updated_at": "x"},
}
BEFORE_HELLO = [
    ("binary garbage", bytes(range(256)) * 4, "bad_json"),
    ("not JSON", "GET / HTTP/1.1\r\nHost: hub\r\n\r\n", "bad_json"),
    ("JSON but not an object", "[1, 2, 3]", "bad_frame"),
    ("another protocol version", '{"v": 2, "type": "hello"}', "bad_version"),
    ("an unknown type", '{"v": 1, "type": "drop_tables"}', "bad_type"),
    ("a hello missing fields", '{"v": 1, "type": "hello", "node_id": "x"}', "bad_fields"),
    ("a hello with extra fields", HELLO_WITH_EXTRA, "bad_fields"),
    ("a push before hello", {"v": 1, "type": "push", "batch": [[1, LIVE_STATE]]}, "auth"),
    ("a pull before hello", encode(Pull(0, 100)), "auth"),
    ("an intent before hello", encode(Intent("i", "traffic", "r", "status", "new")), "auth"),
    ("a hub's welcome", encode(Welcome("h", "1", SCHEMA_VERSION, 0, 0, 0)), "auth"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("frame", "code"), [(f, c) for _, f, c in BEFORE_HELLO], ids=[n for n, _, _ in BEFORE_HELLO]
)
def test_a_hostile_first_frame_is_refused_and_closed(
    tmp_path: Path, frame: str | bytes | dict[str, Any], code: str
) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            before = snapshot(the_hub)
            ws = await raw(the_hub)
            await ws.send(json.dumps(frame) if isinstance(frame, dict) else frame)
            assert_refused(*await until_closed(ws), code)
            assert snapshot(the_hub) == before
            await quiet(the_hub)

    run(scenario)


def test_hellos_that_must_not_get_in(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            revoked = make_node(the_hub, tmp_path, "stolen")
            the_hub.trust.revoke(revoked.cred.node_id)
            before = snapshot(the_hub)
            cases = [
                (node.hello(token="A" * 43), "auth"),  # the right node, a forged token
                (revoked.hello(), "auth"),  # a revoked node with its once-valid token
                (HELLO_OF_NOBODY, "auth"),  # a node id the hub never issued
                (node.hello(schema=SCHEMA_VERSION + 1), "schema"),  # a newer program
            ]
            for hello, code in cases:
                ws = await raw(the_hub)
                await ws.send(encode(hello))
                # Whatever it sends next must not count either.
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(encode(Push((region_state(node),))))
                assert_refused(*await until_closed(ws), code)
            assert snapshot(the_hub) == before
            seen = {n["node_id"]: n["last_seen"] for n in the_hub.trust.nodes()}
            assert seen[revoked.cred.node_id] is None

    run(scenario)


def _hostile_push_states(node: Node) -> list[tuple[str, Any, str, bool]]:
    """(what, batch as raw JSON, expected code, fatal) — pushes ``decode`` already refuses."""
    _, good = region_state(node)
    good_json = state_to_json(good)
    future = make_version(now_ms() + 3 * DAY_MS, 0, node.site)
    return [
        ("a live state without values", [[9, {k: v for k, v in good_json.items() if k != "v"}]],
         "bad_state", True),
        ("a deleted state with values", [[9, good_json | {"cl": 2}]], "bad_state", True),
        ("a value that is an object", [[9, good_json | {"v": {"name": {"$gt": ""}}}]],
         "bad_value", True),
        ("a malformed version", [[9, good_json | {"b": "yesterday"}]], "bad_version", True),
        ("local_seq 0", [[0, good_json]], "bad_field", True),
        ("a batch over MAX_BATCH", [[i + 1, good_json] for i in range(MAX_BATCH + 1)],
         "bad_batch", True),
        # The clock refusal is not fatal: fix the tablet's clock and it may sync again.
        ("a version 3 days ahead", [[9, state_to_json(replace(good, base=future))]],
         "clock", False),
        ("an override 3 days ahead",
         [[9, state_to_json(replace(good, overrides={"name": future}))]], "clock", False),
    ]  # fmt: skip


def test_hostile_pushes_from_an_authenticated_node_are_refused_and_write_nothing(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            before = snapshot(the_hub)
            for what, batch, code, fatal in _hostile_push_states(node):
                ws = await authenticated(the_hub, node)
                await ws.send(json.dumps({"v": 1, "type": "push", "batch": batch}))
                frames, close, reason = await until_closed(ws)
                assert_refused(frames, close, reason, code, fatal=fatal)
                assert snapshot(the_hub) == before, what
            # …and the same node, behaving, is still served.
            ws = await authenticated(the_hub, node)
            await ws.send(encode(Push(node.states())))
            assert isinstance(await recv_reply(ws), Ack)
            await ws.close()
            assert snapshot(the_hub)["hub_seq"] > before["hub_seq"]

    run(scenario)


def test_a_clock_a_day_fast_is_tolerated(tmp_path: Path) -> None:
    """The line is MAX_DRIFT_MS: a tablet with a flat RTC battery a day off still syncs."""
    assert DAY_MS < MAX_DRIFT_MS < 3 * DAY_MS

    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            seq, state = region_state(node)
            ahead = replace(state, base=make_version(now_ms() + DAY_MS, 0, node.site))
            ws = await authenticated(the_hub, node)
            await ws.send(encode(Push(((seq, ahead),))))
            assert await recv_reply(ws) == Ack(seq)
            await ws.close()

    run(scenario)


SCHEMA_BREAKERS: list[tuple[str, Callable[[RowState], RowState]]] = [
    ("an unknown table", lambda s: replace(s, table="sqlite_master")),
    ("an unknown column", lambda s: replace(s, values={**s.values, "is_admin": 1})),
    ("an int where TEXT is due", lambda s: replace(s, values={**s.values, "name": 42})),
    ("a bool where TEXT is due", lambda s: replace(s, values={**s.values, "name": True})),
    ("NULL in a NOT NULL column", lambda s: replace(s, values={**s.values, "name": None})),
    ("a row missing NOT NULL columns", lambda s: replace(s, values={"name": "Тверь"})),
]


@pytest.mark.parametrize(
    "breaker", [b for _, b in SCHEMA_BREAKERS], ids=[n for n, _ in SCHEMA_BREAKERS]
)
def test_a_push_the_schema_refuses_never_reaches_the_store(
    tmp_path: Path, breaker: Callable[[RowState], RowState]
) -> None:
    """Frames ``decode`` accepts but the schema does not: nothing is acknowledged or written,
    the hub drops that connection, and the node is served again when it behaves.

    (The hub should also answer with an Error frame and close 1008 here; it closes 1011 with
    no Error frame today — reported, see the hand-over notes.)"""

    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            seq, state = region_state(node)
            before = snapshot(the_hub)
            ws = await authenticated(the_hub, node)
            await ws.send(encode(Push(((seq, breaker(state)),))))
            frames: list[Message] = []
            try:
                while True:
                    frames.append(await recv(ws))
            except ConnectionClosed as exc:
                assert exc.rcvd is not None and exc.rcvd.code != 1000
            assert not any(isinstance(m, (Ack, Changes)) for m in frames), frames
            assert snapshot(the_hub) == before
            ws = await authenticated(the_hub, node)
            await ws.send(encode(Push(((seq, state),))))
            assert await recv_reply(ws) == Ack(seq)
            await ws.close()
            assert the_hub.db.execute(
                "SELECT name FROM regions WHERE id = ?", [state.row_id]
            ).fetchall() == [("Тверь",)]

    run(scenario)


def test_hostile_intents_are_answered_not_applied(tmp_path: Path) -> None:
    """Intents name tables and columns too; a refused one is a plain answer, not a close."""

    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            visit = the_hub.store.writer.insert(
                "traffic",
                {
                    "contact_type": "visit",
                    "department": "salon",
                    "status": "new",
                    "contact_at": "x",
                },
            )
            before = snapshot(the_hub)
            ws = await authenticated(the_hub, node)
            for intent in [
                Intent("1", "sqlite_master", visit, "sql", "x"),
                Intent("2", "traffic", visit, "status; DROP TABLE traffic", "lost", "new"),
                Intent("3", "traffic", visit, "number", 99, 1),  # numbers are the hub's
                Intent("4", "traffic", visit, "id", "another-id", visit),
                Intent("5", "traffic", visit, "status", "stolen", "new"),  # CHECK refuses it
                Intent("6", "traffic", "no-such-row", "status", "lost", "new"),
                # values of the wrong type for the column
                Intent("7", "traffic", visit, "responsible_id", 12345, None),
                Intent("8", "traffic", visit, "responsible_id", True, None),
                Intent("9", "traffic", visit, "responsible_id", 1.5, None),
            ]:
                await ws.send(encode(intent))
                result = await recv_reply(ws)
                assert isinstance(result, IntentResult) and result.intent_id == intent.intent_id
                assert not result.ok and result.reason, result
            await ws.send(encode(Ping(3)))
            assert await recv_reply(ws) == Pong(3)
            await ws.close()
            assert snapshot(the_hub) == before

    run(scenario)


# -- 3. an oversized frame ----------------------------------------------------------------------


def test_an_oversized_frame_is_cut_by_the_websocket_layer_and_others_go_on(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            good = await authenticated(the_hub, node)
            before = snapshot(the_hub)
            attacker = await raw(the_hub)
            with contextlib.suppress(ConnectionClosed):
                await attacker.send("x" * (MAX_FRAME_BYTES + 1))
            frames, close, _ = await until_closed(attacker)
            assert frames == [] and close == 1009
            assert snapshot(the_hub) == before
            # The connected node did not notice; a new one gets in too.
            await good.send(encode(Ping(7)))
            assert await recv_reply(good) == Pong(7)
            await good.send(encode(Push((region_state(node),))))
            assert isinstance(await recv_reply(good), Ack)
            await good.close()
            again = await authenticated(the_hub, node)
            await again.close()

    run(scenario)


# -- 4. replayed frames -----------------------------------------------------------------------


def test_the_same_push_twice_applies_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            row = node.writer.insert("regions", {"name": "Тверь"})
            node.writer.insert("branches", {"name": "Кардинал", "address": "ул. Ленина, 1"})
            node.writer.update("regions", row, {"name": "Тверь-2"})
            frame = encode(Push(node.states()))
            ws = await authenticated(the_hub, node)
            await ws.send(frame)
            first = await recv_reply(ws)
            assert isinstance(first, Ack) and first.acked_seq == 3
            applied = snapshot(the_hub)
            await ws.send(frame)
            assert await recv_reply(ws) == first
            await ws.close()
            assert snapshot(the_hub) == applied

    run(scenario)


def test_a_captured_push_replayed_later_changes_nothing(tmp_path: Path) -> None:
    """Someone records a Push off the node's own connection and replays it after the row was
    edited again: the hub acknowledges as before and keeps the newer edit."""

    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            row = node.writer.insert("regions", {"name": "Тверь"})
            captured = encode(Push(node.states()))
            ws = await authenticated(the_hub, node)
            await ws.send(captured)
            assert await recv_reply(ws) == Ack(1)
            node.writer.update("regions", row, {"name": "Тверская обл."})
            await ws.send(encode(Push(node.states(after=1))))
            assert await recv_reply(ws) == Ack(2)
            await ws.close()
            applied = snapshot(the_hub)

            ws = await raw(the_hub)
            await ws.send(encode(node.hello()))
            welcome = await recv(ws)
            assert isinstance(welcome, Welcome) and welcome.acked_seq == 2
            await ws.send(captured)
            assert await recv_reply(ws) == Ack(2)
            await ws.close()
            assert snapshot(the_hub) == applied
            name = the_hub.db.execute("SELECT name FROM regions WHERE id = ?", [row]).fetchone()
            assert name == ("Тверская обл.",)

    run(scenario)


# -- 5. the wrong pin -------------------------------------------------------------------------

WRONG_PIN = "ab" * 32


@pytest.fixture
def frames_at_hub(monkeypatch: pytest.MonkeyPatch) -> list[str | bytes]:
    """Every frame the hub's handler receives (by wrapping the ``decode`` it calls)."""
    seen: list[str | bytes] = []

    def spy(frame: str | bytes) -> Message:
        seen.append(frame)
        return decode(frame)

    monkeypatch.setattr(hub.server, "decode", spy)
    return seen


def test_a_wrong_pin_raises_trust_error_and_sends_nothing(
    tmp_path: Path, frames_at_hub: list[str | bytes]
) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            address = f"127.0.0.1:{the_hub.port}"
            with pytest.raises(TrustError, match="pinned"):
                await _open(address, WRONG_PIN)
            code = the_hub.trust.issue_code().code
            with pytest.raises(TrustError):
                await pair(node_dir(tmp_path, "node"), address, code, "tablet", WRONG_PIN)
            await quiet(the_hub)
            assert frames_at_hub == []
            assert NodeIdentity.load(tmp_path / "node") is None
            # The code was never shown to the impostor, so it still pairs with the real hub.
            fp = the_hub.certificate.fingerprint
            identity = await pair(node_dir(tmp_path, "node"), address, code, "tablet", fp)
            assert identity.hub_fingerprint == fp and len(frames_at_hub) == 1

    run(scenario)


def test_an_agent_with_a_wrong_pin_never_writes_to_the_hub(
    tmp_path: Path, frames_at_hub: list[str | bytes]
) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            node.writer.insert("regions", {"name": "Тверь"})
            before = snapshot(the_hub)
            identity = NodeIdentity(
                f"127.0.0.1:{the_hub.port}", WRONG_PIN, the_hub.store.hub_id,
                node.cred.node_id, node.cred.token,
            )  # fmt: skip
            agent = NodeAgent(tmp_path / "tablet", identity, rng=random.Random(1))
            try:
                with pytest.raises(TrustError):
                    await agent.run_once()
                forever = asyncio.create_task(agent.run_forever())
                await asyncio.sleep(1.0)  # a few retries with backoff
                await agent.stop()
                forever.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await forever
                assert agent.attempts >= 2
                assert "pinned" in agent.status.last_error and not agent.status.online
                assert agent.store.pending_count() == 1  # kept for the real hub
            finally:
                agent.db.close()
            await quiet(the_hub)
            assert frames_at_hub == []
            assert snapshot(the_hub) == before
            assert [n["last_seen"] for n in the_hub.trust.nodes()] == [None]
            # The control: with the right pin the very same node and row do get through.
            right = replace(identity, hub_fingerprint=the_hub.certificate.fingerprint)
            agent = NodeAgent(tmp_path / "tablet", right)
            try:
                status = await agent.run_once()
            finally:
                agent.db.close()
            assert status.pending == 0
            assert snapshot(the_hub)["checksums"]["regions"].startswith("2:")

    run(scenario)


# -- 6. revocation ----------------------------------------------------------------------------


def test_a_revoked_node_is_cut_off_at_once_and_cannot_return(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            other = make_node(the_hub, tmp_path, "desk")
            ws = await authenticated(the_hub, node)
            bystander = await authenticated(the_hub, other)
            # As `lsavto hub revoke` would: another HubTrust instance on the same data dir.
            HubTrust(the_hub.data_dir).revoke(node.cred.node_id)
            started = time.monotonic()
            frames, close, reason = await until_closed(ws)
            took = time.monotonic() - started
            assert took < (REVOCATION_CHECK_S + 1.0) * FACTOR
            assert [m.code for m in frames if isinstance(m, Error)] == ["auth"]
            assert (close, reason) == (1008, "revoked")

            before = snapshot(the_hub)
            ws = await raw(the_hub)
            await ws.send(encode(node.hello()))
            with contextlib.suppress(ConnectionClosed):
                await ws.send(encode(Push((region_state(node),))))
            assert_refused(*await until_closed(ws), "auth")
            assert snapshot(the_hub) == before
            # The other node was not touched.
            await bystander.send(encode(Ping(1)))
            assert await recv_reply(bystander) == Pong(1)
            await bystander.close()

    run(scenario)


def test_a_running_agent_stops_for_good_when_its_node_is_revoked(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            identity = NodeIdentity(
                f"127.0.0.1:{the_hub.port}", the_hub.certificate.fingerprint,
                the_hub.store.hub_id, node.cred.node_id, node.cred.token,
            )  # fmt: skip
            agent = NodeAgent(tmp_path / "tablet", identity, rng=random.Random(1))
            try:
                forever = asyncio.create_task(agent.run_forever())
                await asyncio.wait_for(agent.caught_up.wait(), TIMEOUT)
                HubTrust(the_hub.data_dir).revoke(node.cred.node_id)
                await asyncio.wait_for(forever, (REVOCATION_CHECK_S + 2.0) * FACTOR)
            finally:
                agent.db.close()
            assert agent.status.stopped and "revoked" in agent.status.last_error

    run(scenario)


# -- 7. pairing -------------------------------------------------------------------------------


def node_dir(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(exist_ok=True)
    return path


def other_code(code: str) -> str:
    digits = code.replace("-", "")
    return f"{(int(digits) + 1) % 10**8:08d}"


def test_a_wrong_pairing_code_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            code = the_hub.trust.issue_code().code
            ws = await raw(the_hub)
            await ws.send(encode(Pair(other_code(code), "tablet", SCHEMA_VERSION)))
            assert_refused(*await until_closed(ws), "pairing")
            address, fp = f"127.0.0.1:{the_hub.port}", the_hub.certificate.fingerprint
            with pytest.raises(SyncError, match="wrong or has expired"):
                await pair(node_dir(tmp_path, "node"), address, other_code(code), "tablet", fp)
            assert NodeIdentity.load(tmp_path / "node") is None
            assert the_hub.trust.nodes() == []
            # Two wrong guesses do not burn the right code.
            await pair(node_dir(tmp_path, "node"), address, code, "tablet", fp)
            assert len(the_hub.trust.nodes()) == 1

    run(scenario)


def test_a_pairing_code_pairs_one_node_only(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            code = the_hub.trust.issue_code().code
            address, fp = f"127.0.0.1:{the_hub.port}", the_hub.certificate.fingerprint
            first = await pair(node_dir(tmp_path, "a"), address, code, "tablet", fp)
            with pytest.raises(SyncError, match="refused pairing"):
                await pair(node_dir(tmp_path, "b"), address, code, "intruder", fp)
            # A captured Pair frame replayed raw gets the same answer.
            ws = await raw(the_hub)
            await ws.send(encode(Pair(code, "intruder", SCHEMA_VERSION)))
            assert_refused(*await until_closed(ws), "pairing")
            assert NodeIdentity.load(tmp_path / "b") is None
            assert [n["node_id"] for n in the_hub.trust.nodes()] == [first.node_id]

    run(scenario)
