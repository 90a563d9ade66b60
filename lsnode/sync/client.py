"""The node's sync agent: finds the hub, keeps one pinned TLS websocket to it, and drives a
``NodeSession`` over it; on any failure it waits (capped exponential backoff, full jitter) and
tries again. Local writes by this process are announced with ``notify_local_change()``; writes
by other processes (a CLI command) are noticed through SQLite's ``data_version``.

The agent runs on an asyncio loop it is given (the app's runtime loop, or ``asyncio.run`` for
the headless ``lsavto node``); it never starts loops or threads of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from lsnode.errors import LsnodeError
from lsnode.faults import crash_point
from lsnode.store.db import db_path, open_store
from lsnode.store.migrations import SCHEMA_VERSION
from lsnode.store.replica import checksums_snapshot, install_snapshot
from lsnode.sync.keys import TrustError, check_pin, client_ssl_context, peer_fingerprint
from lsnode.sync.messages import (
    MAX_FRAME_BYTES,
    Intent,
    IntentResult,
    Pair,
    Paired,
    ProtocolError,
    Push,
    SnapshotStart,
    decode,
    encode,
)
from lsnode.sync.pairing import NodeIdentity
from lsnode.sync.protocol import (
    Applied,
    CaughtUp,
    ChecksumDue,
    Connected,
    Credentials,
    IntentDecided,
    NodeSession,
    ProtocolState,
    Pushed,
    Refused,
    Repaired,
    SnapshotIncoming,
)
from lsnode.sync.stores import SqliteNodeStore

log = logging.getLogger("lsavto.node")

BACKOFF_FIRST_S = 0.5
BACKOFF_CAP_S = 30.0
CHANGE_POLL_S = 0.05
OPEN_TIMEOUT_S = 10.0


class SyncError(LsnodeError):
    """Sync could not proceed (hub unreachable, refused, wrong pin) — local work is kept."""


@dataclass(frozen=True, slots=True)
class SyncStatus:
    online: bool = False
    offline_since: float | None = None  # wall-clock seconds
    pending: int = 0
    cursor: int = 0
    hub_address: str = ""
    last_error: str = ""
    stopped: bool = False  # refused for good (schema, revoked): retrying will not help

    def describe(self) -> str:
        if self.stopped:
            return f"sync stopped: {self.last_error}"
        if self.online:
            return f"online ({self.hub_address}), {self.pending} changes waiting"
        since = (
            time.strftime("%H:%M", time.localtime(self.offline_since))
            if self.offline_since
            else "start"
        )
        return f"offline since {since}, {self.pending} changes waiting"


def backoff_delays(
    first: float = BACKOFF_FIRST_S, cap: float = BACKOFF_CAP_S, rng: random.Random | None = None
) -> Callable[[int], float]:
    """Full jitter: attempt n waits uniformly in [0, min(cap, first * 2**n)]."""
    r = rng or random.Random()
    return lambda attempt: r.uniform(0, min(cap, first * 2**attempt))


async def _open(address: str, fingerprint: str | None) -> ClientConnection:
    ws = await asyncio.wait_for(
        connect(
            f"wss://{address}",
            ssl=client_ssl_context(),
            max_size=MAX_FRAME_BYTES,
            compression=None,
            open_timeout=OPEN_TIMEOUT_S,
        ),
        OPEN_TIMEOUT_S,
    )
    if fingerprint is not None:
        try:
            check_pin(ws.transport.get_extra_info("ssl_object"), fingerprint)
        except TrustError:
            await ws.close(1008, "pin")
            raise
    return ws


async def pair(
    data_dir: Path, address: str, code: str, name: str, fingerprint: str | None
) -> NodeIdentity:
    """Enrol this node with the hub: prove the code, pin the hub's certificate, keep the key."""
    ws = await _open(address, fingerprint)
    try:
        seen = peer_fingerprint(ws.transport.get_extra_info("ssl_object"))
        await ws.send(encode(Pair(code=code, name=name, schema=SCHEMA_VERSION)))
        reply = decode(await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT_S))
    finally:
        await ws.close()
    if not isinstance(reply, Paired):
        reason = getattr(reply, "reason", reply.type)
        raise SyncError(f"the hub refused pairing: {reason}")
    identity = NodeIdentity(
        hub_address=address,
        hub_fingerprint=seen,
        hub_id=reply.hub_id,
        node_id=reply.node_id,
        token=reply.token,
    )
    identity.save(data_dir)
    return identity


class NodeAgent:
    def __init__(
        self,
        data_dir: Path,
        identity: NodeIdentity,
        *,
        mdns_interfaces: list[str] | None = None,
        on_status: Callable[[SyncStatus], None] | None = None,
        on_applied: Callable[[int], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.identity = identity
        self.mdns_interfaces = mdns_interfaces
        self.on_status = on_status
        self.db = open_store(self.data_dir)
        self.store = SqliteNodeStore(self.db, on_applied=on_applied)
        self.status = SyncStatus(
            offline_since=time.time(),
            hub_address=identity.hub_address,
            pending=self.store.pending_count(),
        )
        self._delay = backoff_delays(rng=rng)
        self._wake = asyncio.Event()
        self._session: NodeSession | None = None
        self._ws: ClientConnection | None = None
        self._stop = False
        self.caught_up = asyncio.Event()
        self.attempts = 0
        self.repairs = 0
        self._intents: dict[str, asyncio.Future[IntentResult]] = {}
        self._installing = False

    async def intent(
        self,
        table: str,
        row_id: str,
        column: str,
        value: object,
        expect: object = None,
        timeout: float = 10.0,
    ) -> IntentResult:
        """A contested action («Взять себе», assigning from the queue): the hub sets ``column``
        to ``value`` only if it still holds ``expect``; the result names the winner.

        Needs the hub: offline, a ``SyncError`` says so and nothing is changed."""
        ws, session = self._ws, self._session
        if ws is None or session is None or session.state is not ProtocolState.READY:
            raise SyncError("the hub is not reachable: this action needs it, try again")
        intent_id = secrets.token_hex(8)
        waiter: asyncio.Future[IntentResult] = asyncio.get_running_loop().create_future()
        self._intents[intent_id] = waiter
        try:
            await ws.send(encode(Intent(intent_id, table, row_id, column, value, expect)))
            return await asyncio.wait_for(waiter, timeout)
        finally:
            self._intents.pop(intent_id, None)

    def notify_local_change(self) -> None:
        self._wake.set()

    def _set(self, **changes: object) -> None:
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]
        if self.on_status:
            self.on_status(self.status)

    async def run_forever(self) -> None:
        attempt = 0
        while not self._stop:
            try:
                await self.run_once(stay=True)
                attempt = 0
            except (
                TimeoutError,
                OSError,
                ConnectionClosed,
                InvalidHandshake,
                SyncError,
                TrustError,
                ProtocolError,
            ) as exc:
                self._set(
                    online=False,
                    last_error=str(exc) or type(exc).__name__,
                    offline_since=self.status.offline_since or time.time(),
                )
                log.info("sync: %s", self.status.describe())
            if self.status.stopped or self._stop:
                return
            delay = self._delay(attempt)
            attempt += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._sleep_forever(), delay)

    async def _sleep_forever(self) -> None:
        await asyncio.Event().wait()

    async def stop(self) -> None:
        self._stop = True
        if self._ws is not None:
            await self._ws.close()

    async def _hub_address(self) -> str:
        if not self.mdns_interfaces:
            return self.identity.hub_address
        from lsnode.sync.discovery import find_hub

        found = await find_hub(self.mdns_interfaces, self.identity.hub_id, timeout=3.0)
        if found is None:
            return self.identity.hub_address
        return f"{found.host}:{found.port}"

    async def run_once(self, stay: bool = False) -> SyncStatus:
        """One connection: sync until caught up; with ``stay``, keep it live until it drops."""
        self.attempts += 1
        address = await self._hub_address()
        ws = await _open(address, self.identity.hub_fingerprint)
        self._ws = ws
        session = NodeSession(
            self.store, Credentials(self.identity.node_id, self.identity.token), SCHEMA_VERSION
        )
        self._session = session
        self.caught_up.clear()
        watcher = asyncio.create_task(self._watch_local_changes(ws, session))
        try:
            for msg in session.start():
                await ws.send(encode(msg))
            async for frame in ws:
                if isinstance(frame, bytes):
                    raise SyncError("the hub sent binary data out of turn")
                out, events = session.receive(decode(frame))
                for msg in out:
                    await ws.send(encode(msg))
                    if isinstance(msg, Push):
                        crash_point("node.push.after_send")
                for event in events:
                    if isinstance(event, Connected):
                        self._set(
                            online=True, offline_since=None, hub_address=address, last_error=""
                        )
                    elif isinstance(event, Refused):
                        self._set(
                            online=False,
                            last_error=event.reason,
                            stopped=not event.retry,
                            offline_since=time.time(),
                        )
                        raise SyncError(f"the hub refused: {event.reason}")
                    elif isinstance(event, CaughtUp):
                        self._set(pending=event.pending, cursor=event.cursor)
                        if event.pending == 0:
                            self.caught_up.set()
                            if not stay:
                                return self.status
                    elif isinstance(event, Pushed):  # applying remote changes leaves ours as is
                        self._set(pending=self.store.pending_count())
                    elif isinstance(event, Applied):
                        self._set(cursor=event.cursor)
                    elif isinstance(event, ChecksumDue):
                        cursor, waiting, sums = await asyncio.to_thread(
                            checksums_snapshot, db_path(self.data_dir), "cursor"
                        )
                        if waiting == 0 and cursor == event.cursor:
                            for msg in session.checkpoint(cursor, sums):
                                await ws.send(encode(msg))
                    elif isinstance(event, IntentDecided):
                        waiter = self._intents.get(event.result.intent_id)
                        if waiter is not None and not waiter.done():
                            waiter.set_result(event.result)
                    elif isinstance(event, Repaired):
                        log.warning(
                            "this copy differed from the hub in %s: repairing", event.tables
                        )
                        self.repairs += 1
                    elif isinstance(event, SnapshotIncoming):
                        await self._install_snapshot(ws, event.start)
                        session.store = self.store
                        for msg in session.snapshot_installed():
                            await ws.send(encode(msg))
                if session.state is ProtocolState.CLOSED:
                    break
            raise SyncError("the hub closed the connection")
        finally:
            watcher.cancel()
            self._session = None
            self._ws = None
            await ws.close()
            self._set(online=False, offline_since=self.status.offline_since or time.time())

    async def _install_snapshot(self, ws: ClientConnection, start: SnapshotStart) -> None:
        """Receive the hub's store, check it, and swap it in (keeping our unpushed changes)."""
        path = self.data_dir / "snapshot.incoming"
        digest = hashlib.sha256()
        received = 0
        with path.open("wb") as f:
            while received < start.size:
                chunk = await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT_S * 3)
                if not isinstance(chunk, bytes) or received + len(chunk) > start.size:
                    raise SyncError("the snapshot stream broke off or ran over its size")
                f.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                crash_point("node.bootstrap.mid")
        if digest.hexdigest() != start.sha256:
            path.unlink(missing_ok=True)
            raise SyncError("the snapshot arrived damaged (checksum mismatch)")
        site = self.store.site_id()
        self._installing = True
        self.db.close()
        try:
            await asyncio.to_thread(
                install_snapshot,
                db_path(self.data_dir),
                path,
                hub_seq=start.hub_seq,
                epoch=start.epoch,
                hub_id=self.identity.hub_id,
                site=site,
            )
        finally:
            self.db = open_store(self.data_dir)
            self.store = SqliteNodeStore(self.db, on_applied=self.store.on_applied)
            self._installing = False
        log.info("installed a snapshot of %d bytes at hub_seq %d", start.size, start.hub_seq)

    async def _watch_local_changes(self, ws: ClientConnection, session: NodeSession) -> None:
        """Push what this process or another one wrote locally, as soon as it is committed."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), CHANGE_POLL_S)
            if self._installing:  # the store is being swapped for a snapshot
                continue
            woken = self._wake.is_set()
            self._wake.clear()
            now = self.db.execute("PRAGMA data_version").fetchone()[0]
            if woken or now != version:
                version = now
                for msg in session.local_change():
                    await ws.send(encode(msg))
