"""The issue's scenarios against a real SMTP server and a real HTTP SMS sink, on a fixed clock."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from lsnode.clock import SettableClock
from lsnode.notify import admin
from lsnode.notify.appointments import AppointmentDraft, book_appointment, set_document_status
from lsnode.notify.channels import AppriseTransport
from lsnode.notify.outbox import MAX_ATTEMPTS, Outgoing, Result
from lsnode.notify.service import Notifier
from lsnode.store.notify import NotifyStore
from tests.notify.conftest import (
    HttpSink,
    SmtpSink,
    client,
    email_channel,
    msk,
    sms_channel,
)

DAY_BEFORE = (
    "Здравствуйте, {fio} !\nНапоминаем, что Вы записаны на сервис завтра, {datetime} по адресу: "
    "{address}\nАвтомобиль {car_descr}"
)


def day_before_rule(store: NotifyStore, channel: str, relevance: float = 1.0) -> str:
    template = admin.save_template(
        store,
        type="appointment_day_before",
        name="ОповещениеПредваритЗапись",
        channel_kind="sms",
        body=DAY_BEFORE,
        channel_id=channel,
    )
    admin.save_rule(store, template_id=template, calc_time="20:00", relevance_hours=relevance)
    return template


def book(store: NotifyStore, clock: SettableClock, party: str, visit: object, kind: str = "ТО"):
    return book_appointment(store, AppointmentDraft(party, visit, kind=kind), clock())  # type: ignore[arg-type]


def phones(sink: HttpSink) -> list[str]:
    return [r["body"]["to"] for r in sink.requests]


def statuses(store: NotifyStore) -> dict[str, str]:
    return {
        a["recipient"]: f"{a['status']}:{a['outcome']}"
        for m in admin.journal(store)
        for a in m["addressees"]
    }


def test_day_before_reminder_goes_once_at_20_to_consenting_persons_for_tomorrow(
    nstore: NotifyStore, clock: SettableClock, http_sink: tuple[HttpSink, int]
) -> None:
    sink, port = http_sink
    day_before_rule(nstore, sms_channel(nstore, port))
    yes = client(nstore, "Петров Олег Владимирович", "+7 916 111-22-33")
    no = client(nstore, "Сидоров Иван Петрович", "+7 916 222-33-44", sms="no")
    unknown = client(nstore, "Кузнецов Пётр Ильич", "+7 916 333-44-55", sms="unknown")
    company = client(nstore, "ООО Ромашка", "+7 495 444-55-66", company=True)
    later = client(nstore, "Смирнов Антон Олегович", "+7 916 555-66-77")
    today = client(nstore, "Волков Игорь Сергеевич", "+7 916 666-77-88")
    for party in (yes, no, unknown, company):
        book(nstore, clock, party, msk(2026, 12, 4, 10, 30))
    book(nstore, clock, later, msk(2026, 12, 5, 10, 0))  # the day after tomorrow
    book(nstore, clock, today, msk(2026, 12, 3, 21, 0))  # today, later on
    notifier = Notifier(nstore, clock, AppriseTransport())

    clock.set(msk(2026, 12, 3, 19, 59))
    notifier.tick()
    assert sink.requests == [] and admin.journal(nstore) == []

    clock.set(msk(2026, 12, 3, 20, 0))
    notifier.tick()
    assert phones(sink) == ["79161112233"]
    body = sink.requests[0]["body"]["message"]
    assert "Петров Олег Владимирович" in body and "04.12.2026 10:30" in body
    assert "пр. Гагарина, 230" in body
    assert statuses(nstore) == {
        "Петров Олег Владимирович": "sent:ok",
        "Сидоров Иван Петрович": "refused:no_consent_sms",
        "Кузнецов Пётр Ильич": "refused:no_consent_sms",
    }  # the company got no message at all: persons only

    for minutes in (1, 30, 59, 61, 23 * 60):
        clock.set(msk(2026, 12, 3, 20, 0) + timedelta(minutes=minutes))
        notifier.tick()
    assert phones(sink) == ["79161112233"]  # once
    # The next evening, the day after tomorrow's visit gets its own reminder.
    clock.set(msk(2026, 12, 4, 20, 5))
    notifier.tick()
    assert phones(sink) == ["79161112233", "79165556677"]


def test_a_hub_down_from_19_50_to_22_00_sends_nothing_late(
    nstore: NotifyStore, clock: SettableClock, http_sink: tuple[HttpSink, int]
) -> None:
    sink, port = http_sink
    day_before_rule(nstore, sms_channel(nstore, port), relevance=1.0)
    book(nstore, clock, client(nstore, "Петров Олег", "+7 916 111-22-33"), msk(2026, 12, 4, 9))
    notifier = Notifier(nstore, clock, AppriseTransport())
    clock.set(msk(2026, 12, 3, 19, 50))
    notifier.tick()
    clock.set(msk(2026, 12, 3, 22, 0))  # back after the outage: the 20:00 run is an hour stale
    notifier.tick()
    assert sink.requests == []
    assert admin.journal(nstore) == []


def test_queued_messages_are_dropped_when_their_relevance_passes(
    nstore: NotifyStore, clock: SettableClock, http_sink: tuple[HttpSink, int]
) -> None:
    sink, port = http_sink
    day_before_rule(nstore, sms_channel(nstore, port), relevance=1.0)
    book(nstore, clock, client(nstore, "Петров Олег", "+7 916 111-22-33"), msk(2026, 12, 4, 9))
    notifier = Notifier(nstore, clock, AppriseTransport())
    sink.fail = True  # the gateway is down at 20:00: the message is queued and retried
    clock.set(msk(2026, 12, 3, 20, 0))
    notifier.tick()
    sink.fail = False
    clock.set(msk(2026, 12, 3, 21, 5))  # the hub was away meanwhile
    notifier.tick()
    assert sink.requests == []
    (message,) = admin.journal(nstore, unsent_only=True)
    assert message["addressees"][0]["status"] == "expired"


def test_smtp_failure_is_retried_with_backoff_then_journaled(
    nstore: NotifyStore, clock: SettableClock, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    channel = email_channel(nstore, port)
    template = admin.save_template(
        nstore,
        type="appointment_booked",
        name="Подтверждение П/З",
        channel_kind="email",
        subject="Запись в {dealer}",
        body="{name}, ждём Вас {datetime}.",
        channel_id=channel,
    )
    admin.save_rule(nstore, template_id=template, relevance_hours=24)
    party = client(nstore, "Петров Олег Владимирович", email="oleg@example.ru")
    book(nstore, clock, party, msk(2026, 12, 5, 10, 0))
    sink.fail_with = "451 4.3.0 mailbox busy"
    notifier = Notifier(nstore, clock, AppriseTransport())
    waits = []
    for _ in range(MAX_ATTEMPTS):
        notifier.tick()
        (row,) = admin.journal(nstore)[0]["addressees"]
        waits.append(row["next_attempt_at"])
        clock.advance(hours=1)
    (row,) = admin.journal(nstore)[0]["addressees"]
    assert row["status"] == "failed" and row["attempts"] == MAX_ATTEMPTS
    assert "451" in row["info"] and row["sent_at"] is None
    attempts = nstore.attempts(row["id"])
    assert [a["outcome"] for a in attempts] == ["error"] * MAX_ATTEMPTS
    assert sink.messages == []
    notifier.tick()  # nothing more is tried
    assert len(nstore.attempts(row["id"])) == MAX_ATTEMPTS


def test_booking_confirms_at_once_and_a_consent_switched_off_stops_the_next_one(
    nstore: NotifyStore, clock: SettableClock, http_sink: tuple[HttpSink, int]
) -> None:
    sink, port = http_sink
    channel = sms_channel(nstore, port)
    template = admin.save_template(
        nstore,
        type="appointment_booked",
        name="Подтверждение П/З",
        channel_kind="sms",
        body="{name} ,\nваша запись в сервисный центр {dealer} подтверждена. Ждем Вас {datetime}.",
        channel_id=channel,
    )
    admin.save_rule(nstore, template_id=template, relevance_hours=1)
    day_before_rule(nstore, channel)
    party = client(nstore, "Петров Олег Владимирович", "+7 916 111-22-33")
    notifier = Notifier(nstore, clock, AppriseTransport())
    book(nstore, clock, party, msk(2026, 12, 4, 12, 20))
    notifier.tick()
    assert len(sink.requests) == 1
    assert sink.requests[0]["body"]["message"].startswith("Олег Владимирович ,")
    assert "04.12.2026 12:20" in sink.requests[0]["body"]["message"]

    nstore.update("counterparties", party, {"consent_sms": "no"})
    clock.set(msk(2026, 12, 3, 20, 0))
    notifier.tick()
    assert len(sink.requests) == 1
    reminder = next(m for m in admin.journal(nstore) if m["type"] == "appointment_day_before")
    assert reminder["addressees"][0]["outcome"] == "no_consent_sms"


def test_status_changes_notify_once_per_status(
    nstore: NotifyStore, clock: SettableClock, http_sink: tuple[HttpSink, int]
) -> None:
    sink, port = http_sink
    template = admin.save_template(
        nstore,
        type="repair_status",
        name="Уведомление об окончании ремонта",
        channel_kind="sms",
        body="{name}, ремонт по {doc_no} окончен.",
        channel_id=sms_channel(nstore, port),
    )
    admin.save_rule(nstore, template_id=template, statuses=["Закрыт"], relevance_hours=2)
    party = client(nstore, "Петров Олег Владимирович", "+7 916 111-22-33")
    order = nstore.insert(
        "documents",
        {
            "doc_no": "ЗН 14029",
            "doc_type": "work_order",
            "business_line": "service",
            "doc_date": "2026-12-03",
            "status": "В работе",
            "counterparty_id": party,
        },
    )
    notifier = Notifier(nstore, clock, AppriseTransport())
    set_document_status(nstore, order, "В работе", clock())
    notifier.tick()
    assert sink.requests == []
    set_document_status(nstore, order, "Закрыт", clock())
    notifier.tick()
    clock.advance(minutes=10)
    set_document_status(nstore, order, "В работе", clock())
    set_document_status(nstore, order, "Закрыт", clock())
    notifier.tick()
    assert [r["body"]["message"] for r in sink.requests] == [
        "Олег Владимирович, ремонт по ЗН 14029 окончен."
    ]


class Dies(BaseException):
    """Stands for the process being killed: nothing after it runs."""


class DyingTransport(AppriseTransport):
    def __init__(self, after: int) -> None:
        self.left = after

    def send(self, out: Outgoing) -> Result:
        result = super().send(out)
        self.left -= 1
        if self.left == 0:
            raise Dies  # sent, and the process dies before recording it
        return result


def test_a_restart_mid_batch_sends_nothing_twice(
    nstore: NotifyStore, clock: SettableClock, http_sink: tuple[HttpSink, int]
) -> None:
    sink, port = http_sink
    day_before_rule(nstore, sms_channel(nstore, port), relevance=2.0)
    for i in range(6):
        party = client(nstore, f"Петров{'а' * i} Олег", f"+7 916 111-22-3{i}")
        book(nstore, clock, party, msk(2026, 12, 4, 9, i))
    clock.set(msk(2026, 12, 3, 20, 0))
    with contextlib.suppress(Dies):
        Notifier(nstore, clock, DyingTransport(after=3)).tick()
    assert len(sink.requests) == 3
    # The hub comes back a minute later, then again after the lease of the dead claim ran out.
    for minutes in (1, 10, 20):
        clock.set(msk(2026, 12, 3, 20, minutes))
        restarted = NotifyStore(nstore.db, clock)
        Notifier(restarted, clock, AppriseTransport()).tick()
    sent = phones(sink)
    assert len(sent) == 6 and len(set(sent)) == 6
    outcomes = sorted(statuses(nstore).values())
    assert outcomes == ["failed:interrupted"] + ["sent:ok"] * 5
