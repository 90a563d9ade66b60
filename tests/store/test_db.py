from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lsnode.errors import DataDirError
from lsnode.store.db import connect, db_path, init_store, open_store, rebuild_search_index
from lsnode.store.migrations import SCHEMA_VERSION, migrations


def test_a_new_data_dir_is_wal_with_busy_timeout(tmp_path: Path) -> None:
    db = init_store(tmp_path / "d")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    db.close()
    again = open_store(tmp_path / "d")
    assert again.execute("SELECT value FROM _meta WHERE key='schema_version'").fetchone()[0] == str(
        SCHEMA_VERSION
    )
    again.close()


def test_init_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    db = init_store(tmp_path / "d")
    db.execute("INSERT INTO regions(id, name, created_at, updated_at) VALUES ('r', 'x', 't', 't')")
    db.close()
    db = init_store(tmp_path / "d")
    assert db.execute("SELECT count(*) FROM regions").fetchone()[0] == 1
    db.close()


def test_missing_data_dir_is_a_clear_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    with pytest.raises(DataDirError, match="does not exist: create it with `lsavto init"):
        open_store(missing)
    assert not missing.exists()


def test_a_folder_without_a_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataDirError, match="not an LSAvto data dir"):
        open_store(tmp_path)
    assert not db_path(tmp_path).exists()


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    sqlite3.connect(db_path(tmp_path)).execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(DataDirError, match="not an LSAvto database"):
        open_store(tmp_path)


def test_a_garbage_file_is_refused(tmp_path: Path) -> None:
    db_path(tmp_path).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DataDirError):
        open_store(tmp_path)


def test_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = init_store(tmp_path / "d")
    db.execute("UPDATE _meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 5)])
    db.close()
    with pytest.raises(DataDirError, match="newer LSAvto"):
        open_store(tmp_path / "d")
    with pytest.raises(DataDirError, match="newer LSAvto"):
        init_store(tmp_path / "d")
    raw = sqlite3.connect(db_path(tmp_path / "d"))
    assert raw.execute("SELECT value FROM _meta").fetchone()[0] == str(SCHEMA_VERSION + 5)


def test_a_file_where_the_dir_should_be(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(DataDirError, match="not a directory"):
        init_store(tmp_path / "f")


def test_snapshot_keeps_search_working(tmp_path: Path) -> None:
    from lsnode.store.changes import Writer

    db = init_store(tmp_path / "d")
    w = Writer(db)
    ids = [
        w.insert(
            "counterparties",
            {
                "kind": "person",
                "full_name": name,
                "short_name": name,
                "name_key": name.lower(),
                "registered_at": "2026-01-01",
            },
        )
        for name in ("Аристов", "Борисов", "Васильев")
    ]
    w.delete("counterparties", ids[0])  # leaves a rowid gap that VACUUM may close
    from lsnode.store.replica import make_snapshot

    make_snapshot(db_path(tmp_path / "d"), tmp_path / "snap.db")
    rebuilt = connect(tmp_path / "snap.db")
    rebuild_search_index(rebuilt)
    rebuilt.close()
    snap = sqlite3.connect(tmp_path / "snap.db")
    found = snap.execute(
        "SELECT c.full_name FROM counterparty_fts f JOIN counterparties c ON c.rowid = f.rowid "
        "WHERE counterparty_fts MATCH 'вас*'"
    ).fetchall()
    assert found == [("Васильев",)]


def test_bulk_load_indexes_at_the_end_and_keeps_the_triggers(tmp_path: Path) -> None:
    from lsnode.store.changes import Writer
    from lsnode.store.db import bulk_load

    db = init_store(tmp_path / "d")
    w = Writer(db)

    def person(name: str) -> dict[str, str]:
        return {"kind": "person", "full_name": name, "short_name": name,
                "name_key": name.lower(), "registered_at": "2026-01-01"}  # fmt: skip

    def found(q: str) -> int:
        return int(
            db.execute(
                "SELECT count(*) FROM counterparty_fts WHERE counterparty_fts MATCH ?", [q]
            ).fetchone()[0]
        )

    with bulk_load(db):
        w.insert_many("counterparties", [person(f"Иванов {i}") for i in range(50)])
        w.insert("cars", {"plate": "Н433АР12", "plate_key": "H433AP12"})
    assert found("иванов*") == 50
    assert db.execute("SELECT count(*) FROM car_fts WHERE car_fts MATCH '433'").fetchone() == (1,)
    w.insert("counterparties", person("Петров"))  # the triggers are back
    assert found("петров*") == 1

    with pytest.raises(RuntimeError), bulk_load(db):
        w.insert("counterparties", person("Сидоров"))
        raise RuntimeError("power cut")
    assert found("сидоров*") == 0
    assert db.execute("SELECT count(*) FROM counterparties").fetchone() == (51,)
    w.insert("counterparties", person("Сидоров"))
    assert found("сидоров*") == 1


def test_processes_creating_one_data_dir_at_once_migrate_it_once(tmp_path: Path) -> None:
    """``lsavto pair`` and the app (or two tools) may open a brand-new data dir together."""
    import subprocess
    import sys
    import time

    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from lsnode.store.db import init_store\n"
        "start = float(sys.argv[2])\n"
        "while time.time() < start: pass\n"
        "init_store(Path(sys.argv[1])).close()\n"
    )
    for attempt in range(3):
        data = tmp_path / f"race{attempt}"
        start = str(time.time() + 1.0)
        procs = [
            subprocess.Popen([sys.executable, "-c", code, str(data), start], stderr=subprocess.PIPE)
            for _ in range(3)
        ]
        errors = [p.communicate(timeout=60)[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], errors
        db = open_store(data)
        applied = db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        db.close()
        assert applied == len(list(migrations.pending(connect(":memory:"))))
