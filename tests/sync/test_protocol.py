"""The sans-I/O sessions joined by a pipe: real SQLite stores, real pairing state, real codec."""

from __future__ import annotations

import shutil
from pathlib import Path

from lsnode.store.changes import meta_set
from lsnode.store.db import init_store
from lsnode.store.replica import checksums
from lsnode.sync.messages import Error, IntentResult
from lsnode.sync.protocol import CaughtUp, Connected, IntentDecided, Refused
from lsnode.sync.stores import SqliteHubStore
from tests.sync.helpers import Net

PERSON = {
    "kind": "person",
    "full_name": "Иванов Василий",
    "short_name": "Иванов В.",
    "name_key": "иванов василий",
    "registered_at": "2026-12-03",
}


def test_two_nodes_converge_through_the_hub(tmp_path: Path) -> None:
    net = Net(tmp_path)
    a, b = net.add_node("a"), net.add_node("b")
    cp = a.insert("counterparties", PERSON)
    b.insert("regions", {"name": "Москва"})
    net.connect("a"), net.connect("b")
    net.run()
    a.update("counterparties", cp, {"note": "VIP"})
    net.changed("a")
    net.run()
    assert checksums(net.dbs["a"]) == checksums(net.dbs["b"]) == checksums(net.hub_db)
    row = net.dbs["b"].execute("SELECT number, note FROM counterparties").fetchone()
    assert row == (1, "VIP")  # the hub's number reached the other node, live
    assert any(isinstance(e, CaughtUp) and e.pending == 0 for e in net.links["a"].node_events)


def test_offline_edits_merge_when_the_hub_returns(tmp_path: Path) -> None:
    net = Net(tmp_path)
    a, b = net.add_node("a"), net.add_node("b")
    branch = a.insert("branches", {"name": "Кардинал", "address": "ул. Ленина, 1"})
    net.connect("a"), net.connect("b")
    net.run()
    net.disconnect("a"), net.disconnect("b")  # the hub goes away
    a.update("branches", branch, {"name": "Кардинал-Север"})
    b.update("branches", branch, {"address": "пр. Мира, 5"})
    net.connect("a"), net.connect("b")
    net.run()
    net.connect("a")
    net.run()
    for db in (net.dbs["a"], net.dbs["b"], net.hub_db):
        assert db.execute("SELECT name, address FROM branches").fetchall() == [
            ("Кардинал-Север", "пр. Мира, 5")
        ]


def test_a_restored_hub_gets_every_node_write_back(tmp_path: Path) -> None:
    net = Net(tmp_path)
    a = net.add_node("a")
    first = a.insert("regions", {"name": "Москва"})
    net.connect("a")
    net.run()
    net.hub_db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(tmp_path / "hub" / "lsavto.db", tmp_path / "backup.db")  # last night's backup
    second = a.insert("regions", {"name": "Санкт-Петербург"})
    net.changed("a")
    net.run()
    assert net.links["a"].node.store.pending_count() == 0  # acknowledged…
    # …then the hub's disk dies; it is restored from the backup with a new epoch.
    net.hub_db.close()
    shutil.copy(tmp_path / "backup.db", tmp_path / "hub" / "lsavto.db")
    for suffix in ("-wal", "-shm"):
        (tmp_path / "hub" / f"lsavto.db{suffix}").unlink(missing_ok=True)
    net.hub_db = init_store(tmp_path / "hub")
    meta_set(net.hub_db, "epoch", "4242")
    net.hub = SqliteHubStore(net.hub_db)
    link = net.connect("a")
    net.run()
    assert any(isinstance(e, Connected) and e.epoch_changed for e in link.node_events)
    names = {r[0] for r in net.hub_db.execute("SELECT id FROM regions")}
    assert names == {first, second}
    assert checksums(net.dbs["a"]) == checksums(net.hub_db)


def test_wrong_token_and_revoked_node_are_refused_and_write_nothing(tmp_path: Path) -> None:
    net = Net(tmp_path)
    a = net.add_node("a")
    a.insert("regions", {"name": "Москва"})
    net.creds["a"] = type(net.creds["a"])(net.creds["a"].node_id, "forged-token")
    link = net.connect("a")
    net.run()
    refusals = [e for e in link.node_events if isinstance(e, Refused)]
    assert refusals and refusals[0].code == "auth"
    assert net.hub_db.execute("SELECT count(*) FROM regions").fetchone()[0] == 0

    b = net.add_node("b")
    net.trust.revoke(net.creds["b"].node_id)
    b.insert("regions", {"name": "Тверь"})
    link = net.connect("b")
    net.run()
    assert [e.code for e in link.node_events if isinstance(e, Refused)] == ["auth"]
    assert net.hub_db.execute("SELECT count(*) FROM regions").fetchone()[0] == 0


def test_schema_mismatch_keeps_local_changes_and_says_why(tmp_path: Path) -> None:
    net = Net(tmp_path)
    a = net.add_node("a")
    a.insert("regions", {"name": "Москва"})
    link = net.connect("a", schema=99)
    net.run()
    [refused] = [e for e in link.node_events if isinstance(e, Refused)]
    assert refused.code == "schema" and not refused.retry
    assert link.node.store.pending_count() == 1
    assert net.hub_db.execute("SELECT count(*) FROM regions").fetchone()[0] == 0


def test_two_salesmen_take_the_same_visitor_one_wins(tmp_path: Path) -> None:
    from lsnode.sync.messages import Intent

    net = Net(tmp_path)
    a = net.add_node("a")
    net.add_node("b")
    visit = a.insert(
        "traffic",
        {"contact_type": "visit", "department": "salon", "status": "new", "contact_at": "x"},
    )
    la, lb = net.connect("a"), net.connect("b")
    net.run()
    la.to_hub.append(Intent("i-a", "traffic", visit, "responsible_id", "petukhov", None))
    lb.to_hub.append(Intent("i-b", "traffic", visit, "responsible_id", "badovets", None))
    net.run()
    results = {
        name: next(e.result for e in net.links[name].node_events if isinstance(e, IntentDecided))
        for name in ("a", "b")
    }
    assert results["a"] == IntentResult("i-a", True, "petukhov", "")
    assert results["b"].ok is False and results["b"].current == "petukhov"
    for db in (net.dbs["a"], net.dbs["b"], net.hub_db):
        assert db.execute("SELECT responsible_id FROM traffic").fetchone() == ("petukhov",)
    assert not any(isinstance(m, Error) for m in la.to_node)
