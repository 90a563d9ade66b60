"""``lsavto bench notify``: rendering + queueing reminders, and delivery rate to a local SMTP sink.

1. ``render_queue``: ``--reminders`` service appointments tomorrow, one SMS day-before rule;
   the time of one ``rules.generate`` at 20:00 — read the appointments with client, car and
   adviser, render each text, check idempotency keys and insert messages and addressees
   through the write path (change capture included). Goal: 10,000 in ≤ 2 s.
2. ``smtp``: ``--smtp-messages`` e-mails through apprise to an aiosmtpd sink on 127.0.0.1,
   one at a time as the hub's sender sends them (claim, send, record): messages per second.

A real SQLite file in a temporary dir; timings move with the machine's load (``loadavg``).
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

GOAL_RENDER_QUEUE_10K_S = 2.0
MSK = ZoneInfo("Europe/Moscow")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clients(writer: Any, n: int, with_email: bool) -> list[str]:
    from lsnode.crm.clients import person_columns
    from lsnode.ids import uuid7

    ids = [uuid7() for _ in range(n)]
    writer.insert_many(
        "counterparties",
        (
            {
                "id": cid,
                "kind": "person",
                **person_columns("Иванов", "Василий", f"Алибабаевич{i}"),
                "registered_at": "2024-01-01",
                "consent_sms": "yes",
                "consent_email": "yes",
            }
            for i, cid in enumerate(ids)
        ),
    )
    contacts = [
        {
            "counterparty_id": cid,
            "kind": "phone",
            "value": f"+7916{i:07d}",
            "phone_e164": f"+7916{i:07d}",
        }
        for i, cid in enumerate(ids)
    ]
    if with_email:
        contacts += [
            {"counterparty_id": cid, "kind": "email", "value": f"c{i}@example.ru"}
            for i, cid in enumerate(ids)
        ]
    writer.insert_many("contacts", contacts)
    return ids


def _render_queue(data: Path, reminders: int) -> dict[str, Any]:
    from lsnode.clock import SettableClock, iso
    from lsnode.notify import admin
    from lsnode.notify.demo import DAY_BEFORE
    from lsnode.notify.rules import generate
    from lsnode.store.db import init_store
    from lsnode.store.notify import NotifyStore

    clock = SettableClock(datetime(2026, 12, 3, 12, tzinfo=MSK))
    db = init_store(data)
    try:
        store = NotifyStore(db, clock)
        channel = admin.save_channel(
            store, kind="sms", name="SMS", settings={"url": "json://127.0.0.1:9/sms?:to={to}"}
        )
        template = admin.save_template(
            store,
            type="appointment_day_before",
            name="ОповещениеПредваритЗапись",
            channel_kind="sms",
            body=DAY_BEFORE,
            channel_id=channel,
        )
        admin.save_rule(store, template_id=template, calc_time="20:00")
        ids = _clients(store.writer, reminders, with_email=False)
        car = store.insert(
            "cars", {"make": "Mercedes-Benz", "model": "C", "modification": "220 CDI"}
        )
        start = datetime(2026, 12, 4, 8, tzinfo=MSK)
        store.insert_many(
            "documents",
            (
                {
                    "doc_type": "appointment",
                    "business_line": "service",
                    "doc_date": "2026-12-03",
                    "status": "booked",
                    "status_at": iso(clock()),
                    "counterparty_id": cid,
                    "car_id": car,
                    "visit_at": iso(start + timedelta(seconds=3 * i)),
                }
                for i, cid in enumerate(ids)
            ),
        )
        clock.set(datetime(2026, 12, 3, 20, 0, tzinfo=MSK))
        began = time.perf_counter()
        report = generate(store, clock())
        took = time.perf_counter() - began
        again = time.perf_counter()
        second = generate(store, clock())  # the next tick: everything already queued
        took_again = time.perf_counter() - again
    finally:
        db.close()
    return {
        "reminders": reminders,
        "queued": report.created,
        "render_queue_s": round(took, 3),
        "render_queue_10k_s": round(took * 10_000 / max(reminders, 1), 3),
        "next_tick_s": round(took_again, 3),
        "next_tick_queued": second.created,
        "goal_render_queue_10k_s_max": GOAL_RENDER_QUEUE_10K_S,
        "goal_met": took * 10_000 / max(reminders, 1) <= GOAL_RENDER_QUEUE_10K_S,
    }


def _smtp(data: Path, messages: int) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    from lsnode.clock import SettableClock
    from lsnode.notify import admin
    from lsnode.notify.channels import AppriseTransport
    from lsnode.notify.outbox import send_due
    from lsnode.store.db import init_store
    from lsnode.store.notify import NotifyStore

    received: list[int] = []

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(len(envelope.content))
            return "250 OK"

    port = _free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    clock = SettableClock(datetime(2026, 12, 3, 12, tzinfo=UTC))
    db = init_store(data)
    try:
        store = NotifyStore(db, clock)
        channel = admin.save_channel(
            store,
            kind="email",
            name="E-mail",
            settings={"host": "127.0.0.1", "port": port, "security": "none", "sender": "a@b.ru"},
        )
        template = admin.save_template(
            store,
            type="appointment_booked",
            name="Подтверждение",
            channel_kind="email",
            subject="Запись на сервис",
            body="Здравствуйте! Ваша запись подтверждена.",
            channel_id=channel,
        )
        for i in range(messages):
            admin.send_test(store, template, clock(), address=f"c{i}@example.ru")
        began = time.perf_counter()
        report = send_due(store, clock, AppriseTransport())
        took = time.perf_counter() - began
    finally:
        db.close()
        controller.stop()
    return {
        "messages": messages,
        "sent": report.sent,
        "received": len(received),
        "smtp_s": round(took, 3),
        "smtp_messages_per_s": round(report.sent / took, 1) if took else 0.0,
    }


def run(reminders: int = 10_000, smtp_messages: int = 300) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lsavto-bench-notify-") as tmp:
        render_queue = _render_queue(Path(tmp) / "rq", reminders)
        smtp = _smtp(Path(tmp) / "smtp", smtp_messages)
    load1, load5, _ = os.getloadavg()
    return {
        "bench": "notify",
        "render_queue_10k_s": render_queue["render_queue_10k_s"],
        "smtp_messages_per_s": smtp["smtp_messages_per_s"],
        "render_queue": render_queue,
        "smtp": smtp,
        "goal_met": render_queue["goal_met"],
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": load1, "loadavg_5m": load5},
    }
