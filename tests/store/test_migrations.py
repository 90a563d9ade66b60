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


def test_a_store_of_the_first_version_upgrades_in_place_keeping_its_rows(tmp_path: Path) -> None:
    """A node that ran version 1 opens with this version: rows kept, new columns defaulted."""
    from lsnode.store.db import connect, open_store

    db = connect(tmp_path / "lsavto.db")
    migrations.apply(db, stop_before="m002_traffic_workflow")
    db.execute("INSERT INTO _meta(key, value) VALUES ('schema_version', '1')")
    db.execute(
        "INSERT INTO traffic (id, contact_type, department, contact_at, status, created_at, "
        "updated_at) VALUES ('t1', 'visit', 'salon', '2026-01-01T10:00:00Z', 'new', 'x', 'x')"
    )
    assert "origin" not in db["traffic"].columns_dict
    db.close()

    upgraded = open_store(tmp_path)
    assert upgraded.execute("SELECT origin, queued_at FROM traffic").fetchall() == [("desk", None)]
    fresh = {t: memory_store()[t].columns_dict for t in ("traffic", "employees", "traffic_events")}
    assert {t: upgraded[t].columns_dict for t in fresh} == fresh


if __name__ == "__main__":
    print(dump(memory_store()), end="")
