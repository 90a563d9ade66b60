"""The node agent's API as the app will use it, over real TLS websockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hub.server import Hub
from lsnode.store.changes import Writer
from lsnode.sync.client import NodeAgent, SyncError
from tests.sync.test_bootstrap import paired_agent, stop_all

VISIT = {"contact_type": "visit", "department": "salon", "status": "new", "contact_at": "x"}


async def until(check, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def test_two_salesmen_tap_the_same_visitor_one_wins_the_other_sees_who(tmp_path: Path) -> None:
    async def scenario() -> None:
        hub = Hub(tmp_path / "hub")
        await hub.start()
        agents: list[NodeAgent] = []
        tasks = []
        try:
            visit = Writer(hub.db).insert("traffic", VISIT)
            for name in ("tablet-a", "tablet-b"):
                agent = await paired_agent(hub, tmp_path / name)
                agents.append(agent)
                tasks.append(asyncio.create_task(agent.run_forever()))
            await until(lambda: all(a.caught_up.is_set() for a in agents), "both online")
            a, b = agents
            first, second = await asyncio.gather(
                a.intent("traffic", visit, "responsible_id", "petukhov"),
                b.intent("traffic", visit, "responsible_id", "badovets"),
            )
            winner, loser = (first, second) if first.ok else (second, first)
            assert winner.ok and not loser.ok
            assert loser.current == winner.current  # the loser's screen can say who took it

            def everywhere() -> bool:
                rows = [
                    x.db.execute("SELECT responsible_id FROM traffic").fetchone()[0] for x in agents
                ]
                return rows == [winner.current] * 2

            await until(everywhere, "the decision to reach both tablets")
        finally:
            await stop_all(agents, tasks, hub)

    asyncio.run(scenario())


def test_an_intent_without_the_hub_says_so_and_changes_nothing(tmp_path: Path) -> None:
    async def scenario() -> None:
        hub = Hub(tmp_path / "hub")
        await hub.start()
        try:
            agent = await paired_agent(hub, tmp_path / "tablet")
        finally:
            await hub.stop()
        with pytest.raises(SyncError, match="not reachable"):
            await agent.intent("traffic", "x", "responsible_id", "petukhov")

    asyncio.run(scenario())


def test_a_node_cannot_choose_a_human_number(tmp_path: Path) -> None:
    async def scenario() -> None:
        hub = Hub(tmp_path / "hub")
        await hub.start()
        try:
            agent = await paired_agent(hub, tmp_path / "tablet")
            row = Writer(agent.db).insert(
                "counterparties",
                {"kind": "person", "full_name": "Петров", "short_name": "Петров",
                 "name_key": "петров", "registered_at": "2026-12-03", "number": 999},
            )  # fmt: skip
            await asyncio.wait_for(agent.run_once(), 20)
            sql = "SELECT number FROM counterparties WHERE id = ?"
            assert hub.db.execute(sql, [row]).fetchone() == (1,)
            assert agent.db.execute(sql, [row]).fetchone() == (1,)
        finally:
            await hub.stop()

    asyncio.run(scenario())
