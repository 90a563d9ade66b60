"""The hub process: websockets + TLS in front of the master store, zeroconf, litestream.

Each connection gets a ``HubSession`` (``lsnode.sync.protocol``); this module only moves frames,
closes connections that break the protocol (close code 1008 with the error's code as reason)
or whose node was revoked, and fans accepted changes out to every connected node at once.
All database work runs on the event loop's thread, one frame at a time, so the master store
sees one writer and the order of arrival is the order of decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from lsnode.faults import crash_point
from lsnode.store.changes import meta_set
from lsnode.store.db import DB_NAME, init_store
from lsnode.store.migrations import SCHEMA_VERSION
from lsnode.store.replica import checksums_snapshot, make_snapshot, purge_tombstones
from lsnode.sync.keys import HubCertificate, ensure_hub_certificate, server_ssl_context
from lsnode.sync.merge import RowState
from lsnode.sync.messages import (
    MAX_FRAME_BYTES,
    MAX_REASON,
    Ack,
    Changes,
    CheckpointResult,
    Error,
    ProtocolError,
    SnapshotStart,
    decode,
    encode,
)
from lsnode.sync.pairing import HubTrust
from lsnode.sync.protocol import (
    SNAPSHOT_THRESHOLD,
    Accepted,
    Authenticated,
    ChecksumDue,
    HubSession,
    ProtocolState,
    SnapshotWanted,
)
from lsnode.sync.stores import SqliteHubStore, TrustAdapter, new_epoch

log = logging.getLogger("lsavto.hub")

REVOCATION_CHECK_S = 1.0
TOMBSTONE_DAYS = 90.0
LOCAL_WRITE_POLL_S = 0.05
AUTO_IGNORE_EVERY_S = 600.0
SNAPSHOT_CHUNK = 1 << 20
SNAPSHOT_BURST = 3
SNAPSHOT_WINDOW_S = 60.0


def _digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(SNAPSHOT_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


@dataclass(eq=False)
class Peer:
    ws: ServerConnection
    session: HubSession
    node_id: str | None = None
    connected_at: float = field(default_factory=time.monotonic)


class Hub:
    """One hub: ``await hub.start()``, then ``await hub.stop()``."""

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        replica: Path | None = None,
        mdns_interfaces: list[str] | None = None,
        name: str = "LSAvto hub",
        snapshot_threshold: int = SNAPSHOT_THRESHOLD,
        tombstone_days: float = TOMBSTONE_DAYS,
        notify_clock: Any = None,
    ) -> None:
        self.notify_clock = notify_clock  # lsnode.notify: tests pass a clock they move by hand
        self.snapshot_threshold = snapshot_threshold
        self.tombstone_days = tombstone_days
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.replica = replica
        self.mdns_interfaces = mdns_interfaces
        self.name = name
        self.peers: set[Peer] = set()
        self.db = init_store(self.data_dir)
        self.store = SqliteHubStore(self.db)
        self.trust = HubTrust(self.data_dir)
        self.certificate: HubCertificate = ensure_hub_certificate(self.data_dir, self.store.hub_id)
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._advertiser: Any = None
        self._backup: Any = None
        self._sums: tuple[int, dict[str, str]] | None = None
        self._snapshots: dict[str, list[float]] = {}

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        # A hub killed while sending a snapshot leaves the copy behind: as big as the store.
        for stale in (self.data_dir / "snapshots").glob("*.db"):
            stale.unlink(missing_ok=True)
        if self.replica is not None:
            from hub.backup import LitestreamSupervisor, configure_connection_for_litestream

            configure_connection_for_litestream(self.db.conn)
            self._backup = LitestreamSupervisor(
                self.data_dir / "lsavto.db", self.replica, self.data_dir / "litestream"
            )
            self._backup.start()
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            ssl=server_ssl_context(self.certificate),
            max_size=MAX_FRAME_BYTES,
            compression=None,
            process_request=self._process_request,  # voice: call recordings (hub/recordings.py)
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        self._tasks.append(asyncio.create_task(self._watch_revocations()))
        self._tasks.append(asyncio.create_task(self._purge_daily()))
        self._tasks.append(asyncio.create_task(self._watch_local_writes()))
        # -- notifications (lsnode.notify): scheduler + sender; `await hub.notifier.tick()` ----
        from lsnode.notify.hub import HubNotifier

        self.notifier = HubNotifier(self, clock=self.notify_clock)
        self._tasks.append(asyncio.create_task(self.notifier.run()))
        # -- end notifications -------------------------------------------------------------------
        # -- voice (lsnode.voice): the SIP line, when `lsavto voice configure` set one up -------
        self.voice: Any = None
        if self.db.execute("SELECT 1 FROM sip_lines WHERE enabled = 1 LIMIT 1").fetchone():
            from hub.voice import HubVoice

            self.voice = HubVoice(self)
            await self.voice.start()
        # -- end voice ---------------------------------------------------------------------------
        self._tasks.append(asyncio.create_task(self._auto_ignore_regularly()))
        if self.mdns_interfaces:
            from lsnode.sync.discovery import HubAdvertiser, HubAnnouncement

            self._advertiser = HubAdvertiser(
                HubAnnouncement(
                    hub_id=self.store.hub_id,
                    epoch=int(self.store.epoch()),
                    fingerprint=self.certificate.fingerprint,
                    host=self.mdns_interfaces[0],
                    port=self.port,
                    schema_version=SCHEMA_VERSION,
                    name=self.name,
                ),
                self.mdns_interfaces,
            )
            await self._advertiser.start()
        log.info(
            "hub %s listening on %s (epoch %s)", self.store.hub_id, self.address, self.store.epoch()
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if getattr(self, "voice", None) is not None:
            await self.voice.stop()  # voice: hangs up, de-registers, publishes the line's state
        if self._advertiser is not None:
            await self._advertiser.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._backup is not None:
            self._backup.stop()
        self.db.close()

    # -- voice: paired nodes fetch call recordings over HTTPS on this port ----------------------
    async def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        from hub.recordings import process_request

        return await process_request(self, connection, request)

    # -- end voice ---------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        session = HubSession(
            self.store, TrustAdapter(self.trust), snapshot_threshold=self.snapshot_threshold
        )
        peer = Peer(ws, session)
        self.peers.add(peer)
        try:
            async for frame in ws:
                try:
                    msg = decode(frame)
                except ProtocolError as exc:
                    reason = str(exc)[:MAX_REASON]  # it quotes the frame: never echo 8 MB
                    log.warning("bad frame from %s: %s", ws.remote_address, reason)
                    await ws.send(encode(Error(exc.code, reason)))
                    await ws.close(1008, exc.code)
                    return
                out, events = peer.session.receive(msg)
                if any(isinstance(m, Ack) for m in out):
                    crash_point("hub.push.after_commit")
                for reply in out:
                    await ws.send(encode(reply))
                for event in events:
                    if isinstance(event, Authenticated):
                        peer.node_id = event.node_id
                    elif isinstance(event, Accepted):
                        await self.fan_out()
                    elif isinstance(event, SnapshotWanted):
                        await self._send_snapshot(peer)
                    elif isinstance(event, ChecksumDue) and event.sums is not None:
                        await self._verify_checkpoint(peer, event.cursor, event.sums)
                if peer.session.state is ProtocolState.CLOSED:
                    reason = next((m.code for m in out if isinstance(m, Error)), "bye")
                    await ws.close(1008 if reason != "bye" else 1000, reason)
                    return
        except ConnectionClosed:
            pass
        finally:
            self.peers.discard(peer)

    async def _send_snapshot(self, peer: Peer) -> None:
        """Stream a ``VACUUM INTO`` copy of the store; made in a thread, the loop keeps serving.

        A copy of the whole store is the most expensive thing a node can ask for: one node gets
        at most ``SNAPSHOT_BURST`` per ``SNAPSHOT_WINDOW_S`` (room for a retry after a broken
        download); beyond that it is told to come back later."""
        now = time.monotonic()
        recent = [
            t for t in self._snapshots.get(peer.node_id or "", []) if now - t < SNAPSHOT_WINDOW_S
        ]
        if len(recent) >= SNAPSHOT_BURST:
            await peer.ws.send(
                encode(Error("busy", "snapshots were sent moments ago: try later", fatal=False))
            )
            await peer.ws.close(1008, "busy")
            return
        self._snapshots[peer.node_id or ""] = [*recent, now]
        folder = self.data_dir / "snapshots"
        folder.mkdir(exist_ok=True)
        path = folder / f"{secrets.token_hex(8)}.db"
        try:
            hub_seq, epoch = await asyncio.to_thread(make_snapshot, self.data_dir / DB_NAME, path)
            size, digest = await asyncio.to_thread(_digest, path)
            await peer.ws.send(encode(SnapshotStart(hub_seq, epoch, size, digest)))
            with path.open("rb") as f:
                while chunk := f.read(SNAPSHOT_CHUNK):
                    await peer.ws.send(chunk)
                    crash_point("hub.snapshot.mid")
            peer.session.snapshot_sent(hub_seq)
            log.info("snapshot of %d bytes at hub_seq %d sent to %s", size, hub_seq, peer.node_id)
        finally:
            path.unlink(missing_ok=True)
        for msg in peer.session.live():
            await peer.ws.send(encode(msg))

    async def _verify_checkpoint(self, peer: Peer, cursor: int, theirs: dict[str, str]) -> None:
        """Compare a node's checksums with ours at the same hub_seq (cached per hub_seq)."""
        if self._sums is None or self._sums[0] != cursor:
            seq, _, sums = await asyncio.to_thread(
                checksums_snapshot, self.data_dir / DB_NAME, "hub_seq"
            )
            self._sums = (seq, sums)
        seq, ours = self._sums
        verdict = peer.session.checkpoint_verdict(cursor, theirs, ours if seq == cursor else {})
        for msg in verdict:
            if isinstance(msg, CheckpointResult) and msg.status == "mismatch":
                log.warning("node %s differs in %s: repairing", peer.node_id, msg.tables)
            await peer.ws.send(encode(msg))

    async def fan_out(self) -> None:
        """Send new changes to every connected node that is caught up (live propagation).

        Nodes at the same cursor get the same frame, read and encoded once, not once per node.
        """
        reads: dict[tuple[int, int], tuple[list[RowState], int]] = {}
        frames: dict[tuple[int, int, bool], str] = {}

        def feed(since: int, limit: int) -> tuple[list[RowState], int]:
            if (since, limit) not in reads:
                reads[(since, limit)] = self.store.changes_since(since, limit)
            return reads[(since, limit)]

        for peer in list(self.peers):
            for msg in peer.session.live(feed):
                key = (msg.since, msg.upto, msg.more) if isinstance(msg, Changes) else None
                frame = frames.get(key) if key else None
                if frame is None:
                    frame = encode(msg)
                    if key:
                        frames[key] = frame
                with contextlib.suppress(ConnectionClosed):
                    await peer.ws.send(frame)

    async def _watch_local_writes(self) -> None:
        """Writes to the master store by other processes (a CLI on the hub PC) go out live too."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        while True:
            await asyncio.sleep(LOCAL_WRITE_POLL_S)
            now = self.db.execute("PRAGMA data_version").fetchone()[0]
            if now != version:
                version = now
                await self.fan_out()

    def auto_ignore(self, now: Any = None) -> int:
        """Ignore contacts left unprocessed past their purpose's day limit (SPEC §1); the hub
        does it so that it happens once, whichever nodes are on. ``now``: a clock, for tests."""
        from lsnode.clock import system_clock
        from lsnode.crm.traffic import Traffic
        from lsnode.store.repos import SqliteClients
        from lsnode.store.traffic import SqliteTraffic

        reader = SqliteTraffic(self.db)
        traffic = Traffic(self.store.writer, reader, reader, SqliteClients(self.db),
                          now or system_clock)  # fmt: skip
        done = traffic.auto_ignore()
        if done:
            log.info("auto-ignored %d contacts past their purpose's day limit", done)
        return done

    async def _auto_ignore_regularly(self) -> None:
        while True:
            if self.auto_ignore():
                await self.fan_out()
            await asyncio.sleep(AUTO_IGNORE_EVERY_S)

    def purge(self) -> int:
        """Forget deletions older than ``tombstone_days`` (nodes that slept longer re-bootstrap)."""
        horizon = time.time_ns() // 1_000_000 - int(self.tombstone_days * 86_400_000)
        purged = purge_tombstones(self.db, horizon)
        if purged:
            log.info("purged %d tombstones older than %s days", purged, self.tombstone_days)
        return purged

    async def _purge_daily(self) -> None:
        while True:
            self.purge()
            await asyncio.sleep(86_400)

    async def _watch_revocations(self) -> None:
        while True:
            await asyncio.sleep(REVOCATION_CHECK_S)
            revoked = {n["node_id"] for n in self.trust.nodes() if n["revoked_at"]}
            for peer in list(self.peers):
                if peer.node_id in revoked:
                    with contextlib.suppress(ConnectionClosed):
                        await peer.ws.send(encode(Error("auth", "this node was revoked")))
                        await peer.ws.close(1008, "revoked")


def start_new_epoch(data_dir: Path) -> str:
    """After a restore: the store is a different history now; nodes must re-push and re-pull."""
    db = init_store(data_dir)
    try:
        epoch = new_epoch()
        meta_set(db, "epoch", epoch)
        return epoch
    finally:
        db.close()
