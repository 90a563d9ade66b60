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


def meta(db: Database, row_id: str) -> dict[str, object]:
    cur = db.execute("SELECT * FROM _rowmeta WHERE row_id = ?", [row_id])
    row = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    row["overrides"] = json.loads(row["overrides"])
    return row


def count(db: Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_insert_update_delete_are_captured_in_order(db: Database, writer: Writer) -> None:
    cp = writer.insert("counterparties", PERSON)
    born = meta(db, cp)
    assert (born["cl"], born["overrides"], born["local_seq"]) == (1, {}, 1)
    writer.update("counterparties", cp, {"note": "VIP", "consent_sms": "yes"})
    edited = meta(db, cp)
    assert set(edited["overrides"]) == {"note", "consent_sms", "updated_at"}  # type: ignore[arg-type]
    assert all(v > born["base"] for v in edited["overrides"].values())  # type: ignore[attr-defined]
    assert edited["local_seq"] == 2
    writer.delete("counterparties", cp)
    dead = meta(db, cp)
    assert (dead["cl"], dead["overrides"], dead["local_seq"]) == (2, {}, 3)
    assert count(db, "counterparties") == 0
    again = writer.insert("counterparties", dict(PERSON, id=cp))
    assert again == cp and meta(db, cp)["cl"] == 3


def test_versions_increase_across_writers_of_one_store(db: Database) -> None:
    first, second = Writer(db), Writer(db)
    a = first.insert("regions", {"name": "a"})
    b = second.insert("regions", {"name": "b"})
    c = first.insert("regions", {"name": "c"})
    bases = [meta(db, r)["base"] for r in (a, b, c)]
    assert bases == sorted(bases) and len(set(bases)) == 3


def test_hub_writes_get_hub_seq_and_numbers(db: Database, writer: Writer) -> None:
    from lsnode.store.changes import meta_set

    meta_set(db, "role", "hub")
    ids = writer.insert_many("counterparties", [dict(PERSON), dict(PERSON)])
    numbers = [
        db.execute("SELECT number FROM counterparties WHERE id=?", [i]).fetchone()[0] for i in ids
    ]
    assert sorted(numbers) == [1, 2]
    assert [meta(db, i)["hub_seq"] for i in ids] == [1, 2]
    writer.update("counterparties", ids[0], {"note": "x"})
    assert meta(db, ids[0])["hub_seq"] == 3


def test_ids_are_uuid7_and_time_ordered(writer: Writer) -> None:
    ids = [writer.insert("regions", {"name": f"r{i}"}) for i in range(50)]
    assert all(i[14] == "7" for i in ids)
    assert ids == sorted(ids)


def test_an_update_that_changes_nothing_writes_nothing(db: Database, writer: Writer) -> None:
    cp = writer.insert("counterparties", PERSON)
    assert writer.update("counterparties", cp, {"note": ""}) == {}
    assert meta(db, cp)["local_seq"] == 1


def test_a_failed_transaction_leaves_neither_row_nor_change(db: Database, writer: Writer) -> None:
    with pytest.raises(RuntimeError), writer.transaction():
        writer.insert("counterparties", PERSON)
        writer.insert("regions", {"name": "Москва"})
        raise RuntimeError("power cut")
    assert count(db, "counterparties") == count(db, "regions") == count(db, "_rowmeta") == 0


def test_a_constraint_violation_rolls_back_the_whole_batch(db: Database, writer: Writer) -> None:
    good = dict(PERSON)
    bad = dict(PERSON, kind="alien")
    with pytest.raises(Exception, match="CHECK"):
        writer.insert_many("counterparties", [good, bad])
    assert count(db, "counterparties") == count(db, "_rowmeta") == 0


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
    assert count(db, "_rowmeta") == 0


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
