"""A node's data for view-model tests: a small demo dealership built once per module and copied
for each test, and ``Services`` over the copy with a fixed clock and a stand-in for the hub.

Test modules set ``DEMO_CLIENTS`` / ``DEMO_SEED`` if they need another base, and import the
fixtures: ``from tests.ui.node_world import demo, services, store``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from lsnode.cli import seed_demo
from lsnode.clock import SettableClock
from lsnode.store.db import open_store
from lsnode.sync.messages import IntentResult
from lsnode.ui.services import Services

DEMO_DAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 13, 30, tzinfo=UTC)


class StandInContext:
    """What ``Services`` needs of ``NodeContext``: the store, change notices and the hub's say
    on contested actions (``winner``: someone already won; ``offline``: no hub to ask)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.changes = 0
        self.winner: str | None = None
        self.offline = False

    def notify_local_change(self) -> None:
        self.changes += 1

    def claim(self, table: str, row_id: str, column: str, value: Any, expect: Any) -> Any:
        if self.offline:
            from lsnode.ui.context import HubUnavailable

            raise HubUnavailable("offline")
        if self.winner is not None and self.winner != value:
            return IntentResult("t", False, self.winner, "taken")
        return IntentResult("t", True, value, "")


@pytest.fixture(scope="module")
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "node"
    clients = getattr(request.module, "DEMO_CLIENTS", 30)
    seed = getattr(request.module, "DEMO_SEED", 5)
    seed_demo(path, clients=clients, seed=seed, today=DEMO_DAY)
    return path


@pytest.fixture
def store(demo: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "node"
    shutil.copytree(demo, path)
    db = open_store(path)
    yield db
    db.close()


@pytest.fixture
def services(store: Database) -> Services:
    return Services(StandInContext(store), clock=SettableClock(NOW))
