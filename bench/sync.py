"""``lsavto bench sync``: the sync engine's speed and size, each figure beside its baseline.

Six figures, on real SQLite files in a temporary dir and real TLS websockets on 127.0.0.1 (no
zeroconf). Every baseline is measured in the same run, on the same machine:

1. ``propagation``: a commit on node A (``Writer`` + ``notify_local_change()``) reaches node B's
   SQLite file (B's ``on_applied``, called after B's commit) while ``--nodes`` agents are
   connected. The hub runs as its own process (``lsavto hub --listen 127.0.0.1:0``), as on the
   dealership's PC; A and B run in the bench process; the other agents run in one more process,
   niced, standing in for the other tablets, which have CPUs of their own — so B's figure is not
   inflated by the other nodes applying the same change on B's loop. Baseline: a Ping/Pong round
   trip through the same hub over the same kind of pinned TLS websocket, after each write.
2. ``hub_apply``: ``accept_push`` of a node's own pushed batches (1000 states) into a hub store,
   metadata included, against a plain batched per-column LWW upsert of the same states into a
   table that keeps each column's version in a ``<column>__v`` column (no metadata table); for
   ``regions`` (narrow rows) and ``contacts`` (four secondary indexes).
3. ``capture``: ``Writer.insert_many`` against a plain ``executemany`` INSERT of the same rows
   into the same schema (a second, fresh store), for the same two tables; best of two,
   alternating.
4. ``catch_up``: a bootstrapped node ``--backlog`` changes behind runs ``run_once`` over the
   websocket to an in-process hub (the exchange is strictly request/response, so sharing the
   loop adds no contention). Baseline: the same changes pulled and applied store to store.
5. ``bootstrap``: a fresh paired node's ``run_once`` against a hub holding ``--bootstrap-rows``
   rows (the snapshot path). Baseline: the hub's ``make_snapshot`` (``VACUUM INTO``) alone.
6. ``hub_rss``: VmRSS of the hub process with ``--rss-nodes`` agents connected; baseline: the
   same process before any node connected.

Timings on a shared machine move with its load: ``machine.loadavg_*`` says what it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from lsnode.ids import uuid7

GOAL_PROPAGATION_P95_MS = 10.0
GOAL_APPLY_OPS_PER_S = 100_000.0
GOAL_APPLY_SHARE_PCT = 25.0
GOAL_CAPTURE_RATIO_X = 2.0
GOAL_CATCH_UP_S = 5.0
GOAL_BOOTSTRAP_S = 10.0
GOAL_HUB_RSS_MB = 150.0

PUSH_BATCH = 1000
BUILD_CHUNK = 50_000
WARMUP_WRITES = 5
CAPTURE_REPEAT = 2
BYSTANDER_NICE = 10
WAIT_S = 60.0
LISTEN = "127.0.0.1:0"

#: (section, key) of every headline figure; each key ends in its unit.
FIGURES: tuple[tuple[str, str], ...] = (
    ("propagation", "p50_ms"),
    ("propagation", "p95_ms"),
    ("propagation", "ws_rtt_p95_ms"),
    ("propagation", "p95_over_rtt_x"),
    ("hub_apply", "ops_per_s"),
    ("hub_apply", "raw_lww_ops_per_s"),
    ("hub_apply", "share_of_raw_pct"),
    ("capture", "ratio_x"),
    ("catch_up", "catch_up_s"),
    ("bootstrap", "bootstrap_s"),
    ("hub_rss", "rss_mb"),
)
SECTIONS = ("propagation", "hub_apply", "capture", "catch_up", "bootstrap", "hub_rss")


# -- helpers ------------------------------------------------------------------------------------


def _now() -> float:
    """Seconds on CLOCK_MONOTONIC: one clock for every process of the bench."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(values: Sequence[float], q: float) -> float:
    return round(_pct(values, q) * 1000, 3)


def _digits(i: int) -> str:
    return f"9{i % 1_000_000_000:09d}"


def _rows(table: str, n: int, start: int = 0, ids: bool = True) -> Iterator[dict[str, Any]]:
    """``n`` rows of ``table`` as a use case would write them (with UUIDv7 ids if ``ids``)."""
    for i in range(start, start + n):
        row: dict[str, Any] = {"id": uuid7()} if ids else {}
        if table == "regions":
            row["name"] = f"Регион {i}"
        elif table == "contacts":
            d = _digits(i)
            row.update(
                counterparty_id=uuid7(),
                kind="phone",
                value=f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
                phone_e164=f"+7{d}",
                phone_rev=d[::-1],
            )
        else:  # pragma: no cover - a bench author's typo
            raise ValueError(table)
        yield row


def _fill(db: Database, n: int, start: int = 0) -> None:
    """``n`` rows through the write path, half regions and half contacts, in chunks."""
    from lsnode.store.changes import Writer

    writer = Writer(db)
    done = 0
    while done < n:
        size = min(BUILD_CHUNK, n - done)
        half = size // 2
        for table, count, first in (
            ("regions", half, start + done),
            ("contacts", size - half, start + done + half),
        ):
            if count:
                writer.insert_many(table, _rows(table, count, first, ids=False))
        done += size


def _rss_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def _loadavg() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - not on Linux
        return -1.0


# -- 3. change capture --------------------------------------------------------------------------


def bench_capture(tmp: Path, rows: int, repeat: int = CAPTURE_REPEAT) -> dict[str, Any]:
    from lsnode.store.changes import Writer, utc_now
    from lsnode.store.db import init_store

    tables: dict[str, Any] = {}
    for table in ("regions", "contacts"):
        data = list(_rows(table, rows))
        names = [*data[0], "created_at", "updated_at"]  # what Writer's INSERT names
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        writer_runs: list[float] = []
        plain_runs: list[float] = []
        for attempt in range(repeat):
            plain = init_store(tmp / f"capture-plain-{table}-{attempt}")
            try:
                t0 = time.perf_counter()
                at = utc_now()
                params = [
                    tuple(at if c in ("created_at", "updated_at") else row[c] for c in names)
                    for row in data
                ]
                plain.execute("BEGIN IMMEDIATE")
                plain.conn.executemany(sql, params)
                plain.execute("COMMIT")
                plain_runs.append(time.perf_counter() - t0)
            finally:
                plain.close()
            captured = init_store(tmp / f"capture-writer-{table}-{attempt}")
            try:
                t0 = time.perf_counter()
                Writer(captured).insert_many(table, data)
                writer_runs.append(time.perf_counter() - t0)
            finally:
                captured.close()
        writer_s, plain_s = min(writer_runs), min(plain_runs)
        ratio = writer_s / plain_s
        tables[table] = {
            "rows": rows,
            "writer_s": round(writer_s, 3),
            "plain_insert_s": round(plain_s, 3),
            "writer_rows_per_s": round(rows / writer_s),
            "ratio_x": round(ratio, 2),
            "goal_met": ratio <= GOAL_CAPTURE_RATIO_X,
        }
    worst = max(t["ratio_x"] for t in tables.values())
    return {
        "setup": f"best of {repeat}, alternating; one transaction each into a fresh store "
        "(real file, WAL); the same rows with ids made beforehand; the plain INSERT builds its "
        "parameters inside the timing. ratio_x is the worst table",
        "tables": tables,
        "ratio_x": worst,
        "goal_ratio_x_max": GOAL_CAPTURE_RATIO_X,
        "goal_met": worst <= GOAL_CAPTURE_RATIO_X,
    }


# -- 2. hub apply -------------------------------------------------------------------------------


def _raw_table_sql(table: str, name: str) -> list[str]:
    """``table`` with the same columns, constraints and indexes, plus a version per column."""
    from lsnode.store.replica import replicated_columns
    from lsnode.store.schema import BY_NAME

    spec = BY_NAME[table]
    cols = ["id TEXT PRIMARY KEY NOT NULL"]
    for col in replicated_columns(table):
        decl = "INTEGER UNIQUE" if col == "number" else spec.columns.get(col, "TEXT NOT NULL")
        cols.append(f"{col} {decl}")
    cols += [f"{c}__v TEXT NOT NULL DEFAULT ''" for c in replicated_columns(table)]
    sql = [f"CREATE TABLE {name} ({', '.join(cols)}) STRICT"]
    for indexed in spec.indexes:
        sql.append(f"CREATE INDEX idx_{name}_{'_'.join(indexed)} ON {name} ({', '.join(indexed)})")
    return sql


def _raw_upsert(table: str, name: str) -> str:
    from lsnode.store.replica import replicated_columns

    cols = replicated_columns(table)
    names = ["id", *cols, *(f"{c}__v" for c in cols)]
    sets = [
        f"{c} = CASE WHEN excluded.{c}__v > {c}__v THEN excluded.{c} ELSE {c} END" for c in cols
    ] + [f"{c}__v = max({c}__v, excluded.{c}__v)" for c in cols]
    return (
        f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(sets)}"
    )


def _hub_apply(tmp: Path, rows: int, table: str) -> dict[str, Any]:
    from lsnode.store.changes import Writer, site_id
    from lsnode.store.db import init_store
    from lsnode.store.replica import accept_push, pending, replicated_columns
    from lsnode.sync.stores import SqliteHubStore

    node = init_store(tmp / f"apply-node-{table}")
    try:
        for start in range(0, rows, BUILD_CHUNK):
            count = min(BUILD_CHUNK, rows - start)
            Writer(node).insert_many(table, _rows(table, count, start, ids=False))
        site = site_id(node)
        batches = []
        after = 0
        t0 = time.perf_counter()
        while True:  # what the node's agent reads to push
            batch, after = pending(node, after, PUSH_BATCH)
            if not batch:
                break
            batches.append(batch)
        read_s = time.perf_counter() - t0
    finally:
        node.close()
    ops = sum(len(b) for b in batches)

    hub_db = init_store(tmp / f"apply-hub-{table}")
    try:
        SqliteHubStore(hub_db)  # promotes the store to a hub's master
        t0 = time.perf_counter()
        for batch in batches:
            accept_push(hub_db, site, batch)
        apply_s = time.perf_counter() - t0
        hub_rows = hub_db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        hub_db.close()

    raw = init_store(tmp / f"apply-raw-{table}")
    try:
        for sql in _raw_table_sql(table, "raw_lww"):
            raw.execute(sql)
        upsert = _raw_upsert(table, "raw_lww")
        cols = replicated_columns(table)
        t0 = time.perf_counter()
        for batch in batches:
            params = [
                (s.row_id, *(s.values.get(c) for c in cols), *(s.version_of(c) for c in cols))
                for _, s in batch
            ]
            raw.execute("BEGIN IMMEDIATE")
            raw.conn.executemany(upsert, params)
            raw.execute("COMMIT")
        raw_s = time.perf_counter() - t0
        raw_rows = raw.execute("SELECT count(*) FROM raw_lww").fetchone()[0]
    finally:
        raw.close()
    if hub_rows != ops or raw_rows != ops:
        raise RuntimeError(f"apply lost rows: hub {hub_rows}, raw {raw_rows}, pushed {ops}")
    ops_s = ops / apply_s
    raw_ops_s = ops / raw_s
    share = 100 * ops_s / raw_ops_s
    return {
        "ops": ops,
        "node_pending_read_ops_per_s": round(ops / read_s),
        "apply_s": round(apply_s, 3),
        "ops_per_s": round(ops_s),
        "raw_lww_s": round(raw_s, 3),
        "raw_lww_ops_per_s": round(raw_ops_s),
        "share_of_raw_pct": round(share, 1),
        "goal_met": ops_s >= GOAL_APPLY_OPS_PER_S and share >= GOAL_APPLY_SHARE_PCT,
    }


def bench_hub_apply(tmp: Path, rows: int) -> dict[str, Any]:
    tables = {table: _hub_apply(tmp, rows, table) for table in ("regions", "contacts")}
    slowest = min(tables, key=lambda t: tables[t]["ops_per_s"])
    return {
        "setup": "per table, rows new to the hub: accept_push of the node's own pending() "
        "batches into a fresh hub store (real file, WAL, one transaction per batch). Raw: "
        "executemany per-column LWW upsert (SET c = CASE WHEN excluded.c__v > c__v …) of the "
        "same states into a table with the same columns and indexes plus a version column per "
        "column, one transaction per batch. Headline: the slowest table; share: the lowest",
        "batch": PUSH_BATCH,
        "tables": tables,
        "slowest_table": slowest,
        "ops_per_s": tables[slowest]["ops_per_s"],
        "raw_lww_ops_per_s": tables[slowest]["raw_lww_ops_per_s"],
        "share_of_raw_pct": min(t["share_of_raw_pct"] for t in tables.values()),
        "goal_ops_per_s_min": GOAL_APPLY_OPS_PER_S,
        "goal_share_of_raw_pct_min": GOAL_APPLY_SHARE_PCT,
        "goal_met": all(t["goal_met"] for t in tables.values()),
    }


# -- 4. catch-up and 5. bootstrap (in-process hub) -----------------------------------------------


class _SnapshotSeen(logging.Handler):
    """Counts the agent's «installed a snapshot» log lines: which path a sync took."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.installed = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "installed a snapshot" in record.getMessage():
            self.installed += 1


@contextlib.contextmanager
def _watch_snapshots() -> Iterator[_SnapshotSeen]:
    handler = _SnapshotSeen()
    log = logging.getLogger("lsavto.node")
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


async def _paired(hub: Any, node_dir: Path) -> Any:
    """A fresh node paired with the in-process ``hub`` (pinned), as an idle ``NodeAgent``."""
    from lsnode.store.db import init_store
    from lsnode.sync.client import NodeAgent, pair

    init_store(node_dir).close()
    code = hub.trust.issue_code().code
    identity = await pair(
        node_dir, f"127.0.0.1:{hub.port}", code, node_dir.name, hub.certificate.fingerprint
    )
    return NodeAgent(node_dir, identity)


async def bench_catch_up(tmp: Path, backlog: int) -> dict[str, Any]:
    from hub.server import Hub
    from lsnode.store.db import init_store
    from lsnode.store.replica import apply_pull, changes_since
    from lsnode.sync.protocol import PULL_BATCH

    hub = Hub(tmp / "catchup-hub")
    await hub.start()
    agent = None
    try:
        _fill(hub.db, 10)  # so the node's cursor is past 0: it pulls rather than bootstraps
        agent = await _paired(hub, tmp / "catchup-node")
        await asyncio.wait_for(agent.run_once(), WAIT_S)
        cursor = agent.status.cursor
        _fill(hub.db, backlog, start=10)
        hub_seq = hub.store.hub_seq()
        with _watch_snapshots() as seen:
            t0 = time.perf_counter()
            await asyncio.wait_for(agent.run_once(), WAIT_S * 5)
            catch_up_s = time.perf_counter() - t0
        if agent.status.cursor != hub_seq or seen.installed:
            raise RuntimeError(f"catch-up ended at {agent.status.cursor}, hub at {hub_seq}")

        plain = init_store(tmp / "catchup-plain")
        try:
            t0 = time.perf_counter()
            since = cursor
            while since < hub_seq:
                states, since = changes_since(hub.db, since, PULL_BATCH)
                apply_pull(plain, states, since)
            store_only_s = time.perf_counter() - t0
        finally:
            plain.close()
    finally:
        if agent is not None:
            agent.db.close()
        await hub.stop()
    ops = hub_seq - cursor
    return {
        "setup": "in-process hub, one agent that had synced; then the hub took the backlog "
        "(half regions, half contacts). Timed: run_once from connect to caught up (pull path). "
        "Baseline: changes_since + apply_pull store to store, no socket, no codec",
        "backlog_ops": ops,
        "pull_rounds": -(-ops // PULL_BATCH),
        "catch_up_s": round(catch_up_s, 3),
        "ops_per_s": round(ops / catch_up_s),
        "store_only_s": round(store_only_s, 3),
        "goal_s_max": GOAL_CATCH_UP_S,
        "goal_met": catch_up_s <= GOAL_CATCH_UP_S,
    }


async def bench_bootstrap(tmp: Path, rows: int) -> dict[str, Any]:
    from hub.server import Hub
    from lsnode.store.db import DB_NAME
    from lsnode.store.replica import make_snapshot
    from lsnode.sync.protocol import SNAPSHOT_THRESHOLD

    # The product's threshold; lowered only when the bench runs with fewer rows than it.
    threshold = min(SNAPSHOT_THRESHOLD, max(1, rows // 2))
    hub = Hub(tmp / "boot-hub", snapshot_threshold=threshold)
    t0 = time.perf_counter()
    _fill(hub.db, rows)
    hub.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    build_s = time.perf_counter() - t0
    await hub.start()
    agent = None
    try:
        hub_seq = hub.store.hub_seq()
        agent = await _paired(hub, tmp / "boot-node")
        with _watch_snapshots() as seen:
            t0 = time.perf_counter()
            await asyncio.wait_for(agent.run_once(), WAIT_S * 5)
            boot_s = time.perf_counter() - t0
        got = sum(
            agent.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("regions", "contacts")
        )
        if got != rows or agent.status.cursor != hub_seq or not seen.installed:
            raise RuntimeError(
                f"bootstrap: {got} of {rows} rows, cursor {agent.status.cursor} of {hub_seq}, "
                f"snapshots installed: {seen.installed}"
            )
        size = (tmp / "boot-node" / DB_NAME).stat().st_size
        target = tmp / "boot-vacuum.db"
        t0 = time.perf_counter()
        make_snapshot(hub.data_dir / DB_NAME, target)
        vacuum_s = time.perf_counter() - t0
        target.unlink()
    finally:
        if agent is not None:
            agent.db.close()
        await hub.stop()
    return {
        "setup": "in-process hub holding the rows (half regions, half contacts, written by "
        "Writer.insert_many, not timed); a fresh paired node's run_once until caught up, "
        "which takes the snapshot path. Baseline: make_snapshot (VACUUM INTO) of the same "
        "store alone",
        "rows": rows,
        "path": "snapshot",
        "build_s": round(build_s, 1),
        "snapshot_mb": round(size / 2**20, 1),
        "bootstrap_s": round(boot_s, 3),
        "vacuum_into_s": round(vacuum_s, 3),
        "goal_s_max": GOAL_BOOTSTRAP_S,
        "goal_met": boot_s <= GOAL_BOOTSTRAP_S,
    }


# -- 1. propagation and 6. hub RSS (hub in its own process) -------------------------------------


class _HubProcess:
    """``lsavto hub --data D --listen 127.0.0.1:0`` as a child process."""

    def __init__(self, data: Path) -> None:
        self.data = data
        data.mkdir(parents=True, exist_ok=True)
        self._out = (data.parent / f"{data.name}.stdout").open("w+b")
        self._err = (data.parent / f"{data.name}.stderr").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lsnode.cli", "hub", "--data", str(data), "--listen", LISTEN],
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            cwd=data.parent,  # not the caller's cwd: a bench.py or lsnode/ there would shadow ours
        )
        self.info: dict[str, Any] = {}

    async def ready(self) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = Path(self._err.name).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the hub exited with {self.proc.returncode}: {err}")
            first, newline, _ = Path(self._out.name).read_bytes().partition(b"\n")
            if newline:
                self.info = json.loads(first)
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the hub did not start")

    @property
    def address(self) -> str:
        return str(self.info["listen"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        self._err.close()


async def _pair_nodes(tmp: Path, hub: _HubProcess, first: int, count: int) -> list[Path]:
    from lsnode.store.db import init_store
    from lsnode.sync.client import pair
    from lsnode.sync.pairing import HubTrust

    trust = HubTrust(hub.data)
    dirs = []
    for index in range(first, first + count):
        node_dir = tmp / f"node-{index:02d}"
        init_store(node_dir).close()
        code = trust.issue_code().code
        await pair(node_dir, hub.address, code, node_dir.name, hub.info["fingerprint"])
        dirs.append(node_dir)
    return dirs


class _Bystanders:
    """Paired agents in a child process (``python -m bench.sync bystanders DIR…``), niced.

    It prints ``ready`` once every agent caught up, then ``INDEX CURSOR MONOTONIC_S`` after
    each apply that changed something; SIGTERM stops it.
    """

    def __init__(self, dirs: Sequence[Path], log: Path) -> None:
        self.dirs = list(dirs)
        self.log = log
        self.seen: list[list[tuple[int, float]]] = [[] for _ in self.dirs]
        self.proc: asyncio.subprocess.Process | None = None
        self._ready = asyncio.Event()
        self._progress = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self.dirs:
            return
        with self.log.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.sync",
                "bystanders",
                *map(str, self.dirs),
                stdin=asyncio.subprocess.DEVNULL,
                cwd=self.log.parent,  # as for the hub: -m resolves against the cwd first
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
            )
        self._reader = asyncio.create_task(self._read())
        ready = asyncio.create_task(self._ready.wait())
        done = asyncio.create_task(self.proc.wait())
        await asyncio.wait({ready, done}, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        done.cancel()
        if not self._ready.is_set():
            raise RuntimeError(f"bystander agents did not come up: {self.log.read_text()[-2000:]}")

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for line in self.proc.stdout:
            parts = line.split()
            if parts == [b"ready"]:
                self._ready.set()
            elif len(parts) == 3:
                self.seen[int(parts[0])].append((int(parts[1]), float(parts[2])))
                self._progress.set()

    def reached(self, cursor: int) -> float | None:
        """When the last bystander reached ``cursor`` (None while one has not)."""
        latest = 0.0
        for seen in self.seen:
            first = next((t for c, t in seen if c >= cursor), None)
            if first is None:
                return None
            latest = max(latest, first)
        return latest

    async def wait_for(self, cursor: int) -> float | None:
        if not self.dirs:
            return None
        deadline = time.monotonic() + WAIT_S
        while (at := self.reached(cursor)) is None:
            self._progress.clear()
            await asyncio.wait_for(self._progress.wait(), max(0.01, deadline - time.monotonic()))
        return at

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


async def _bystanders(dirs: Sequence[str]) -> None:
    """The child process of ``_Bystanders``."""
    from lsnode.sync.client import NodeAgent
    from lsnode.sync.pairing import NodeIdentity

    with contextlib.suppress(OSError):
        os.nice(BYSTANDER_NICE)
    agents: list[NodeAgent] = []

    def hook(index: int) -> Callable[[int], None]:
        def applied(changed: int) -> None:
            print(f"{index} {agents[index].store.cursor()} {_now()!r}", flush=True)

        return applied

    for index, name in enumerate(dirs):
        identity = NodeIdentity.load(Path(name))
        if identity is None:
            raise SystemExit(f"{name} is not paired")
        agents.append(NodeAgent(Path(name), identity, on_applied=hook(index)))
    tasks = [asyncio.create_task(a.run_forever()) for a in agents]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await asyncio.wait_for(asyncio.gather(*(a.caught_up.wait() for a in agents)), WAIT_S)
    print("ready", flush=True)
    await stop.wait()
    await _stop_agents(agents, tasks)


async def _stop_agents(agents: Sequence[Any], tasks: Sequence[asyncio.Task[Any]]) -> None:
    for agent in agents:
        await agent.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for agent in agents:
        agent.db.close()


async def _probe(hub: _HubProcess) -> Any:
    """A websocket to the hub opened as the agent opens its own: TLS, pinned, no compression."""
    from websockets.asyncio.client import connect

    from lsnode.sync.keys import check_pin, client_ssl_context
    from lsnode.sync.messages import MAX_FRAME_BYTES

    ws = await connect(
        f"wss://{hub.address}",
        ssl=client_ssl_context(),
        max_size=MAX_FRAME_BYTES,
        compression=None,
    )
    check_pin(ws.transport.get_extra_info("ssl_object"), hub.info["fingerprint"])
    return ws


async def _ping(ws: Any, nonce: int) -> float:
    from lsnode.sync.messages import Ping, Pong, decode, encode

    t0 = _now()
    await ws.send(encode(Ping(nonce)))
    reply = decode(await asyncio.wait_for(ws.recv(), WAIT_S))
    took = _now() - t0
    if not isinstance(reply, Pong) or reply.nonce != nonce:
        raise RuntimeError(f"expected pong {nonce}, got {reply}")
    return took


async def bench_live(tmp: Path, nodes: int, writes: int, rss_nodes: int) -> dict[str, Any]:
    from lsnode.store.changes import Writer
    from lsnode.sync.client import NodeAgent
    from lsnode.sync.pairing import NodeIdentity

    nodes, writes = max(2, nodes), max(1, writes)
    hub = _HubProcess(tmp / "live-hub")
    crowd = _Bystanders([], tmp / "bystanders.log")
    extra = _Bystanders([], tmp / "extra.log")
    agents: list[NodeAgent] = []
    tasks: list[asyncio.Task[None]] = []
    probe = None
    try:
        await hub.ready()
        await asyncio.sleep(0.5)
        idle = _rss_kb(hub.proc.pid)
        dirs = await _pair_nodes(tmp, hub, 0, nodes)

        b_applied: list[float] = []
        b_event = asyncio.Event()

        def on_b(changed: int) -> None:
            b_applied.append(_now())
            b_event.set()

        for node_dir, hook in ((dirs[0], None), (dirs[1], on_b)):
            identity = NodeIdentity.load(node_dir)
            assert identity is not None
            agents.append(NodeAgent(node_dir, identity, on_applied=hook))
        tasks = [asyncio.create_task(agent.run_forever()) for agent in agents]
        await asyncio.wait_for(asyncio.gather(*(a.caught_up.wait() for a in agents)), WAIT_S)
        crowd = _Bystanders(dirs[2:], tmp / "bystanders.log")
        await crowd.start()
        probe = await _probe(hub)

        a, b = agents
        writer = Writer(a.db)
        to_b: list[float] = []
        to_all: list[float] = []
        rtt: list[float] = []
        for i in range(WARMUP_WRITES + writes):
            b_applied.clear()
            b_event.clear()
            t0 = _now()
            writer.insert("regions", {"name": f"live {i}"})
            a.notify_local_change()
            await asyncio.wait_for(b_event.wait(), WAIT_S)
            last = await crowd.wait_for(b.store.cursor())  # quiet again before the next write
            took = await _ping(probe, i)
            if i >= WARMUP_WRITES:
                to_b.append(b_applied[0] - t0)
                to_all.append(max(b_applied[0], last or 0.0) - t0)
                rtt.append(took)
        held = b.db.execute("SELECT count(*) FROM regions WHERE name LIKE 'live %'").fetchone()[0]
        if held != WARMUP_WRITES + writes:
            raise RuntimeError(f"node B holds {held} of {WARMUP_WRITES + writes} writes")

        more = await _pair_nodes(tmp, hub, nodes, max(0, rss_nodes - nodes))
        extra = _Bystanders(more, tmp / "extra.log")
        await extra.start()
        connected = nodes + len(more)
        await asyncio.sleep(1.0)
        rss = _rss_kb(hub.proc.pid)
    finally:
        if probe is not None:
            await probe.close()
        await _stop_agents(agents, tasks)
        await crowd.stop()
        await extra.stop()
        hub.stop()
    p95 = _pct(to_b, 0.95)
    rtt_p95 = _pct(rtt, 0.95)
    rss_mb = rss["VmRSS"] / 1024
    propagation = {
        "setup": "hub: its own process (`lsavto hub --listen 127.0.0.1:0`); A and B: agents in "
        f"the bench process; {nodes - 2} more agents connected from a niced child process. "
        "Timed from before A's Writer.insert to B's on_applied (after B's commit). ws_rtt: "
        "Ping/Pong through the same hub over a pinned TLS websocket from the bench process, "
        "one after each write",
        "nodes": nodes,
        "writes": len(to_b),
        "p50_ms": _ms(to_b, 0.5),
        "p95_ms": round(p95 * 1000, 3),
        "max_ms": _ms(to_b, 1.0),
        "all_nodes_p50_ms": _ms(to_all, 0.5),
        "all_nodes_p95_ms": _ms(to_all, 0.95),
        "ws_rtt_p50_ms": _ms(rtt, 0.5),
        "ws_rtt_p95_ms": round(rtt_p95 * 1000, 3),
        "p95_over_rtt_x": round(p95 / rtt_p95, 1),
        "goal_p95_ms_max": GOAL_PROPAGATION_P95_MS,
        "goal_met": p95 * 1000 <= GOAL_PROPAGATION_P95_MS,
    }
    hub_rss = {
        "setup": "VmRSS of the `lsavto hub` process (/proc/PID/status) with every agent "
        "connected and caught up, after the propagation writes; idle: the same process before "
        "any node connected",
        "nodes": connected,
        "rss_mb": round(rss_mb, 1),
        "peak_rss_mb": round(rss["VmHWM"] / 1024, 1),
        "idle_rss_mb": round(idle["VmRSS"] / 1024, 1),
        "per_node_kb": round((rss["VmRSS"] - idle["VmRSS"]) / connected),
        "goal_rss_mb_max": GOAL_HUB_RSS_MB,
        "goal_met": rss_mb <= GOAL_HUB_RSS_MB,
    }
    return {"propagation": propagation, "hub_rss": hub_rss}


# -- the bench ----------------------------------------------------------------------------------


def run(
    rows: int = 100_000,
    nodes: int = 20,
    writes: int = 100,
    backlog: int = 100_000,
    bootstrap_rows: int = 1_000_000,
    rss_nodes: int = 30,
) -> dict[str, Any]:
    """Every figure, as one JSON-able dict (``lsavto bench sync``)."""
    started = time.perf_counter()
    machine: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg_1min_start": _loadavg(),
    }
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lsavto-bench-sync-") as name:
        tmp = Path(name)
        out.update(asyncio.run(bench_live(tmp, nodes, writes, rss_nodes)))
        out["hub_apply"] = bench_hub_apply(tmp, rows)
        out["capture"] = bench_capture(tmp, rows)
        out["catch_up"] = asyncio.run(bench_catch_up(tmp, backlog))
        out["bootstrap"] = asyncio.run(bench_bootstrap(tmp, bootstrap_rows))
    machine["loadavg_1min_end"] = _loadavg()
    result: dict[str, Any] = {"bench": "sync", "machine": machine}
    result.update((s, out[s]) for s in SECTIONS)
    result["missed"] = [s for s in SECTIONS if not out[s]["goal_met"]]
    result["goal_met"] = not result["missed"]
    result["bench_s"] = round(time.perf_counter() - started, 1)
    return result


if __name__ == "__main__":
    if sys.argv[1:2] != ["bystanders"]:
        raise SystemExit("usage: python -m bench.sync bystanders DATA_DIR…  (run `lsavto bench`)")
    asyncio.run(_bystanders(sys.argv[2:]))
