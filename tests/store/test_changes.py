"""The one write path: a row and its change record commit together, or neither does."""

from __future__ import annotations

import json

import pytest
from sqlite_utils import Database

from lsnode.errors import InputError, NotFound
from lsnode.store.changes import Writer
from lsnode.store.schema import TABLES

PERSON = {
    "kind": "person",
    "full_name": "Иванов Василий Алибабаевич",
    "short_name": "Иванов В.А.",
    "name_key": "иванов василий алибабаевич",
    "registered_at": "2014-08-28",
}


def outbox(db: Database) -> list[tuple[str, str, str, dict[str, object]]]:
    rows = db.execute("SELECT tbl, row_id, op, payload FROM _outbox ORDER BY local_seq")
    return [(t, r, op, json.loads(p)) for t, r, op, p in rows]


def count(db: Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_insert_update_delete_are_captured_in_order(db: Database, writer: Writer) -> None:
    cp = writer.insert("counterparties", PERSON)
    writer.update("counterparties", cp, {"note": "VIP", "consent_sms": "yes"})
    writer.delete("counterparties", cp)
    ops = outbox(db)
    assert [(t, r, op) for t, r, op, _ in ops] == [
        ("counterparties", cp, "upsert"),
        ("counterparties", cp, "upsert"),
        ("counterparties", cp, "delete"),
    ]
    assert ops[0][3]["full_name"] == "Иванов Василий Алибабаевич"
    assert set(ops[1][3]) == {"note", "consent_sms", "updated_at"}
    assert count(db, "counterparties") == 0


def test_ids_are_uuid7_and_time_ordered(writer: Writer) -> None:
    ids = [writer.insert("regions", {"name": f"r{i}"}) for i in range(50)]
    assert all(i[14] == "7" for i in ids)
    assert ids == sorted(ids)


def test_an_update_that_changes_nothing_writes_nothing(db: Database, writer: Writer) -> None:
    cp = writer.insert("counterparties", PERSON)
    assert writer.update("counterparties", cp, {"note": ""}) == {}
    assert len(outbox(db)) == 1


def test_a_failed_transaction_leaves_neither_row_nor_change(db: Database, writer: Writer) -> None:
    with pytest.raises(RuntimeError), writer.transaction():
        writer.insert("counterparties", PERSON)
        writer.insert("regions", {"name": "Москва"})
        raise RuntimeError("power cut")
    assert count(db, "counterparties") == count(db, "regions") == count(db, "_outbox") == 0


def test_a_constraint_violation_rolls_back_the_whole_batch(db: Database, writer: Writer) -> None:
    good = dict(PERSON)
    bad = dict(PERSON, kind="alien")
    with pytest.raises(Exception, match="CHECK"):
        writer.insert_many("counterparties", [good, bad])
    assert count(db, "counterparties") == count(db, "_outbox") == 0


@pytest.mark.parametrize(
    ("table", "values", "message"),
    [
        ("users", {"name": "x"}, "unknown table"),
        ("regions", {"name": "x", "drop_me": 1}, "unknown column"),
        ("regions", {"name": "x", "updated_at": "2000"}, "unknown column"),
    ],
)
def test_unknown_tables_and_columns_are_refused(
    db: Database, writer: Writer, table: str, values: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        writer.insert(table, values)
    assert count(db, "_outbox") == 0


def test_update_and_delete_of_a_missing_row(writer: Writer) -> None:
    with pytest.raises(NotFound):
        writer.update("regions", "nope", {"name": "x"})
    with pytest.raises(NotFound):
        writer.delete("regions", "nope")


def test_ids_cannot_change(writer: Writer) -> None:
    r = writer.insert("regions", {"name": "x"})
    with pytest.raises(InputError, match="id cannot change"):
        writer.update("regions", r, {"id": "other"})


def test_search_index_follows_every_write(db: Database, writer: Writer) -> None:
    def names(q: str) -> list[str]:
        sql = (
            "SELECT c.full_name FROM counterparty_fts f JOIN counterparties c "
            "ON c.rowid = f.rowid WHERE counterparty_fts MATCH ?"
        )
        return [r[0] for r in db.execute(sql, [q])]

    cp = writer.insert("counterparties", PERSON)
    assert names("иван*") == ["Иванов Василий Алибабаевич"]
    writer.update("counterparties", cp, {"full_name": "Петров Пётр", "name_key": "петров петр"})
    assert names("иван*") == []
    assert names("петр*") == ["Петров Пётр"]
    writer.delete("counterparties", cp)
    assert names("петр*") == []


def test_every_replicated_table_has_the_common_columns(db: Database) -> None:
    for table in TABLES:
        cols = {c.name: c for c in db[table.name].columns}
        assert {"id", "created_at", "updated_at"} <= set(cols), table.name
        assert db[table.name].pks == ["id"], table.name
        assert ("number" in cols) == table.numbered, table.name
