"""NodeContext: store, change notices and hub-decided claims (real SQLite, real hub on loopback).

No window is needed: the context's Clock tick is not relied on — tests call
``check_data_version`` themselves, and the runtime posts back through a queue the test drains.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lsnode.runtime import Runtime
from lsnode.store.changes import Writer
from lsnode.store.db import open_store
from lsnode.sync.client import SyncStatus, pair
from lsnode.ui.context import HubUnavailable, NodeContext

FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
VISIT = {"contact_type": "visit", "department": "salon", "status": "new", "contact_at": "x"}


class MainThread:
    def __init__(self) -> None:
        self.inbox: queue.Queue[Callable[[], None]] = queue.Queue()

    def post(self, fn: Callable[[], None]) -> None:
        self.inbox.put(fn)

    def until(self, check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        """Run posted callbacks (as Kivy's Clock would) until ``check()`` holds."""
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


@pytest.fixture
def ctx(data_dir: Path, runtime: Runtime) -> Iterator[NodeContext]:
    context = NodeContext(data_dir, runtime)
    context.open()
    yield context
    context.close()


def test_a_commit_by_another_connection_dispatches_one_data_changed(
    ctx: NodeContext, data_dir: Path
) -> None:
    seen: list[int] = []
    ctx.bind(on_data_changed=lambda *_: seen.append(ctx.data_version))
    assert not ctx.check_data_version()
    other = open_store(data_dir)
    try:
        Writer(other).insert("regions", {"name": "Москва"})
    finally:
        other.close()
    assert ctx.check_data_version()
    assert not ctx.check_data_version()  # one notice per change, not one per tick
    assert seen == [1]


def test_a_local_write_refreshes_screens_and_counts_what_waits(ctx: NodeContext) -> None:
    seen: list[int] = []
    ctx.bind(on_data_changed=lambda *_: seen.append(1))
    assert ctx.db is not None
    before = ctx.pending
    Writer(ctx.db).insert("regions", {"name": "Тверь"})
    ctx.notify_local_change()
    assert seen == [1]
    assert ctx.pending == before + 1


def test_status_from_the_agent_lands_in_properties(ctx: NodeContext) -> None:
    ctx.apply_status(SyncStatus(online=False, offline_since=1_800_000_000.0, pending=3))
    assert (ctx.online, ctx.offline_since, ctx.pending) == (False, 1_800_000_000.0, 3)
    ctx.apply_status(SyncStatus(online=True, pending=0, hub_address="127.0.0.1:1"))
    assert ctx.online and ctx.offline_since is None and ctx.hub_address == "127.0.0.1:1"


def test_claiming_without_a_hub_says_why_in_the_users_language(ctx: NodeContext) -> None:
    from lsnode.ui import i18n

    assert not ctx.paired
    with pytest.raises(HubUnavailable) as err:
        ctx.claim("traffic", "x", "responsible_id", "petukhov")
    assert err.value.reason == "not_paired"
    assert "хабу" in i18n.tr(err.value.message_key)


def test_a_paired_node_syncs_claims_and_refreshes_on_remote_changes(
    tmp_path: Path, data_dir: Path, runtime: Runtime, main: MainThread
) -> None:
    from hub.server import Hub

    hub = Hub(tmp_path / "hub")
    runtime.call_blocking(hub.start(), 30 * FACTOR)
    ctx = NodeContext(data_dir, runtime)
    hub_running = True
    try:
        code = hub.trust.issue_code().code
        runtime.call_blocking(
            pair(data_dir, f"127.0.0.1:{hub.port}", code, "tablet-a", None), 30 * FACTOR
        )
        visit = Writer(hub.db).insert("traffic", VISIT)
        ctx.open()
        assert ctx.paired
        changed: list[int] = []
        ctx.bind(on_data_changed=lambda *_: changed.append(1))
        ctx.start_sync()
        main.until(lambda: ctx.online and ctx.pending == 0, "online and caught up")
        main.until(lambda: bool(changed), "the hub's rows to trigger a refresh")

        won = ctx.claim("traffic", visit, "responsible_id", "petukhov", None)
        assert won.ok and won.current == "petukhov"
        lost = ctx.claim("traffic", visit, "responsible_id", "badovets", None)
        assert not lost.ok and lost.current == "petukhov"  # the loser sees who took it

        runtime.call_blocking(hub.stop(), 30 * FACTOR)
        hub_running = False
        main.until(lambda: not ctx.online, "the node to notice the hub is gone")
        assert ctx.offline_since is not None
        with pytest.raises(HubUnavailable) as err:
            ctx.claim("traffic", visit, "responsible_id", "badovets", "petukhov")
        assert err.value.reason == "offline"
    finally:
        ctx.close()
        if hub_running:
            runtime.call_blocking(hub.stop(), 30 * FACTOR)
