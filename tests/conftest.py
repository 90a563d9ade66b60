from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database

from lsnode.store.changes import Writer
from lsnode.store.db import init_store
from lsnode.store.repos import SqliteClients

TODAY = date(2026, 12, 3)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A real, migrated SQLite file in a temporary data dir."""
    database = init_store(tmp_path / "data")
    yield database
    database.close()


@pytest.fixture
def writer(db: Database) -> Writer:
    return Writer(db)


@pytest.fixture
def repo(db: Database) -> SqliteClients:
    return SqliteClients(db)
