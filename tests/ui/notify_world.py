"""A demo dealership with notifications for the notification and appointment screens' tests.

Not a test module itself. ``build`` makes one demo data dir per test module (``seed_demo`` with
60 clients, «today» = 03.12.2026) with the brochure's channels, templates and rules
(``install_demo``); ``World`` is one workstation over a copy: the app's real ``Services`` on a
settable clock, and a hub-side ``Notifier`` over the same file with a recording transport, so a
test can play «the hub sends it» by calling ``world.hub_tick()``.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lsnode.clock import SettableClock
from lsnode.notify.demo import install_demo
from lsnode.notify.outbox import Outgoing, Result
from lsnode.notify.service import Notifier, TickReport
from lsnode.store.changes import Writer
from lsnode.store.db import open_store
from lsnode.store.notify import NotifyStore
from lsnode.ui.context import HubUnavailable
from lsnode.ui.services import Services

TODAY = date(2026, 12, 3)
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


def build(path: Path) -> Path:
    from lsnode.cli import seed_demo

    seed_demo(path, 60, 7, TODAY)
    db = open_store(path)
    try:
        install_demo(NotifyStore(db, SettableClock(T0)), files_dir=path / "notify-files")
    finally:
        db.close()
    return path


class FakeContext:
    """What ``Services`` needs of ``NodeContext``: the store and the change notice."""

    def __init__(self, db: Any, data_dir: Path) -> None:
        self.db = db
        self.data_dir = data_dir
        self.changes = 0

    def notify_local_change(self) -> None:
        self.changes += 1

    def claim(self, *_: Any, **__: Any) -> Any:
        raise HubUnavailable("not_paired")


class Recorder:
    """The hub's transport in tests: every message «goes», and is kept to look at."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, out: Outgoing) -> Result:
        self.sent.append(out)
        return Result(True, "")


class World:
    def __init__(self, base: Path, dst: Path, now: datetime = T0) -> None:
        shutil.copytree(base, dst)
        self.data = dst
        self.clock = SettableClock(now)
        self.db = open_store(dst)
        self.ctx = FakeContext(self.db, dst)
        self.services = Services(self.ctx, clock=self.clock)
        self.store = NotifyStore(self.db, writer=self.services.writer)
        self.transport = Recorder()
        self.hub = NotifyStore(self.db, self.clock)
        self.notifier = Notifier(self.hub, self.clock, self.transport)

    def hub_tick(self) -> TickReport:
        """What the hub's notifier does on its next poll: generate, then send what is due."""
        return self.notifier.tick()

    def person(self, number: int, *, sms: str = "yes") -> dict[str, Any]:
        """A person with a phone (the ``number``-th such), with the SMS consent given."""
        rows = self.db.execute(
            "SELECT c.id, c.full_name FROM counterparties c WHERE c.kind = 'person' AND EXISTS "
            "(SELECT 1 FROM contacts k WHERE k.counterparty_id = c.id AND k.kind = 'phone' "
            "AND k.valid = 1) AND EXISTS (SELECT 1 FROM cars WHERE owner_id = c.id) "
            "ORDER BY c.number LIMIT 1 OFFSET ?",
            [number],
        ).fetchone()
        Writer(self.db).update("counterparties", rows[0], {"consent_sms": sms})
        return {"id": rows[0], "full_name": rows[1]}

    def adviser(self) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT id, short_name FROM employees WHERE role = 'adviser' ORDER BY short_name "
            "LIMIT 1"
        ).fetchone()
        return {"id": row[0], "short_name": row[1]}

    def close(self) -> None:
        self.db.close()
