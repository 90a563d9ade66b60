"""The traffic workflow as reception and salesmen live it, on a real SQLite file.

Contested actions go through the hub's real compare-and-set (``SqliteHubStore.intent``): the
store in these tests is the hub's own, so «two salesmen tap the same visitor» is decided exactly
as the hub decides it for two nodes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlite_utils import Database

from lsnode.crm.clients import ClientDraft, add_client
from lsnode.crm.purposes import install_defaults
from lsnode.crm.staff import Session, hash_pin, session_of
from lsnode.crm.traffic import (
    IGNORE_REASONS,
    TRANSITIONS,
    Action,
    Claim,
    IllegalTransition,
    Taken,
    Traffic,
    TrafficDraft,
    TrafficStatus,
    next_status,
)
from lsnode.errors import InputError
from lsnode.store.changes import Writer
from lsnode.store.ports import JournalQuery
from lsnode.store.repos import SqliteClients
from lsnode.store.traffic import SqliteTraffic
from lsnode.sync.messages import Intent
from lsnode.sync.stores import SqliteHubStore
from tests.conftest import TODAY

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class HubArbiter:
    """The hub's own intent decision, called as a node's request would reach it."""

    def __init__(self, hub: SqliteHubStore) -> None:
        self.hub = hub

    def claim(self, table: str, row_id: str, column: str, value: Any, expect: Any) -> Claim:
        got = self.hub.intent(Intent("i", table, row_id, column, value, expect), "node")
        return Claim(got.ok, got.current, got.reason)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Shop:
    """A small dealership: two salesmen, a secretary, the default purposes, one client."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = Clock()
        self.writer = Writer(db)
        self.reader = SqliteTraffic(db)
        self.clients = SqliteClients(db)
        self.hub = SqliteHubStore(db)
        self.pin = hash_pin("1234")
        self.petukhov = self.employee("Петухов В.П.", "manager", ["salon"])
        self.badovets = self.employee("Бадовец А.В.", "manager", ["salon"])
        self.peryazeva = self.employee("Перязева Н.", "secretary", ["feedback", "other"])
        install_defaults(self.writer, self.reader)
        self.purpose = {p["code"]: p["id"] for p in self.reader.purposes()}
        self.client = add_client(
            self.writer, ClientDraft(name="Иванов Василий Алибабаевич", phones=["89251112233"]),
            today=TODAY,
        ).counterparty_id  # fmt: skip
        self.traffic = Traffic(
            self.writer, self.reader, self.reader, self.clients, self.clock, HubArbiter(self.hub)
        )

    def employee(self, name: str, role: str, departments: list[str]) -> Session:
        emp_id = self.writer.insert(
            "employees",
            {
                "short_name": name,
                "role": role,
                "departments": json.dumps(departments),
                "pin_hash": self.pin,
                "presence": "available",
            },
        )
        row = self.db.execute("SELECT * FROM employees WHERE id = ?", [emp_id])
        names = [d[0] for d in row.description]
        return session_of(dict(zip(names, row.fetchone(), strict=True)))

    def visit(self, **kw: Any) -> str:
        draft = TrafficDraft(
            contact_type="visit",
            department="salon",
            purpose_id=self.purpose[22],
            counterparty_id=self.client,
            **kw,
        )
        return self.traffic.register(draft, self.peryazeva, Action.QUEUE).traffic_id


@pytest.fixture
def shop(db: Database) -> Shop:
    return Shop(db)


def test_every_transition_of_the_table_is_reachable_and_others_are_refused() -> None:
    for (status, action), target in TRANSITIONS.items():
        assert next_status(status.value, action) is target
    with pytest.raises(IllegalTransition):
        next_status("ignored", Action.TAKE)
    with pytest.raises(IllegalTransition):
        next_status("document_created", Action.IGNORE)


def test_a_queued_visit_is_in_the_queue_until_taken(shop: Shop) -> None:
    tid = shop.visit(note="ждёт у стойки")
    queue = shop.reader.queue("salon")
    assert [r["id"] for r in queue] == [tid]
    assert queue[0]["client_name"] == "Иванов В.А." and queue[0]["purpose_name"] == "А/м с пробегом"
    shop.clock.now += timedelta(minutes=7)
    row = shop.traffic.take(tid, shop.petukhov)
    assert row["status"] == "in_work" and row["responsible_name"] == "Петухов В.П."
    assert shop.reader.queue("salon") == []
    assert shop.reader.recent_queue_waits_s("salon", 5) == [420]
    actions = [e["action"] for e in shop.reader.history(tid)]
    assert actions == ["queue", "take"]


def test_two_salesmen_tapping_the_same_visitor_one_wins_the_other_sees_who(shop: Shop) -> None:
    tid = shop.visit()
    shop.traffic.take(tid, shop.petukhov)
    with pytest.raises(Taken) as lost:
        shop.traffic.take(tid, shop.badovets)
    assert "Петухов В.П." in str(lost.value)
    assert lost.value.winner == shop.petukhov.employee_id
    row = shop.reader.traffic(tid)
    assert row is not None and row["responsible_id"] == shop.petukhov.employee_id
    assert [e["action"] for e in shop.reader.history(tid)] == ["queue", "take"]


def test_assigning_from_the_queue_notifies_the_employee_who_then_takes_it(shop: Shop) -> None:
    tid = shop.visit()
    shop.traffic.assign(tid, shop.badovets.employee_id, shop.peryazeva)
    assert [r["id"] for r in shop.reader.inbox(shop.badovets.employee_id)] == [tid]
    assert shop.reader.unprocessed_count(shop.badovets.employee_id) == 1
    shop.traffic.take(tid, shop.badovets)
    assert shop.reader.inbox(shop.badovets.employee_id) == []


def test_a_salesman_cannot_assign_to_a_colleague_but_the_secretary_can(shop: Shop) -> None:
    tid = shop.visit()
    with pytest.raises(InputError, match="assign"):
        shop.traffic.assign(tid, shop.badovets.employee_id, shop.petukhov)
    shop.traffic.assign(tid, shop.badovets.employee_id, shop.peryazeva)


def test_transfer_records_an_internal_switch(shop: Shop) -> None:
    draft = TrafficDraft(
        contact_type="call",
        department="salon",
        purpose_id=shop.purpose[22],
        phone="+7 925 111-22-33",
        responsible_id=shop.petukhov.employee_id,
    )
    reg = shop.traffic.register(draft, shop.peryazeva, Action.TRANSFER)
    assert reg.status is TrafficStatus.IN_WORK
    switches = shop.reader.switches([reg.traffic_id])[reg.traffic_id]
    assert [(s["from_name"], s["to_name"]) for s in switches] == [("Перязева Н.", "Петухов В.П.")]
    day = shop.reader.employee_counts("2026-12-03T00:00:00.000Z")
    assert day[shop.petukhov.employee_id] == (1, 1)


def test_processing_creates_a_document_and_cancel_returns_the_contact_to_work(shop: Shop) -> None:
    tid = shop.visit()
    shop.traffic.take(tid, shop.petukhov)
    row = shop.traffic.create_document(tid, shop.petukhov, "car_sale", amount_kop=250_000_000)
    assert row["status"] == "document_created" and row["processed_by_name"] == "Петухов В.П."
    doc = shop.reader.document(row["document_id"])
    assert doc is not None and doc["counterparty_id"] == shop.client and doc["is_open"] == 1
    row = shop.traffic.cancel(tid, shop.petukhov)
    assert row["status"] == "in_work" and row["document_id"] is None
    row = shop.traffic.attach_document(tid, doc["id"], shop.petukhov)
    assert row["status"] == "document_attached" and row["document_no"] == ""
    assert [e["action"] for e in shop.reader.history(tid)] == [
        "queue", "take", "create_document", "cancel", "attach_document",
    ]  # fmt: skip


def test_ignore_needs_a_reason_and_a_processed_contact_cannot_be_taken(shop: Shop) -> None:
    tid = shop.visit()
    with pytest.raises(InputError, match="reason"):
        shop.traffic.ignore(tid, "  ", shop.petukhov)
    row = shop.traffic.ignore(tid, IGNORE_REASONS[1], shop.petukhov)
    assert row["status"] == "ignored" and row["ignore_reason"] == "Зашел/вышел"
    with pytest.raises(IllegalTransition):
        shop.traffic.take(tid, shop.badovets)


def test_a_visitor_who_left_is_a_lost_contact(shop: Shop) -> None:
    tid = shop.visit()
    row = shop.traffic.lose(tid, "", shop.peryazeva)
    assert row["status"] == "lost" and row["loss_reason"] == "Не дождался в очереди"
    assert shop.reader.queue() == []


def test_purpose_settings_are_enforced_at_registration(shop: Shop) -> None:
    new_car = TrafficDraft(
        contact_type="visit", department="salon", purpose_id=shop.purpose[1], phone="89161234567"
    )
    with pytest.raises(InputError, match="make/model"):
        shop.traffic.register(new_car, shop.peryazeva)
    wrong_tab = TrafficDraft(
        contact_type="visit", department="service", purpose_id=shop.purpose[1], phone="8916"
    )
    with pytest.raises(InputError, match="belongs to salon"):
        shop.traffic.register(wrong_tab, shop.peryazeva)
    no_one = TrafficDraft(contact_type="visit", department="salon", purpose_id=shop.purpose[22])
    with pytest.raises(InputError, match="client"):
        shop.traffic.register(no_one, shop.peryazeva)
    assert shop.db.execute("SELECT count(*) FROM traffic").fetchone()[0] == 0
    ok = shop.traffic.register(
        TrafficDraft(
            contact_type="visit",
            department="salon",
            purpose_id=shop.purpose[1],
            phone="8 916 123-45-67",
            make_model="Mercedes-Benz GLE",
        ),
        shop.peryazeva,
    )
    row = shop.reader.traffic(ok.traffic_id)
    assert row is not None and row["phone_e164"] == "+79161234567" and row["first_contact"] == 1


def test_repeat_contact_is_recognised_from_the_clients_history(shop: Shop) -> None:
    first = shop.visit()
    shop.clock.now += timedelta(days=1)
    second = shop.visit()
    rows = {r["id"]: r for r in shop.reader.journal(JournalQuery())[0]}
    assert rows[first]["first_contact"] == 1 and rows[second]["first_contact"] == 0


def test_journal_filters_by_scope_status_phone_and_name(shop: Shop) -> None:
    mine = shop.visit()
    shop.traffic.take(mine, shop.petukhov)
    unassigned = shop.visit()
    me = shop.petukhov.employee_id
    rows, total = shop.reader.journal(JournalQuery(me=me, scope=frozenset({"mine"})))
    assert [r["id"] for r in rows] == [mine] and total == 1
    rows, _ = shop.reader.journal(JournalQuery(me=me, scope=frozenset({"unassigned"})))
    assert [r["id"] for r in rows] == [unassigned]
    rows, _ = shop.reader.journal(JournalQuery(statuses=frozenset({"in_work"})))
    assert [r["id"] for r in rows] == [mine]
    rows, _ = shop.reader.journal(JournalQuery(phone_suffix="3322"))
    assert {r["id"] for r in rows} == {mine, unassigned}
    rows, _ = shop.reader.journal(JournalQuery(client_name_key="иван"))
    assert len(rows) == 2
    rows, _ = shop.reader.journal(JournalQuery(client_name_key="петров"))
    assert rows == []


def test_auto_ignore_after_the_purposes_day_limit(shop: Shop) -> None:
    draft = TrafficDraft(
        contact_type="visit",
        department="salon",
        purpose_id=shop.purpose[1],
        counterparty_id=shop.client,
        make_model="Kia Rio",
    )
    tid = shop.traffic.register(draft, shop.peryazeva).traffic_id
    shop.clock.now += timedelta(days=6)
    assert shop.traffic.auto_ignore() == 0
    shop.clock.now += timedelta(days=1, minutes=1)
    assert shop.traffic.auto_ignore() == 1
    row = shop.reader.traffic(tid)
    assert row is not None and row["status"] == "ignored"
    assert row["ignore_reason"] == "Автоматически: не обработан за 7 дн."
    assert shop.traffic.auto_ignore() == 0


def test_queue_estimate_counts_the_place_and_the_available_staff(shop: Shop) -> None:
    first = shop.visit()
    second = shop.visit()
    place, minutes = shop.traffic.queue_estimate(second)
    assert place == 2 and minutes == 5  # 2 places x 5 min default / 2 available salesmen
    shop.clock.now += timedelta(minutes=20)
    shop.traffic.take(first, shop.petukhov)
    assert shop.traffic.queue_estimate(second) == (1, 10)  # 20 min typical wait / 2 salesmen


def test_bad_input_changes_nothing(shop: Shop) -> None:
    bad = [
        TrafficDraft(contact_type="fax", department="salon", purpose_id=shop.purpose[22]),
        TrafficDraft(contact_type="visit", department="garage", purpose_id=shop.purpose[22]),
        TrafficDraft(
            contact_type="visit", department="salon", purpose_id=shop.purpose[22],
            phone="8925\x00", counterparty_id=shop.client,
        ),
        TrafficDraft(
            contact_type="visit", department="salon", purpose_id=shop.purpose[22],
            counterparty_id=shop.client, note="x" * 5000,
        ),
        TrafficDraft(
            contact_type="visit", department="salon", purpose_id=shop.purpose[22],
            counterparty_id=shop.client, contact_at=T0 + timedelta(hours=1),
        ),
    ]  # fmt: skip
    for draft in bad:
        with pytest.raises(InputError):
            shop.traffic.register(draft, shop.peryazeva)
    assert shop.db.execute("SELECT count(*) FROM traffic").fetchone()[0] == 0
    assert shop.db.execute("SELECT count(*) FROM traffic_events").fetchone()[0] == 0
