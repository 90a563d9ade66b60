"""Applied migrations are never edited: all of them on an empty database give this schema.

When a new migration is added, regenerate the expected file with
``python -m tests.store.test_migrations > tests/store/expected_schema.sql`` and review the diff:
only additions should appear.
"""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from lsnode.store.db import memory_store
from lsnode.store.migrations import migrations

EXPECTED = Path(__file__).with_name("expected_schema.sql")


def dump(db: Database) -> str:
    rows = db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations' ORDER BY type, name"
    )
    return "\n".join(f"-- {t} {n}\n{sql};" for t, n, sql in rows) + "\n"


def test_migrations_give_the_expected_schema() -> None:
    assert dump(memory_store()) == EXPECTED.read_text(encoding="utf-8")


def test_migrating_twice_changes_nothing() -> None:
    db = memory_store()
    before = dump(db)
    migrations.apply(db)
    assert dump(db) == before
    assert migrations.pending(db) == []


if __name__ == "__main__":
    print(dump(memory_store()), end="")
