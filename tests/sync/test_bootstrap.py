"""Snapshot bootstrap and tombstone expiry, over real TLS websockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hub.server import Hub
from lsnode.store.changes import Writer
from lsnode.store.db import init_store
from lsnode.store.replica import checksums
from lsnode.sync.client import NodeAgent, pair


async def paired_agent(hub: Hub, node_dir: Path, before_sync: int = 0) -> NodeAgent:
    db = init_store(node_dir)
    if before_sync:
        Writer(db).insert_many("regions", [{"name": f"узел {i}"} for i in range(before_sync)])
    db.close()
    code = hub.trust.issue_code().code
    identity = await pair(node_dir, f"127.0.0.1:{hub.port}", code, node_dir.name, None)
    return NodeAgent(node_dir, identity)


async def stop_all(agents: list[NodeAgent], tasks: list[asyncio.Task[None]], hub: Hub) -> None:
    """Stop running agents, then the hub — the order a shop closes in."""
    for agent in agents:
        await agent.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await hub.stop()


def test_a_fresh_node_starts_from_a_snapshot_and_keeps_its_own_writes(tmp_path: Path) -> None:
    async def scenario() -> None:
        hub = Hub(tmp_path / "hub", snapshot_threshold=100)
        await hub.start()
        try:
            Writer(hub.db).insert_many("regions", [{"name": f"р{i}"} for i in range(1500)])
            Writer(hub.db).insert(
                "counterparties",
                {"kind": "person", "full_name": "Иванов Василий", "short_name": "Иванов В.",
                 "name_key": "иванов василий", "registered_at": "2026-12-03"},
            )  # fmt: skip
            agent = await paired_agent(hub, tmp_path / "tablet", before_sync=3)
            await asyncio.wait_for(agent.run_once(), 30)
            assert agent.status.pending == 0
            assert checksums(agent.db) == checksums(hub.db)
            assert agent.db.execute("SELECT count(*) FROM regions").fetchone()[0] == 1503
            # the snapshot's search index was rebuilt for this file
            found = agent.db.execute(
                "SELECT count(*) FROM counterparty_fts WHERE counterparty_fts MATCH 'иван*'"
            ).fetchone()[0]
            assert found == 1
            # and the node keeps syncing normally afterwards
            Writer(agent.db).insert("regions", {"name": "после снимка"})
            await asyncio.wait_for(agent.run_once(), 30)
            assert checksums(agent.db) == checksums(hub.db)
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_a_node_that_slept_past_tombstone_expiry_rebootstraps_without_resurrection(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        hub = Hub(tmp_path / "hub", snapshot_threshold=10**9)
        await hub.start()
        try:
            w = Writer(hub.db)
            ids = w.insert_many("regions", [{"name": f"р{i}"} for i in range(20)])
            agent = await paired_agent(hub, tmp_path / "tablet")
            await asyncio.wait_for(agent.run_once(), 30)
            assert agent.db.execute("SELECT count(*) FROM regions").fetchone()[0] == 20
            # While the tablet sleeps: the office deletes five regions, and much later the
            # hub forgets those deletions. The tablet, offline, edits one of them.
            for row in ids[:5]:
                w.delete("regions", row)
            Writer(agent.db).update("regions", ids[0], {"name": "правка офлайн"})
            time.sleep(0.01)
            hub.tombstone_days = 0
            assert hub.purge() == 5
            await asyncio.wait_for(agent.run_once(), 30)
            assert agent.db.execute("SELECT count(*) FROM regions").fetchone()[0] == 15
            assert hub.db.execute("SELECT count(*) FROM regions").fetchone()[0] == 15
            assert checksums(agent.db) == checksums(hub.db)
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_a_copy_that_drifted_is_found_by_its_checksums_and_repaired(tmp_path: Path) -> None:
    async def scenario() -> None:
        hub = Hub(tmp_path / "hub", snapshot_threshold=10**9)
        await hub.start()
        try:
            Writer(hub.db).insert_many("regions", [{"name": f"р{i}"} for i in range(30)])
            agent = await paired_agent(hub, tmp_path / "tablet")
            await asyncio.wait_for(agent.run_once(), 30)
            # A bug or a bad disk changes the tablet's copy behind sync's back …
            agent.db.execute("UPDATE regions SET name = 'испорчено' WHERE name = 'р7'")
            agent.db.execute("DELETE FROM regions WHERE name = 'р8'")
            Writer(agent.db).insert("regions", {"name": "своё, ещё не отправлено"})
            assert checksums(agent.db) != checksums(hub.db)
            task = asyncio.create_task(agent.run_forever())
            deadline = time.monotonic() + 30
            while (
                agent.repairs == 0 or agent._installing or checksums(agent.db) != checksums(hub.db)
            ):
                assert time.monotonic() < deadline, f"never repaired: {agent.status}"
                await asyncio.sleep(0.1)
            names = {r[0] for r in agent.db.execute("SELECT name FROM regions")}
            assert {"р7", "р8", "своё, ещё не отправлено"} <= names
            assert "испорчено" not in names
            await agent.stop()
            task.cancel()
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_a_node_cannot_make_the_hub_copy_its_store_again_and_again(tmp_path: Path) -> None:
    from lsnode.sync.client import SyncError

    async def scenario() -> None:
        hub = Hub(tmp_path / "hub", snapshot_threshold=100)
        await hub.start()
        try:
            Writer(hub.db).insert_many("regions", [{"name": f"р{i}"} for i in range(200)])
            agent = await paired_agent(hub, tmp_path / "tablet")
            await asyncio.wait_for(agent.run_once(), 30)
            before = checksums(agent.db)
            for _ in range(2):  # a broken download may be retried …
                agent.store.new_epoch(agent.store.epoch() or "", hub.store.hub_id)  # cursor 0
                await asyncio.wait_for(agent.run_once(), 30)
            agent.store.new_epoch(agent.store.epoch() or "", hub.store.hub_id)
            with pytest.raises(SyncError, match="moments ago"):  # … but not without end
                await asyncio.wait_for(agent.run_once(), 30)
            assert not agent.status.stopped  # it will try again later, with backoff
            assert checksums(agent.db) == before  # and nothing of its copy was lost
        finally:
            await hub.stop()

    asyncio.run(scenario())
