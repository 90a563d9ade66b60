"""The protocol's storage ports over a real SQLite store (``lsnode.store.replica``)."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlite_utils import Database

from lsnode.errors import InputError, NotFound
from lsnode.store import replica
from lsnode.store.changes import Writer, immediate, meta_get, meta_int, meta_set, site_id
from lsnode.store.migrations import SCHEMA_VERSION
from lsnode.store.schema import BY_NAME
from lsnode.sync.merge import RowState
from lsnode.sync.messages import Intent, IntentResult
from lsnode.sync.pairing import HubTrust


def new_epoch() -> str:
    """A hub epoch: random, decimal (it is announced as an integer over zeroconf)."""
    return str(secrets.randbits(62))


class SqliteNodeStore:
    """``NodeStore``: a node's replica."""

    def __init__(self, db: Database, on_applied: Callable[[int], None] | None = None) -> None:
        self.db = db
        self.on_applied = on_applied

    def site_id(self) -> str:
        with immediate(self.db):
            return site_id(self.db)

    def epoch(self) -> str | None:
        return meta_get(self.db, "hub_epoch")

    def cursor(self) -> int:
        return meta_int(self.db, "cursor")

    def pushed_seq(self) -> int:
        return meta_int(self.db, "pushed_seq")

    def pending(self, after_seq: int, limit: int) -> tuple[list[tuple[int, RowState]], int]:
        return replica.pending(self.db, after_seq, limit)

    def mark_pushed(self, seq: int) -> None:
        replica.mark_pushed(self.db, seq)

    def apply_pull(self, states: Sequence[RowState], upto: int) -> int:
        changed = len(replica.apply_pull(self.db, states, upto))
        if changed and self.on_applied:
            self.on_applied(changed)
        return changed

    def new_epoch(self, epoch: str, hub_id: str) -> None:
        with immediate(self.db):
            meta_set(self.db, "hub_epoch", epoch)
            meta_set(self.db, "hub_id", hub_id)
            meta_set(self.db, "cursor", 0)

    def pending_count(self) -> int:
        return replica.pending_count(self.db)


def _without_number(state: RowState) -> RowState:
    if "number" not in state.values and "number" not in state.overrides:
        return state
    values = {k: v for k, v in state.values.items() if k != "number"}
    overrides = {k: v for k, v in state.overrides.items() if k != "number"}
    return replace(state, values=values, overrides=overrides)


class SqliteHubStore:
    """``HubStore``: the hub's master store."""

    schema = SCHEMA_VERSION

    def __init__(self, db: Database) -> None:
        replica.promote_to_hub(db)
        self.db = db
        with immediate(db):
            if meta_get(db, "hub_id") is None:
                meta_set(db, "hub_id", site_id(db))
            if meta_get(db, "epoch") is None:
                meta_set(db, "epoch", new_epoch())
        self.hub_id = meta_get(db, "hub_id") or ""
        self.writer = Writer(db)

    def epoch(self) -> str:
        return meta_get(self.db, "epoch") or ""

    def hub_seq(self) -> int:
        return meta_int(self.db, "hub_seq")

    def acked_seq(self, site: str) -> int:
        return replica.acked_seq(self.db, site)

    def accept_push(self, site: str, batch: Sequence[tuple[int, RowState]]) -> int:
        horizon = meta_int(self.db, "purge_horizon_ms")
        # Human numbers are the hub's alone: what a node says of them carries no weight.
        own = [(seq, _without_number(state)) for seq, state in batch]
        try:
            return replica.accept_push(self.db, site, own, purge_horizon_ms=horizon)
        except sqlite3.IntegrityError as exc:  # rolled back; say so as bad input, not a crash
            raise InputError(f"a pushed row breaks the schema: {exc}") from None

    def changes_since(self, since: int, limit: int) -> tuple[list[RowState], int]:
        return replica.changes_since(self.db, since, limit)

    def purge_seq(self) -> int:
        return meta_int(self.db, "purge_seq")

    def intent(self, intent: Intent, node_id: str) -> IntentResult:
        """Compare-and-set, decided here in arrival order; the loser learns the winner."""
        spec = BY_NAME.get(intent.table)
        if spec is None or intent.column not in spec.columns:
            return IntentResult(intent.intent_id, False, None, "unknown table or column")
        decl = spec.columns[intent.column]
        want = int if decl.startswith("INTEGER") else str  # as replica.validate_state has it
        if intent.value is not None and type(intent.value) is not want:
            reason = f"{intent.column}: {type(intent.value).__name__} where {decl} is due"
            return IntentResult(intent.intent_id, False, None, reason)
        with immediate(self.db):
            row = self.db.execute(
                f"SELECT {intent.column} FROM {intent.table} WHERE id = ?", [intent.row_id]
            ).fetchone()
            if row is None:
                return IntentResult(intent.intent_id, False, None, "no such row")
            current = row[0]
            if current == intent.value:
                return IntentResult(intent.intent_id, True, current, "already so")
            if current != intent.expect:
                return IntentResult(intent.intent_id, False, current, "taken")
            try:
                self.writer.update(intent.table, intent.row_id, {intent.column: intent.value})
            except (InputError, NotFound, sqlite3.Error) as exc:
                return IntentResult(intent.intent_id, False, current, str(exc))
        return IntentResult(intent.intent_id, True, intent.value, "")


class TrustAdapter:
    """``Trust`` over the hub's pairing state (``lsnode.sync.pairing.HubTrust``)."""

    def __init__(self, trust: HubTrust) -> None:
        self.trust = trust

    def verify(self, node_id: str, token: str) -> bool:
        ok = self.trust.verify(node_id, token)
        if ok:
            self.trust.mark_seen(node_id)
        return ok

    def still_valid(self, node_id: str, token: str) -> bool:
        return self.trust.verify(node_id, token)

    def claim_site(self, node_id: str, site_id: str) -> bool:
        return self.trust.claim_site(node_id, site_id)

    def redeem(self, code: str, name: str) -> tuple[str, str]:
        credential = self.trust.redeem(code, name)
        return credential.node_id, credential.token
