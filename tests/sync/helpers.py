"""Two protocol sessions joined by an in-memory pipe (h11's ConnectionPair, for sync)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from lsnode.store.changes import Writer
from lsnode.store.db import init_store
from lsnode.store.migrations import SCHEMA_VERSION
from lsnode.sync.messages import Message, decode, encode
from lsnode.sync.pairing import HubTrust
from lsnode.sync.protocol import (
    Accepted,
    Credentials,
    Event,
    HubSession,
    NodeSession,
    ProtocolState,
)
from lsnode.sync.stores import SqliteHubStore, SqliteNodeStore, TrustAdapter


def wire(msgs: list[Message]) -> list[Message]:
    """Every message crosses the real codec, as it would cross a socket."""
    return [decode(encode(m)) for m in msgs]


@dataclass
class Link:
    node: NodeSession
    hub: HubSession
    node_events: list[Event] = field(default_factory=list)
    hub_events: list[Event] = field(default_factory=list)
    to_hub: deque[Message] = field(default_factory=deque)
    to_node: deque[Message] = field(default_factory=deque)

    @property
    def open(self) -> bool:
        return ProtocolState.CLOSED not in (self.node.state, self.hub.state)


class Net:
    """A hub and its nodes; ``run()`` delivers every frame until the network is quiet."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hub_db = init_store(root / "hub")
        self.trust = HubTrust(root / "hub")
        self.hub = SqliteHubStore(self.hub_db)
        self.links: dict[str, Link] = {}
        self.dbs: dict[str, Database] = {}
        self.creds: dict[str, Credentials] = {}

    def add_node(self, name: str) -> Writer:
        db = init_store(self.root / name)
        cred = self.trust.redeem(self.trust.issue_code().code, name)
        self.dbs[name] = db
        self.creds[name] = Credentials(cred.node_id, cred.token)
        return Writer(db)

    def connect(self, name: str, schema: int = SCHEMA_VERSION) -> Link:
        node = NodeSession(SqliteNodeStore(self.dbs[name]), self.creds[name], schema)
        link = Link(node, HubSession(self.hub, TrustAdapter(self.trust)))
        link.to_hub.extend(wire(node.start()))
        self.links[name] = link
        return link

    def disconnect(self, name: str) -> None:
        self.links.pop(name, None)

    def changed(self, name: str) -> None:
        link = self.links.get(name)
        if link and link.open:
            link.to_hub.extend(wire(link.node.local_change()))

    def run(self, max_steps: int = 10_000) -> None:
        for _ in range(max_steps):
            moved = False
            for link in list(self.links.values()):
                if link.to_hub:
                    out, events = link.hub.receive(link.to_hub.popleft())
                    link.to_node.extend(wire(out))
                    link.hub_events += events
                    if any(isinstance(e, Accepted) for e in events):
                        for other in self.links.values():
                            other.to_node.extend(wire(other.hub.live()))
                    moved = True
                if link.to_node:
                    out, events = link.node.receive(link.to_node.popleft())
                    link.to_hub.extend(wire(out))
                    link.node_events += events
                    moved = True
            if not moved:
                return
        raise AssertionError("the network never went quiet")
