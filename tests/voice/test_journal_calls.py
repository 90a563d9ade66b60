"""What the line writes for outgoing calls and for clients created during a call, without SIP:
the journal over a real store, moved by the pure call machine as the line moves it; and the hub's
request loop refusing a stale «Набрать»."""

from __future__ import annotations

import asyncio
import json
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from hub.voice import DIAL_TTL_S, HubVoice
from lsnode.clock import SettableClock, instant
from lsnode.crm.clients import ClientDraft, add_client
from lsnode.crm.purposes import install_defaults
from lsnode.store.changes import Writer
from lsnode.store.db import init_store
from lsnode.store.traffic import SqliteTraffic
from lsnode.voice.call import Call, CallEvent
from lsnode.voice.journal import CALLBACK_OUTCOME, CallJournal
from lsnode.voice.sip import CallerId

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = init_store(tmp_path / "hub")
    writer = Writer(database)
    install_defaults(writer, SqliteTraffic(database))
    for emp_id, name, dept in (
        ("e201", "Петухов В.П.", "service"),
        ("e202", "Аверкин А.Г.", "salon"),
    ):
        writer.insert(
            "employees",
            {
                "id": emp_id,
                "short_name": name,
                "extension": emp_id[1:],
                "departments": json.dumps([dept]),
                "presence": "available",
            },
        )
    yield database
    database.close()


def rows(db: Database, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = db.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def purpose(db: Database, code: int) -> str:
    return str(db.execute("SELECT id FROM contact_purposes WHERE code = ?", [code]).fetchone()[0])


def missed_call(journal: CallJournal, clock: SettableClock) -> str:
    """An incoming call that rang e201 and was never answered: unprocessed + a callback task."""
    call = Call.incoming(clock())
    journal.incoming("c-in", call, None, "sip-1", CallerId("Иван", "89161234567", "+79161234567"))
    clock.advance(seconds=2)
    call.apply(CallEvent.ANSWER_MENU, clock())
    journal.writer.update(
        "calls", "c-in", {"department": "service", "purpose_id": purpose(journal.db, 2)}
    )
    call.apply(CallEvent.RING, clock(), employee_id="e201")
    journal.moved("c-in", call)
    clock.advance(seconds=20)
    call.apply(CallEvent.HANG_UP, clock(), reason="caller_hangup")
    journal.finished("c-in", call)
    return "c-in"


def talk(journal: CallJournal, clock: SettableClock, row_id: str, call: Call, seconds: int) -> None:
    call.apply(CallEvent.DIAL, clock())
    journal.moved(row_id, call)
    clock.advance(seconds=3)
    call.apply(CallEvent.CONNECT, clock())
    journal.moved(row_id, call)
    journal.connected(row_id, call.employee_id or "")
    clock.advance(seconds=seconds)
    call.apply(CallEvent.HANG_UP, clock(), reason="hub_hangup")
    journal.finished(row_id, call)


def test_calling_back_a_missed_call_joins_its_traffic_and_does_the_callback_task(
    db: Database,
) -> None:
    clock = SettableClock(T0)
    journal = CallJournal(db, clock)
    missed = missed_call(journal, clock)
    traffic_id = rows(db, "SELECT traffic_id FROM calls WHERE id = ?", [missed])[0]["traffic_id"]
    before = rows(db, "SELECT * FROM traffic WHERE id = ?", [traffic_id])[0]
    assert before["status"] == "new" and before["responsible_id"] is None
    (task,) = rows(db, "SELECT * FROM tasks WHERE source_id = ?", [missed])
    assert task["done_at"] is None

    clock.advance(minutes=5)  # «Перезвонить» from the ПРОПУЩЕННЫЙ ВЫЗОВ popup
    back = Call.outgoing(clock(), "e201")
    journal.outgoing("c-out", back, None, "+7 916 123-45-67", None, "201", returns=missed)
    out = rows(db, "SELECT * FROM calls WHERE id = 'c-out'")[0]
    assert out["traffic_id"] == traffic_id and out["direction"] == "out"
    talk(journal, clock, "c-out", back, 95)

    after = rows(db, "SELECT * FROM traffic WHERE id = ?", [traffic_id])[0]
    assert (after["status"], after["responsible_id"], after["duration_s"]) == (
        "in_work",
        "e201",
        95,
    )
    switches = rows(db, "SELECT * FROM traffic_switches WHERE traffic_id = ?", [traffic_id])
    assert [(s["to_employee_id"], s["duration_s"], s["note"]) for s in switches] == [
        ("e201", 95, "Исходящий звонок")
    ]
    task = rows(db, "SELECT * FROM tasks WHERE id = ?", [task["id"]])[0]
    assert task["done_at"] == instant(clock() - timedelta(seconds=95))
    assert task["outcome"] == CALLBACK_OUTCOME
    assert rows(db, "SELECT count(*) AS n FROM traffic")[0]["n"] == 1  # no second contact


def test_a_call_from_a_card_is_a_new_outgoing_contact_only_once_the_client_answers(
    db: Database,
) -> None:
    clock = SettableClock(T0)
    journal = CallJournal(db, clock)
    unanswered = Call.outgoing(clock(), "e202")
    journal.outgoing("c-1", unanswered, None, "+7 916 000-00-01", None, "202")
    unanswered.apply(CallEvent.DIAL, clock())
    unanswered.apply(CallEvent.GIVE_UP, clock(), reason="client_no_answer")
    journal.finished("c-1", unanswered)
    assert rows(db, "SELECT traffic_id FROM calls WHERE id = 'c-1'")[0]["traffic_id"] is None

    answered = Call.outgoing(clock(), "e202")
    journal.outgoing("c-2", answered, None, "+7 916 000-00-02", None, "202")
    talk(journal, clock, "c-2", answered, 40)
    row = rows(db, "SELECT * FROM calls WHERE id = 'c-2'")[0]
    traffic = rows(
        db,
        "SELECT t.*, p.code, p.direction FROM traffic t "
        "JOIN contact_purposes p ON p.id = t.purpose_id WHERE t.id = ?",
        [row["traffic_id"]],
    )[0]
    assert (traffic["department"], traffic["direction"], traffic["code"]) == ("salon", "out", 14)
    assert (traffic["status"], traffic["responsible_id"], traffic["duration_s"]) == (
        "in_work",
        "e202",
        40,
    )
    assert traffic["extra_info"] == "Исходящий звонок" and traffic["origin"] == "phone"


def test_a_client_created_during_the_call_is_linked_to_the_call_and_its_traffic(
    db: Database,
) -> None:
    clock = SettableClock(T0)
    journal = CallJournal(db, clock)
    call = Call.incoming(clock())
    journal.incoming(
        "c-new", call, None, "sip-2", CallerId("Сергей", "89267770011", "+79267770011")
    )
    assert rows(db, "SELECT counterparty_id FROM calls")[0]["counterparty_id"] is None
    call.apply(CallEvent.RING, clock(), employee_id="e201")
    journal.writer.update(
        "calls", "c-new", {"department": "service", "purpose_id": purpose(journal.db, 2)}
    )
    journal.moved("c-new", call)
    call.apply(CallEvent.CONNECT, clock())
    journal.connected("c-new", "e201")
    # «Создать нового» on the employee's node; the row reaches the hub by sync
    made = add_client(
        Writer(db), ClientDraft(name="Сергеев Сергей", phones=["8 926 777-00-11"]), today=T0.date()
    )
    clock.advance(seconds=30)
    call.apply(CallEvent.HANG_UP, clock(), reason="caller_hangup")
    journal.finished("c-new", call)
    row = rows(db, "SELECT * FROM calls WHERE id = 'c-new'")[0]
    assert row["counterparty_id"] == made.counterparty_id
    traffic = rows(db, "SELECT * FROM traffic WHERE id = ?", [row["traffic_id"]])[0]
    assert traffic["counterparty_id"] == made.counterparty_id


def test_the_hub_refuses_a_dial_that_waited_too_long_for_it(db: Database, tmp_path: Path) -> None:
    async def fan_out() -> None:
        pass

    hub = types.SimpleNamespace(db=db, data_dir=tmp_path / "hub", fan_out=fan_out)
    voice = HubVoice(hub)
    writer = Writer(db)
    old = instant(datetime.now(UTC) - timedelta(seconds=DIAL_TTL_S + 30))
    stale = writer.insert(
        "call_requests",
        {
            "kind": "dial",
            "employee_id": "e201",
            "phone": "+79161234567",
            "status": "pending",
            "created_at": old,
        },
    )
    fresh = writer.insert(
        "call_requests",
        {"kind": "dial", "employee_id": "e201", "phone": "+79161234567", "status": "pending"},
    )

    async def one_pass() -> None:
        task = asyncio.create_task(voice._requests())
        while any(r["status"] == "pending" for r in rows(db, "SELECT status FROM call_requests")):
            await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(asyncio.wait_for(one_pass(), 10))
    got = {r["id"]: r for r in rows(db, "SELECT * FROM call_requests")}
    assert (got[stale]["status"], got[stale]["result"]) == ("failed", "expired")
    assert (got[fresh]["status"], got[fresh]["result"]) == ("failed", "the SIP line is off")
