"""30 nodes reconnect after a hub restart: all resync, spread out by full-jitter backoff."""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

from hub.server import Hub
from lsnode.store.changes import Writer
from lsnode.store.db import init_store
from lsnode.sync.client import BACKOFF_CAP_S, NodeAgent, backoff_delays, pair
from tests.sync.test_bootstrap import stop_all

FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
NODES = 30


def test_full_jitter_spreads_and_caps_the_waits() -> None:
    delay = backoff_delays(rng=random.Random(7))
    first = [delay(0) for _ in range(1000)]
    assert 0 <= min(first) < 0.05 and 0.45 < max(first) <= 0.5  # spread over [0, 0.5 s]
    assert max(delay(30) for _ in range(1000)) <= BACKOFF_CAP_S


def test_thirty_nodes_resync_after_a_hub_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        hub = Hub(tmp_path / "hub")
        await hub.start()
        port = hub.port
        agents: list[NodeAgent] = []
        for i in range(NODES):
            node_dir = tmp_path / f"tablet{i:02d}"
            init_store(node_dir).close()
            identity = await pair(
                node_dir, f"127.0.0.1:{port}", hub.trust.issue_code().code, node_dir.name, None
            )
            agents.append(NodeAgent(node_dir, identity, rng=random.Random(i)))
        tasks = [asyncio.create_task(a.run_forever()) for a in agents]
        try:
            await wait_for(lambda: len(hub.peers) == NODES, "all nodes connected")
            await hub.stop()
            await wait_for(lambda: not any(a.status.online for a in agents), "all offline")
            for i, agent in enumerate(agents[:5]):  # offline work goes on
                Writer(agent.db).insert("regions", {"name": f"офлайн {i}"})
            hub = Hub(tmp_path / "hub", "127.0.0.1", port)
            await hub.start()
            started = time.monotonic()
            Writer(hub.db).insert("regions", {"name": "после перезапуска"})
            await wait_for(lambda: len(hub.peers) == NODES, "all nodes back", timeout=60)
            arrivals = sorted(p.connected_at - started for p in hub.peers)
            assert arrivals[-1] - arrivals[0] > 0.2, arrivals  # not a thundering herd

            def synced() -> bool:
                rows = [a.db.execute("SELECT count(*) FROM regions").fetchone()[0] for a in agents]
                return rows == [6] * NODES

            await wait_for(synced, "every node to hold all six regions", timeout=60)
        finally:
            await stop_all(agents, tasks, hub)

    asyncio.run(scenario())


async def wait_for(check, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout * FACTOR
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
