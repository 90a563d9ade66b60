"""kill -9 at every sync crash point (``lsnode.faults``): real ``lsavto`` processes, a real SIGKILL
(``LSAVTO_CRASH_AT``), real SQLite files, 127.0.0.1 only. After the kill both database files pass
``PRAGMA integrity_check``; after a restart without the variable and a sync, nothing the hub
acknowledged is lost, nothing is applied twice (each client stamped and numbered exactly once) and
hub and node hold the same content (``lsavto checksum``)."""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lsnode.store.changes import Writer
from lsnode.store.db import db_path, open_store
from lsnode.sync.pairing import NodeIdentity
from lsnode.sync.protocol import PULL_BATCH, PUSH_BATCH, SNAPSHOT_THRESHOLD

LSAVTO = str(Path(sys.executable).with_name("lsavto"))
FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
LOOPBACK = "127.0.0.1"
KILLED = -signal.SIGKILL


def env_with(crash_at: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LSAVTO_CRASH_AT"}
    if crash_at:
        env["LSAVTO_CRASH_AT"] = crash_at
    return env


def cli(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LSAVTO, *args], capture_output=True, text=True, timeout=30 * FACTOR, env=env_with(crash_at)
    )


def cli_json(*args: str) -> Any:
    proc = cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


class HubProcess:
    """``lsavto hub`` on loopback; a restart keeps the port (the node dials what it paired with)."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self, crash_at: str | None = None) -> None:
        self.proc = subprocess.Popen(
            [LSAVTO, "hub", "--data", str(self.data), "--listen", self.address],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env_with(crash_at),
        )
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:  # its first line says where it listens
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            assert sel.select(20 * FACTOR), "the hub did not start listening in time"
        line = self.proc.stdout.readline()
        assert line, f"the hub exited ({self.proc.wait(10 * FACTOR)}) before listening"
        self.port = int(json.loads(line)["listen"].rsplit(":", 1)[1])

    def wait_killed(self) -> None:
        assert self.proc is not None
        assert self.proc.wait(20 * FACTOR) == KILLED, "the hub was not SIGKILLed"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10 * FACTOR)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Site:
    """A hub and a node paired with it; the hub is started by the test (with its crash point)."""

    def __init__(self, hub_dir: Path, node: Path) -> None:
        self.hub = HubProcess(hub_dir)
        self.node = node

    def start_hub(self, crash_at: str | None = None) -> None:
        first = self.hub.port == 0
        self.hub.start(crash_at)
        if first:  # a copy of the paired template: point the node at this hub's port
            identity = NodeIdentity.load(self.node)
            assert identity is not None
            dataclasses.replace(identity, hub_address=self.hub.address).save(self.node)

    def sync(self, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        timeout = str(20 * FACTOR)
        return cli("sync", "--data", str(self.node), "--timeout", timeout, crash_at=crash_at)


class Templates:
    """An empty hub and a node paired with it by the real CLI, made once per module; copies of it
    with rows already written on the hub, made once per row count. Each test gets its own copy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: dict[int, list[str]] = {}
        hub = HubProcess(root / "0" / "hub")
        cli_json("init", "--data", str(hub.data), "--bare")  # counts below are exact
        hub.start()
        try:
            code = cli_json("hub", "pairing-code", "--data", str(hub.data))["code"]
            node = root / "0" / "node"
            cli_json("pair", "--data", str(node), "--hub", hub.address, "--code", code)
        finally:
            hub.stop()
        self.written[0] = []

    def site(self, into: Path, hub_rows: int = 0) -> tuple[Site, list[str]]:
        if hub_rows not in self.written:
            shutil.copytree(self.root / "0", self.root / str(hub_rows))
            hub_dir = self.root / str(hub_rows) / "hub"
            self.written[hub_rows] = write_clients(hub_dir, hub_rows, "Х")  # stamped, numbered
        for name in ("hub", "node"):
            shutil.copytree(self.root / str(hub_rows) / name, into / name)
        return Site(into / "hub", into / "node"), self.written[hub_rows]


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


MakeSite = Callable[[int], tuple[Site, list[str]]]


@pytest.fixture
def make_site(templates: Templates, tmp_path: Path) -> Iterator[MakeSite]:
    """``make_site(hub_rows)``: a copy of the paired template (with its clients' ids)."""
    made: list[Site] = []

    def make(hub_rows: int = 0) -> tuple[Site, list[str]]:
        site, written = templates.site(tmp_path, hub_rows)
        made.append(site)
        return site, written

    try:
        yield make
    finally:
        for site in made:
            site.hub.stop()


@pytest.fixture
def site(make_site: MakeSite) -> Site:
    """A hub (not started: each test starts it, with its crash point) and a paired node."""
    return make_site(0)[0]


# -- the stores, read from outside -------------------------------------------------------------


def write_clients(data: Path, count: int, tag: str) -> list[str]:
    """``count`` new clients through the store's one write path; their ids in write order."""
    db = open_store(data)
    try:
        rows = [
            {
                "kind": "person",
                "surname": f"Клиент{tag}",
                "full_name": f"Клиент{tag} Номер {i:05d}",
                "short_name": f"Клиент{tag} Н.",
                "name_key": f"клиент{tag.lower()} номер {i:05d}",
                "registered_at": "2026-12-03",
            }
            for i in range(count)
        ]
        return Writer(db).insert_many("counterparties", rows)
    finally:
        db.close()


def query(data: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read-only (no recovery checkpoint): what the kill left is what is examined."""
    conn = sqlite3.connect(f"file:{db_path(data)}?mode=ro", uri=True, timeout=10 * FACTOR)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def meta(data: Path, key: str) -> int:
    rows = query(data, "SELECT value FROM _meta WHERE key = ?", key)
    return int(rows[0][0]) if rows else 0


def client_ids(data: Path) -> set[str]:
    return {r[0] for r in query(data, "SELECT id FROM counterparties")}


def acked_by_hub(site: Site) -> int:
    node_site = query(site.node, "SELECT value FROM _meta WHERE key = 'site_id'")[0][0]
    rows = query(site.hub.data, "SELECT acked_seq FROM _sites WHERE site_id = ?", node_site)
    return int(rows[0][0]) if rows else 0


def pending_on_node(site: Site) -> int:
    pushed = meta(site.node, "pushed_seq")
    return int(query(site.node, "SELECT count(*) FROM _rowmeta WHERE local_seq > ?", pushed)[0][0])


def assert_intact(*dirs: Path) -> None:
    for data in dirs:
        assert query(data, "PRAGMA integrity_check") == [("ok",)], f"{data} is corrupt"
        # The search index is kept by triggers: it must hold exactly the rows of its table.
        fts = query(data, "SELECT count(*) FROM counterparty_fts")[0][0]
        assert fts == query(data, "SELECT count(*) FROM counterparties")[0][0], data


def assert_numbered_once(data: Path, n: int) -> None:
    """``n`` clients numbered 1..n: no duplicate, no gap, none left pending."""
    got = query(
        data,
        "SELECT count(*), count(number), count(DISTINCT number), min(number), max(number) "
        "FROM counterparties",
    )[0]
    assert got == (n, n, n, 1, n), f"{data}: (rows, numbered, distinct, min, max) = {got}"


def sync_ok(site: Site) -> None:
    """One ``lsavto sync`` without a crash point: it must finish with nothing left to push."""
    proc = site.sync()
    assert proc.returncode == 0, proc.stderr
    assert "0 changes waiting" in proc.stdout, proc.stdout


def recover(site: Site, written: list[str], acked: int) -> None:
    """Sync without a crash point; then every write is on both sides, applied exactly once."""
    hub, node, n = site.hub.data, site.node, len(written)
    sync_ok(site)
    # (a) nothing lost, (b) nothing applied twice: every client once on the hub, numbered 1..n,
    # each change stamped with its own hub_seq, 1..n with no gap.
    assert client_ids(hub) == set(written), "a client the node wrote is missing on the hub"
    assert_numbered_once(hub, n)
    seqs = query(hub, "SELECT count(*), count(DISTINCT hub_seq), min(hub_seq), max(hub_seq) "
                      "FROM _rowmeta")[0]  # fmt: skip
    assert seqs == (n, n, 1, n), f"hub_seq (rows, distinct, min, max) = {seqs}"
    assert meta(hub, "hub_seq") == n
    assert acked_by_hub(site) == acked
    assert pending_on_node(site) == 0
    assert meta(node, "cursor") == meta(hub, "hub_seq"), "sync once left the echo behind"
    sync_ok(site)  # a reconnect re-pushes nothing (after a snapshot too)
    assert acked_by_hub(site) == acked and meta(hub, "hub_seq") == n
    assert not list((hub / "snapshots").glob("*")) if (hub / "snapshots").exists() else True
    # (c) converged: the same rows, numbers and content on both sides, the cursor at the end.
    assert client_ids(node) == set(written)
    assert_numbered_once(node, n)
    assert meta(node, "cursor") == n, "the node's cursor is not at the hub's last change"
    sums = [cli_json("checksum", "--data", str(d)) for d in (hub, node)]
    assert sums[0] == sums[1]
    assert sums[0]["counterparties"].startswith(f"{n}:")
    assert_intact(hub, node)


# -- push: the node's writes reach the hub exactly once ----------------------------------------


def test_hub_killed_before_commit_rolls_the_batch_back(site: Site) -> None:
    written = write_clients(site.node, PUSH_BATCH + 500, "А")
    site.start_hub(crash_at="hub.push.before_commit:2")  # the 2nd batch; the 1st is committed

    proc = site.sync()
    site.hub.wait_killed()
    assert proc.returncode == 1 and proc.stderr.startswith("lsavto: error: lost"), proc.stderr
    assert_intact(site.hub.data, site.node)
    # The 2nd batch was rolled back whole: the hub holds exactly the 1st, stamped and acked.
    assert not client_ids(site.hub.data) & set(written[PUSH_BATCH:])
    assert client_ids(site.hub.data) == set(written[:PUSH_BATCH])
    assert meta(site.hub.data, "hub_seq") == PUSH_BATCH
    assert acked_by_hub(site) == PUSH_BATCH
    assert meta(site.node, "pushed_seq") == PUSH_BATCH

    site.start_hub()
    recover(site, written, acked=len(written))


def test_hub_killed_after_commit_before_the_ack(site: Site) -> None:
    written = write_clients(site.node, PUSH_BATCH + 500, "Б")
    site.start_hub(crash_at="hub.push.after_commit")

    proc = site.sync()
    site.hub.wait_killed()
    assert proc.returncode == 1 and proc.stderr.startswith("lsavto: error: lost"), proc.stderr
    assert_intact(site.hub.data, site.node)
    # Committed but never acknowledged: the hub keeps it, the node still counts it as pending.
    assert client_ids(site.hub.data) == set(written[:PUSH_BATCH])
    assert acked_by_hub(site) == PUSH_BATCH
    assert meta(site.node, "pushed_seq") == 0

    site.start_hub()  # its Welcome carries the ack: the batch is not applied a second time
    recover(site, written, acked=len(written))


def test_node_killed_right_after_sending_a_push(site: Site) -> None:
    written = write_clients(site.node, 2 * PUSH_BATCH + 500, "В")
    site.start_hub()

    proc = site.sync(crash_at="node.push.after_send:2")
    assert proc.returncode == KILLED, proc.stderr
    assert_intact(site.hub.data, site.node)
    # The 1st batch was acknowledged before the 2nd was sent; the 2nd may or may not have
    # reached the hub (whole or not at all), and the next sync must not apply it twice.
    assert meta(site.node, "pushed_seq") == PUSH_BATCH
    assert acked_by_hub(site) in (PUSH_BATCH, 2 * PUSH_BATCH)

    recover(site, written, acked=len(written))


# -- pull: a node killed while applying a large pull resumes from its cursor -------------------


@pytest.mark.parametrize(
    ("crash_at", "kept"),
    [("node.pull.before_commit:2", PULL_BATCH), ("node.pull.after_commit:2", 2 * PULL_BATCH)],
)
def test_node_killed_while_applying_a_large_pull(
    make_site: MakeSite, crash_at: str, kept: int
) -> None:
    n = 2 * PULL_BATCH + 1000  # three pull batches
    assert n < SNAPSHOT_THRESHOLD, "this many changes would come as a snapshot, not pulls"
    site, written = make_site(n)
    site.start_hub()

    proc = site.sync(crash_at=crash_at)
    assert proc.returncode == KILLED, proc.stderr
    assert_intact(site.hub.data, site.node)
    # Each batch committed with the cursor that covers it: whole batches, nothing past it.
    assert meta(site.node, "cursor") == kept
    assert len(client_ids(site.node)) == kept
    got = query(site.node, "SELECT min(number), max(number) FROM counterparties")[0]
    assert got == (1, kept), "the node holds something other than the first batches"

    recover(site, written, acked=0)


# -- bootstrap: a fresh node takes a snapshot of a big hub instead of pulling -------------------


@pytest.mark.parametrize("crash_at", ["node.bootstrap.mid:2", "hub.snapshot.mid:2"])
def test_killed_while_a_snapshot_is_streamed(make_site: MakeSite, crash_at: str) -> None:
    site, written = make_site(SNAPSHOT_THRESHOLD)
    on_hub = crash_at.startswith("hub.")
    site.start_hub(crash_at=crash_at if on_hub else None)

    proc = site.sync(crash_at=None if on_hub else crash_at)
    if on_hub:
        site.hub.wait_killed()
        assert proc.returncode == 1 and proc.stderr.startswith("lsavto: error: lost"), proc.stderr
    else:
        assert proc.returncode == KILLED, proc.stderr
    assert_intact(site.hub.data, site.node)
    # Half a snapshot is never installed: the node's store is as it was, and it starts over.
    assert client_ids(site.node) == set()
    assert meta(site.node, "cursor") == 0

    if on_hub:
        site.start_hub()
    recover(site, written, acked=0)
