"""The hub ignores contacts left unprocessed past their purpose's day limit, once, as accepted
changes every node pulls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.server import Hub
from lsnode.crm.purposes import install_defaults
from lsnode.crm.traffic import Action, Traffic, TrafficDraft
from lsnode.store.ports import JournalQuery
from lsnode.store.repos import SqliteClients
from lsnode.store.traffic import SqliteTraffic


def test_the_hub_auto_ignores_and_stamps_the_change_for_nodes(tmp_path: Path) -> None:
    hub = Hub(tmp_path / "hub")
    reader = SqliteTraffic(hub.db)
    install_defaults(hub.store.writer, reader)
    new_car = next(p for p in reader.purposes() if p["code"] == 1)  # 7 days
    repair = next(p for p in reader.purposes() if p["code"] == 2)  # never
    t0 = datetime(2026, 11, 1, 10, tzinfo=UTC)
    traffic = Traffic(hub.store.writer, reader, reader, SqliteClients(hub.db), lambda: t0)
    stale = traffic.register(
        TrafficDraft("visit", "salon", new_car["id"], phone="89161234567", make_model="Kia Rio"),
        None,
        Action.QUEUE,
    ).traffic_id
    kept = traffic.register(
        TrafficDraft("call", "service", repair["id"], phone="89161234567"), None
    ).traffic_id
    before = hub.store.hub_seq()
    assert hub.auto_ignore(lambda: t0 + timedelta(days=6)) == 0
    assert hub.auto_ignore(lambda: t0 + timedelta(days=8)) == 1
    assert hub.auto_ignore(lambda: t0 + timedelta(days=9)) == 0
    rows = {r["id"]: r for r in reader.journal(JournalQuery())[0]}
    assert rows[stale]["status"] == "ignored" and rows[kept]["status"] == "new"
    assert hub.store.hub_seq() > before  # nodes pull the change like any other
    changed, _ = hub.store.changes_since(before, 100)
    assert {(s.table, s.row_id) for s in changed} >= {("traffic", stale)}
    hub.db.close()
