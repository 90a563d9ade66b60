"""A small demo dealership for the queue, card and dialog tests (not a test module itself).

``demo_copy(base, dst)`` gives each test its own copy of one demo data dir built per module
(``seed_demo`` with 40 clients: the brochure's 23 employees, PIN 1234, clients with cars and open
documents, an empty waiting queue). ``Node`` is one workstation over a copy: the app's real
``Services`` on a settable clock, with the hub decided by ``HubArbiter`` over another copy — the
hub's own compare-and-set, as ``tests/crm/test_traffic.py`` uses it.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from lsnode.clock import SettableClock
from lsnode.crm.staff import Session
from lsnode.crm.traffic import Action, Claim, TrafficDraft
from lsnode.store.db import open_store
from lsnode.sync.messages import Intent
from lsnode.sync.stores import SqliteHubStore
from lsnode.ui.context import HubUnavailable
from lsnode.ui.services import Services

TODAY = date(2026, 12, 3)
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
PIN = "1234"


def build_demo(path: Path) -> Path:
    from lsnode.cli import seed_demo

    seed_demo(path, 40, 7, TODAY)
    return path


def demo_copy(base: Path, dst: Path) -> Path:
    shutil.copytree(base, dst)
    return dst


class FakeContext:
    """What ``Services`` needs of ``NodeContext``: the store and the change notice."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.changes = 0

    def notify_local_change(self) -> None:
        self.changes += 1

    def claim(self, *_: Any, **__: Any) -> Any:
        raise HubUnavailable("not_paired")


class HubArbiter:
    """The hub's own intent decision, called as a node's request would reach it."""

    def __init__(self, hub: SqliteHubStore) -> None:
        self.hub = hub

    def claim(self, table: str, row_id: str, column: str, value: Any, expect: Any) -> Claim:
        got = self.hub.intent(Intent("i", table, row_id, column, value, expect), "node")
        return Claim(got.ok, got.current, got.reason)


class OfflineArbiter:
    def claim(self, *_: Any) -> Claim:
        raise HubUnavailable("offline")


class Node:
    """One workstation: its own replica, the app's ``Services``, a clock tests move."""

    def __init__(self, data_dir: Path, arbiter: Any = None, at: datetime = T0) -> None:
        self.db = open_store(data_dir)
        self.clock = SettableClock(at)
        self.ctx = FakeContext(self.db)
        self.services = Services(self.ctx, clock=self.clock)
        self.services.traffic.arbiter = arbiter
        self.reader = self.services.reader

    def employee(self, short_name: str) -> dict[str, Any]:
        return next(e for e in self.reader.employees() if e["short_name"] == short_name)

    def sign_in(self, short_name: str) -> Session:
        return self.services.sign_in(self.employee(short_name)["id"], PIN)

    def client_with_cars_and_documents(self) -> str:
        row = self.db.execute(
            "SELECT c.id FROM counterparties c WHERE EXISTS (SELECT 1 FROM documents d "
            "WHERE d.counterparty_id = c.id AND d.is_open = 1) AND EXISTS (SELECT 1 FROM cars "
            "WHERE cars.owner_id = c.id) ORDER BY c.number LIMIT 1"
        ).fetchone()
        return str(row[0])

    def purpose(self, department: str) -> str:
        return str(
            next(
                p["id"]
                for p in self.reader.purposes()
                if p["department"] == department and p["direction"] == "in"
                and not p["require_car"] and not p["require_region"]
            )
        )  # fmt: skip

    def queue_visit(
        self,
        *,
        department: str = "salon",
        minutes_ago: float = 0,
        client: str | None = None,
        phone: str = "",
        responsible: str | None = None,
        note: str = "",
        by: str = "Денщикова А.А.",
    ) -> str:
        """Put a visitor into the waiting queue ``minutes_ago`` before the clock's now."""
        from lsnode.crm.staff import session_of

        now = self.clock()
        self.clock.set(now - timedelta(minutes=minutes_ago))
        try:
            draft = TrafficDraft(
                contact_type="visit",
                department=department,
                purpose_id=self.purpose(department),
                counterparty_id=client,
                phone=phone if (phone or client) else "+7 916 555-12-34",
                responsible_id=self.employee(responsible)["id"] if responsible else None,
                note=note,
            )
            registrar = session_of(self.employee(by))
            reg = self.services.traffic.register(draft, registrar, Action.QUEUE)
        finally:
            self.clock.set(now)
        return reg.traffic_id

    def close(self) -> None:
        self.db.close()


def hub_over(path: Path) -> tuple[HubArbiter, Any]:
    """A hub store over a copy of the data (its own file, as the real hub has): rows must be
    there before the copy is made, as if they had synced."""
    db = open_store(path)
    return HubArbiter(SqliteHubStore(db)), db


def own_hub(node: Node) -> None:
    """Let the node's own store decide contests (one node: what it registers, the hub has)."""
    node.services.traffic.arbiter = HubArbiter(SqliteHubStore(node.db))
