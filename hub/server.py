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
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from lsnode.store.changes import meta_set
from lsnode.store.db import init_store
from lsnode.store.migrations import SCHEMA_VERSION
from lsnode.sync.keys import HubCertificate, ensure_hub_certificate, server_ssl_context
from lsnode.sync.messages import MAX_FRAME_BYTES, Error, ProtocolError, decode, encode
from lsnode.sync.pairing import HubTrust
from lsnode.sync.protocol import Accepted, Authenticated, HubSession, ProtocolState
from lsnode.sync.stores import SqliteHubStore, TrustAdapter, new_epoch

log = logging.getLogger("lsavto.hub")

REVOCATION_CHECK_S = 1.0


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
    ) -> None:
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

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
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
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        self._tasks.append(asyncio.create_task(self._watch_revocations()))
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
        if self._advertiser is not None:
            await self._advertiser.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._backup is not None:
            self._backup.stop()
        self.db.close()

    async def _handle(self, ws: ServerConnection) -> None:
        peer = Peer(ws, HubSession(self.store, TrustAdapter(self.trust)))
        self.peers.add(peer)
        try:
            async for frame in ws:
                try:
                    msg = decode(frame)
                except ProtocolError as exc:
                    log.warning("bad frame from %s: %s", ws.remote_address, exc)
                    await ws.send(encode(Error(exc.code, str(exc))))
                    await ws.close(1008, exc.code)
                    return
                out, events = peer.session.receive(msg)
                for reply in out:
                    await ws.send(encode(reply))
                for event in events:
                    if isinstance(event, Authenticated):
                        peer.node_id = event.node_id
                    elif isinstance(event, Accepted):
                        await self.fan_out()
                if peer.session.state is ProtocolState.CLOSED:
                    reason = next((m.code for m in out if isinstance(m, Error)), "bye")
                    await ws.close(1008 if reason != "bye" else 1000, reason)
                    return
        except ConnectionClosed:
            pass
        finally:
            self.peers.discard(peer)

    async def fan_out(self) -> None:
        """Send new changes to every connected node that is caught up (live propagation)."""
        for peer in list(self.peers):
            for msg in peer.session.live():
                with contextlib.suppress(ConnectionClosed):
                    await peer.ws.send(encode(msg))

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
