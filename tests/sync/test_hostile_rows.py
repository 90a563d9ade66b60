"""Hostile pushes, intents and site claims that reach the store layer: refused, nothing kept."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from lsnode.sync.merge import RowState
from lsnode.sync.messages import Ack, ProtocolError, Push, decode, encode
from lsnode.sync.pairing import HubTrust
from tests.sync.test_hostile import (
    SCHEMA_BREAKERS,
    assert_refused,
    authenticated,
    make_node,
    raw,
    recv_reply,
    region_state,
    run,
    running_hub,
    snapshot,
    until_closed,
)


# D1
@pytest.mark.parametrize(
    "frame", ["[" * 100_000, b'{"v": 1, "type": "push", "batch": ' + b"[" * 100_000]
)
def test_deeply_nested_json_is_refused_as_bad_json(frame: str | bytes) -> None:
    with pytest.raises(ProtocolError) as refused:
        decode(frame)
    assert refused.value.code == "bad_json"


def test_deeply_nested_json_over_the_wire(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            before = snapshot(the_hub)
            ws = await raw(the_hub)
            await ws.send("[" * 100_000)
            assert_refused(*await until_closed(ws), "bad_json")
            assert snapshot(the_hub) == before

    run(scenario)


# D2
BREAKERS = SCHEMA_BREAKERS


@pytest.mark.parametrize("breaker", [b for _, b in BREAKERS], ids=[n for n, _ in BREAKERS])
def test_a_push_the_schema_refuses_gets_an_error_frame_and_1008(
    tmp_path: Path, breaker: Callable[[RowState], RowState]
) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            seq, state = region_state(node)
            before = snapshot(the_hub)
            ws = await authenticated(the_hub, node)
            await ws.send(encode(Push(((seq, breaker(state)),))))
            assert_refused(*await until_closed(ws), "bad_state")
            assert snapshot(the_hub) == before

    run(scenario)


def test_a_check_constraint_gets_an_error_frame_and_a_made_up_number_is_ignored(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            the_hub.store.writer.insert(
                "counterparties",
                {
                    "kind": "person",
                    "full_name": "А",
                    "short_name": "А",
                    "name_key": "а",
                    "registered_at": "2026-12-03",
                },
            )  # number 1 on the hub
            node.writer.insert(
                "counterparties",
                {
                    "kind": "person",
                    "full_name": "Б",
                    "short_name": "Б",
                    "name_key": "б",
                    "registered_at": "2026-12-03",
                },
            )
            ((seq, state),) = node.states()
            before = snapshot(the_hub)
            ws = await authenticated(the_hub, node)
            bad = replace(state, values={**state.values, "kind": "robot"})
            await ws.send(encode(Push(((seq, bad),))))
            assert_refused(*await until_closed(ws), "bad_state")
            assert snapshot(the_hub) == before
            # A number the node made up (here: another client's) is not a collision: numbers are
            # the hub's, so the row is taken and numbered by the hub.
            ws = await authenticated(the_hub, node)
            await ws.send(
                encode(Push(((seq, replace(state, values={**state.values, "number": 1})),)))
            )
            assert await recv_reply(ws) == Ack(seq)
            await ws.close()
            numbers = the_hub.db.execute("SELECT number FROM counterparties ORDER BY number")
            assert [n for (n,) in numbers] == [1, 2]

    run(scenario)


# D3
def test_error_reasons_stay_within_what_decode_accepts(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            for frame in (
                '{"v": 1, "type": "%s"}' % ("x" * 50_000),
                '{"v": "%s", "type": "hello"}' % ("x" * 50_000),
                json.dumps({"v": 1, "type": "ping"} | {f"f{i}": 0 for i in range(5000)}),
            ):
                ws = await raw(the_hub)
                await ws.send(frame)
                frames, close, _ = await until_closed(ws)  # decode() each Error frame
                assert close == 1008 and len(frames) == 1

    run(scenario)


# D4
def test_a_node_cannot_speak_for_another_nodes_site(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            victim = make_node(the_hub, tmp_path, "desk")
            rogue = make_node(the_hub, tmp_path, "rogue")
            ws = await authenticated(the_hub, victim)  # the hub has seen the victim's site
            await ws.close()
            _, bait = region_state(rogue, "Evil")
            ws = await raw(the_hub)
            await ws.send(encode(replace(rogue.hello(), site_id=victim.site)))
            with contextlib.suppress(ConnectionClosed):
                await ws.send(encode(Push(((10**6, bait),))))
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                while True:
                    await asyncio.wait_for(ws.recv(), 0.5)
            await ws.close()
            # Whatever the hub did with the rogue, the victim's own change must get in.
            seq, mine = region_state(victim, "Тверь")
            ws = await authenticated(the_hub, victim)
            await ws.send(encode(Push(((seq, mine),))))
            assert await recv_reply(ws) == Ack(seq)
            await ws.close()
            rows = the_hub.db.execute("SELECT name FROM regions WHERE id = ?", [mine.row_id])
            assert rows.fetchall() == [("Тверь",)]

    run(scenario)


# D5
def test_a_push_right_after_revocation_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_hub(tmp_path) as the_hub:
            node = make_node(the_hub, tmp_path, "tablet")
            ws = await authenticated(the_hub, node)
            HubTrust(the_hub.data_dir).revoke(node.cred.node_id)
            before = snapshot(the_hub)
            await ws.send(encode(Push((region_state(node),))))
            frames, close, reason = await until_closed(ws)
            assert not any(isinstance(m, Ack) for m in frames), frames
            assert close == 1008 and reason in ("auth", "revoked")
            assert snapshot(the_hub) == before

    run(scenario)
