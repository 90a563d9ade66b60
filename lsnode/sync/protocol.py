"""The sync protocol as two sans-I/O sessions (CONVENTIONS.md §1).

``NodeSession`` and ``HubSession`` never touch a socket, a loop or a database driver: they take
decoded messages and return the messages to send and the events that happened. Their storage
is a port (``NodeStore`` / ``HubStore``, implemented over SQLite in ``lsnode.sync.stores``), so
the whole exchange runs in tests over an in-memory pipe and, in the product, under websockets.

A connection, from the node's side::

    Hello ─► Welcome ◄─        (epoch changed? reset the cursor; hub's ack is the truth)
    Push(batch) ─► Ack ◄─      one batch in flight, until nothing is pending
    Pull(since) ─► Changes ◄─  until not ``more``; then the hub sends live Changes unasked

A retried push is harmless (the hub skips ``local_seq`` it acknowledged), a pulled batch and the
cursor commit together, and merges are idempotent — so a connection may drop anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from lsnode.errors import InputError
from lsnode.sync.hlc import MAX_DRIFT_MS, version_ms
from lsnode.sync.merge import RowState
from lsnode.sync.messages import (
    MAX_REASON,
    Ack,
    Changes,
    Checkpoint,
    CheckpointResult,
    Error,
    Hello,
    Intent,
    IntentResult,
    Message,
    Pair,
    Paired,
    Ping,
    Pong,
    Pull,
    Push,
    SnapshotRequest,
    SnapshotStart,
    Welcome,
)

PUSH_BATCH = 1000
PULL_BATCH = 2000
#: A node starting from nothing takes a snapshot rather than pulling more changes than this.
SNAPSHOT_THRESHOLD = 20_000


# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    hub_id: str
    epoch: str
    epoch_changed: bool


@dataclass(frozen=True, slots=True)
class Applied:
    """Remote changes were merged into the local store."""

    changed: int
    cursor: int


@dataclass(frozen=True, slots=True)
class Pushed:
    acked_seq: int


@dataclass(frozen=True, slots=True)
class CaughtUp:
    pending: int
    cursor: int


@dataclass(frozen=True, slots=True)
class Refused:
    """The other side refused us (or we it): stop this connection and say why."""

    code: str
    reason: str
    retry: bool


@dataclass(frozen=True, slots=True)
class Accepted:
    """Hub: a node's push changed the master store (live changes are due to others)."""

    hub_seq: int


@dataclass(frozen=True, slots=True)
class Authenticated:
    node_id: str
    site_id: str


@dataclass(frozen=True, slots=True)
class IntentDecided:
    result: IntentResult


@dataclass(frozen=True, slots=True)
class SnapshotIncoming:
    """Node: binary frames with the hub's store follow; install it, then ``snapshot_installed``."""

    start: SnapshotStart


@dataclass(frozen=True, slots=True)
class ChecksumDue:
    """Node: compute ``checksums`` at this cursor (off the loop) and call ``checkpoint``;
    hub: compute yours and call ``checkpoint_verdict``."""

    cursor: int
    sums: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Repaired:
    """Node: the hub found our copy different in these tables; a snapshot replaces it."""

    tables: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SnapshotWanted:
    """Hub: make a snapshot, send ``SnapshotStart`` and the bytes, then ``snapshot_sent``."""


Event = (
    Connected
    | Applied
    | Pushed
    | CaughtUp
    | Refused
    | Accepted
    | Authenticated
    | IntentDecided
    | SnapshotIncoming
    | SnapshotWanted
    | ChecksumDue
    | Repaired
)
Output = tuple[list[Message], list[Event]]
Feed = Callable[[int, int], tuple[list[RowState], int]]


class ProtocolState(Enum):
    NEW = "new"
    HELLO_SENT = "hello_sent"
    READY = "ready"
    CLOSED = "closed"


# -- ports ----------------------------------------------------------------------------------


class NodeStore(Protocol):
    def site_id(self) -> str: ...
    def epoch(self) -> str | None: ...
    def cursor(self) -> int: ...
    def pushed_seq(self) -> int: ...
    def pending(self, after_seq: int, limit: int) -> tuple[list[tuple[int, RowState]], int]: ...
    def mark_pushed(self, seq: int) -> None: ...
    def apply_pull(self, states: Sequence[RowState], upto: int) -> int: ...
    def new_epoch(self, epoch: str, hub_id: str) -> None:
        """The hub is a different one, or restored: forget the cursor (pull everything again)."""
        ...

    def pending_count(self) -> int: ...


class HubStore(Protocol):
    hub_id: str
    schema: int

    def epoch(self) -> str: ...
    def hub_seq(self) -> int: ...
    def acked_seq(self, site: str) -> int: ...
    def accept_push(self, site: str, batch: Sequence[tuple[int, RowState]]) -> int: ...
    def changes_since(self, since: int, limit: int) -> tuple[list[RowState], int]: ...
    def purge_seq(self) -> int:
        """Tombstones up to this seq may be purged: a node whose cursor is older re-bootstraps."""
        ...

    def intent(self, intent: Intent, node_id: str) -> IntentResult: ...


class Trust(Protocol):
    def verify(self, node_id: str, token: str) -> bool: ...
    def still_valid(self, node_id: str, token: str) -> bool:
        """``verify`` without side effects, asked before every write: revocation is at once."""
        ...

    def claim_site(self, node_id: str, site_id: str) -> bool:
        """Bind ``site_id`` to ``node_id``; False while another live node holds it."""
        ...

    def redeem(self, code: str, name: str) -> tuple[str, str]:
        """A pairing code for ``(node_id, token)``; raises ``InputError`` for a bad code."""
        ...


@dataclass(frozen=True, slots=True)
class Credentials:
    node_id: str
    token: str


# -- the node's side ------------------------------------------------------------------------


class NodeSession:
    def __init__(self, store: NodeStore, credentials: Credentials, schema: int) -> None:
        self.store = store
        self.credentials = credentials
        self.schema = schema
        self.state = ProtocolState.NEW
        self.hub_id: str | None = None
        self._push_in_flight = False
        self._pull_in_flight = False
        self._snapshot_due = False
        self._checked = False  # one checkpoint per connection, once caught up

    def start(self) -> list[Message]:
        self.state = ProtocolState.HELLO_SENT
        return [
            Hello(
                node_id=self.credentials.node_id,
                token=self.credentials.token,
                site_id=self.store.site_id(),
                schema=self.schema,
                epoch=self.store.epoch(),
                cursor=self.store.cursor(),
            )
        ]

    def local_change(self) -> list[Message]:
        """Local writes happened: push them now if the line is free."""
        if self.state is not ProtocolState.READY or self._push_in_flight:
            return []
        return self._next_push()

    def receive(self, msg: Message) -> Output:
        if self.state is ProtocolState.CLOSED:
            return [], []
        if isinstance(msg, Error):
            self.state = ProtocolState.CLOSED
            return [], [Refused(msg.code, msg.reason, retry=not msg.fatal)]
        if isinstance(msg, Ping):
            return [Pong(msg.nonce)], []
        if isinstance(msg, Pong):
            return [], []
        if self.state is ProtocolState.HELLO_SENT:
            if not isinstance(msg, Welcome):
                return self._violation(f"expected welcome, got {msg.type}")
            return self._welcome(msg)
        if isinstance(msg, Ack):
            self._push_in_flight = False
            self.store.mark_pushed(msg.acked_seq)
            out = self._next_push()
            if not out and self._snapshot_due:
                out = [SnapshotRequest()]
            elif not out and not self._pull_in_flight:
                # What the hub made of our push (hub_seq, numbers) comes back as changes: fetch
                # it before reporting caught up, or `lsavto sync` exits with rows still unnumbered.
                out = self._pull()
            events: list[Event] = [Pushed(msg.acked_seq)]
            return out, events + self._caught_up()
        if isinstance(msg, SnapshotStart):
            self._snapshot_due = False
            return [], [SnapshotIncoming(msg)]
        if isinstance(msg, Changes):
            return self._changes(msg)
        if isinstance(msg, IntentResult):
            return [], [IntentDecided(msg)]
        if isinstance(msg, CheckpointResult):
            if msg.status != "mismatch":
                return [], []
            # Repair: push what is ours, then take the hub's copy (our unpushed writes are kept).
            self._snapshot_due = True
            self._pull_in_flight = True
            out = self._next_push() if not self._push_in_flight else []
            return out or ([] if self._push_in_flight else [SnapshotRequest()]), [
                Repaired(msg.tables)
            ]
        return self._violation(f"unexpected {msg.type}")

    def _welcome(self, msg: Welcome) -> Output:
        if msg.schema != self.schema:
            self.state = ProtocolState.CLOSED
            newer = "newer" if msg.schema > self.schema else "older"
            reason = (
                f"the hub runs schema {msg.schema}, this node {self.schema} ({newer} hub): "
                "local changes are kept; update the program to sync again"
            )
            return [], [Refused("schema", reason, retry=False)]
        changed = self.store.epoch() != msg.epoch
        if changed or msg.rebootstrap:
            self.store.new_epoch(msg.epoch, msg.hub_id)
        # The hub's ack is the truth: a hub restored from backup may know less than we thought.
        self.store.mark_pushed(msg.acked_seq)
        self.hub_id = msg.hub_id
        self.state = ProtocolState.READY
        events: list[Event] = [Connected(msg.hub_id, msg.epoch, changed)]
        if msg.rebootstrap:
            # Push what only we have first, so the snapshot already holds it.
            self._snapshot_due = True
            self._pull_in_flight = True
            return self._next_push() or [SnapshotRequest()], events
        return self._next_push() + self._pull(), events

    def snapshot_installed(self) -> list[Message]:
        """The snapshot is in place (the store now starts at its ``hub_seq``): catch up."""
        return self._next_push() + self._pull()

    def _next_push(self) -> list[Message]:
        batch, _ = self.store.pending(self.store.pushed_seq(), PUSH_BATCH)
        if not batch:
            return []
        self._push_in_flight = True
        return [Push(tuple(batch))]

    def _pull(self) -> list[Message]:
        self._pull_in_flight = True
        return [Pull(self.store.cursor(), PULL_BATCH)]

    def _changes(self, msg: Changes) -> Output:
        cursor = self.store.cursor()
        if msg.since > cursor:  # a gap (we missed a batch): ask from where we are
            if self._pull_in_flight:
                return [], []
            return self._pull(), []
        self._pull_in_flight = False
        changed = self.store.apply_pull(msg.states, max(cursor, msg.upto))
        events: list[Event] = [Applied(changed, self.store.cursor())]
        if msg.more:
            return self._pull(), events
        return [], events + self._caught_up()

    def _caught_up(self) -> list[Event]:
        if self._push_in_flight or self._pull_in_flight:
            return []
        pending, cursor = self.store.pending_count(), self.store.cursor()
        events: list[Event] = [CaughtUp(pending, cursor)]
        if pending == 0 and not self._checked:
            self._checked = True
            events.append(ChecksumDue(cursor))
        return events

    def checkpoint(self, cursor: int, sums: dict[str, str]) -> list[Message]:
        """Our checksums at ``cursor`` are ready: ask the hub whether it holds the same."""
        if self.state is not ProtocolState.READY:
            return []
        return [Checkpoint(cursor, sums)]

    def _violation(self, reason: str) -> Output:
        self.state = ProtocolState.CLOSED
        return [Error("protocol", reason)], [Refused("protocol", reason, retry=True)]


# -- the hub's side -------------------------------------------------------------------------


class HubSession:
    def __init__(
        self,
        store: HubStore,
        trust: Trust,
        clock_ms: Callable[[], int] | None = None,
        max_drift_ms: int = MAX_DRIFT_MS,
        snapshot_threshold: int = SNAPSHOT_THRESHOLD,
    ) -> None:
        self.store = store
        self.trust = trust
        self.snapshot_threshold = snapshot_threshold
        self.clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self.max_drift_ms = max_drift_ms
        self.state = ProtocolState.NEW
        self.node_id: str | None = None
        self.site_id: str | None = None
        self._token = ""
        self.sent_upto = 0  # changes up to here were sent to this node
        self._pulling = False

    def receive(self, msg: Message) -> Output:
        if self.state is ProtocolState.CLOSED:
            return [], []
        if isinstance(msg, Ping):
            return [Pong(msg.nonce)], []
        if isinstance(msg, Pong):
            return [], []
        if isinstance(msg, Error):
            self.state = ProtocolState.CLOSED
            return [], [Refused(msg.code, msg.reason, retry=not msg.fatal)]
        if self.state is ProtocolState.NEW:
            if isinstance(msg, Pair):
                return self._pair(msg)
            if isinstance(msg, Hello):
                return self._hello(msg)
            return self._refuse("auth", f"expected hello, got {msg.type}")
        assert self.node_id is not None
        writes = isinstance(msg, (Push, Intent))
        if writes and not self.trust.still_valid(self.node_id, self._token):
            return self._refuse("auth", "this node was revoked")
        if isinstance(msg, Push):
            return self._push(msg)
        if isinstance(msg, Pull):
            return self._pull(msg)
        if isinstance(msg, SnapshotRequest):
            self._pulling = True  # no live changes until the snapshot is out
            return [], [SnapshotWanted()]
        if isinstance(msg, Checkpoint):
            if msg.cursor != self.store.hub_seq():
                return [CheckpointResult("moved")], []
            return [], [ChecksumDue(msg.cursor, msg.sums)]
        if isinstance(msg, Intent):
            assert self.node_id is not None
            before = self.store.hub_seq()
            result = self.store.intent(msg, self.node_id)
            after = self.store.hub_seq()
            return [result], [Accepted(after)] if after > before else []
        return self._refuse("protocol", f"unexpected {msg.type}")

    def live(self, feed: Feed | None = None) -> list[Message]:
        """New changes exist on the hub: send them if this node is caught up and not pulling.

        ``feed`` stands in for ``store.changes_since``: the hub shares one read among the nodes
        at the same cursor."""
        if self.state is not ProtocolState.READY or self._pulling:
            return []
        states, upto = (feed or self.store.changes_since)(self.sent_upto, PULL_BATCH)
        if not states:
            return []
        since, self.sent_upto = self.sent_upto, upto
        more = upto < self.store.hub_seq()
        if more:
            self._pulling = True
        return [Changes(since, upto, tuple(states), more)]

    def checkpoint_verdict(
        self, cursor: int, theirs: dict[str, str], ours: dict[str, str]
    ) -> list[Message]:
        """Compare a node's checksums with ours at ``cursor`` (computed off the loop)."""
        if cursor != self.store.hub_seq():
            return [CheckpointResult("moved")]
        bad = tuple(sorted(t for t in ours.keys() | theirs.keys() if ours.get(t) != theirs.get(t)))
        return [CheckpointResult("mismatch", bad)] if bad else [CheckpointResult("ok")]

    def snapshot_sent(self, hub_seq: int) -> None:
        """The snapshot up to ``hub_seq`` went out: live changes continue from there."""
        self.sent_upto = hub_seq
        self._pulling = False

    def _pair(self, msg: Pair) -> Output:
        try:
            node_id, token = self.trust.redeem(msg.code, msg.name)
        except InputError as exc:
            return self._refuse("pairing", str(exc))
        self.state = ProtocolState.CLOSED
        return [Paired(self.store.hub_id, node_id, token)], []

    def _hello(self, msg: Hello) -> Output:
        if not self.trust.verify(msg.node_id, msg.token):
            return self._refuse("auth", "unknown or revoked node: pair it again")
        if msg.schema != self.store.schema:
            reason = f"schema mismatch: hub {self.store.schema}, node {msg.schema}"
            return self._refuse("schema", reason, fatal=True)
        if not self.trust.claim_site(msg.node_id, msg.site_id):
            return self._refuse("auth", "this site id belongs to another node: pair this one again")
        self.node_id, self.site_id, self._token = msg.node_id, msg.site_id, msg.token
        epoch = self.store.epoch()
        cursor = msg.cursor if msg.epoch == epoch else 0
        stale = 0 < cursor < self.store.purge_seq()  # tombstones it missed are gone
        fresh = cursor == 0 and self.store.hub_seq() >= self.snapshot_threshold
        rebootstrap = stale or fresh
        self.sent_upto = 0 if rebootstrap else cursor
        self._pulling = rebootstrap  # no live changes from 0: the snapshot is due, not changes
        self.state = ProtocolState.READY
        welcome = Welcome(
            hub_id=self.store.hub_id,
            epoch=epoch,
            schema=self.store.schema,
            hub_seq=self.store.hub_seq(),
            acked_seq=self.store.acked_seq(msg.site_id),
            time_ms=self.clock_ms(),
            rebootstrap=rebootstrap,
        )
        return [welcome], [Authenticated(msg.node_id, msg.site_id)]

    def _push(self, msg: Push) -> Output:
        assert self.site_id is not None
        horizon = self.clock_ms() + self.max_drift_ms
        for _, state in msg.batch:
            if version_ms(state.max_version) > horizon:
                return self._refuse(
                    "clock",
                    f"a change from {state.table} is stamped far in the future: "
                    "set this device's clock and reconnect",
                    fatal=False,
                )
        before = self.store.hub_seq()
        try:
            acked = self.store.accept_push(self.site_id, msg.batch)
        except InputError as exc:  # unknown table/column, wrong type, a constraint: nothing kept
            return self._refuse("bad_state", str(exc))
        after = self.store.hub_seq()
        events: list[Event] = [Accepted(after)] if after > before else []
        return [Ack(acked)], events

    def _pull(self, msg: Pull) -> Output:
        states, upto = self.store.changes_since(msg.since, msg.limit)
        more = upto < self.store.hub_seq() and len(states) == msg.limit
        self.sent_upto = max(self.sent_upto, upto)
        self._pulling = more
        return [Changes(msg.since, upto, tuple(states), more)], []

    def _refuse(self, code: str, reason: str, fatal: bool = True) -> Output:
        self.state = ProtocolState.CLOSED
        reason = reason[:MAX_REASON]  # it may quote the peer's input; decode() allows no more
        return [Error(code, reason, fatal)], [Refused(code, reason, retry=not fatal)]
