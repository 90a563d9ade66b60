"""The notifier inside a real hub, sealed passwords, SMTP login, LAN messages, call tasks, files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hub.server import Hub
from lsnode.clock import SettableClock
from lsnode.errors import InputError
from lsnode.notify import admin
from lsnode.notify.appointments import AppointmentDraft, book_appointment
from lsnode.notify.channels import AppriseTransport
from lsnode.notify.demo import install_demo
from lsnode.notify.sealing import hub_certificate, open_on_hub, seal_for_hub
from lsnode.notify.service import Notifier
from lsnode.store.notify import NotifyStore
from lsnode.sync.keys import SecretError, ensure_hub_certificate
from tests.notify.conftest import HttpSink, SmtpSink, client, email_channel, msk


def test_passwords_are_sealed_to_the_hub_and_used_for_smtp_login(
    tmp_path: Path, nstore: NotifyStore, clock: SettableClock, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    data = tmp_path / "data"
    cert = ensure_hub_certificate(data, "test-hub")
    seal = lambda pw, cid: seal_for_hub(hub_certificate(data, None), pw, cid)  # noqa: E731
    channel = email_channel(nstore, port, login="hub@kardinal.example")
    admin.save_channel(
        nstore, kind="email", name="Почта", channel_id=channel, password="S3cret-pass!", seal=seal
    )
    row = nstore.channel(channel)
    assert row is not None and "S3cret-pass!" not in str(row) and row["secret_sealed"]
    assert admin.channel_view(row)["has_password"] and "secret_sealed" not in admin.channel_view(
        row
    )
    assert open_on_hub(cert.key_pem, row["secret_sealed"], channel) == "S3cret-pass!"
    with pytest.raises(SecretError):
        open_on_hub(cert.key_pem, row["secret_sealed"], "another-channel")
    nstore.db.execute("PRAGMA wal_checkpoint(FULL)")
    for path in data.glob("lsavto.db*"):
        assert b"S3cret-pass!" not in path.read_bytes()
    template = admin.save_template(
        nstore, type="appointment_booked", name="П/З", channel_kind="email",
        subject="Запись", body="{fio}", channel_id=channel, test_address="test@example.ru",
    )  # fmt: skip
    admin.send_test(nstore, template, clock())
    opener = lambda cid, sealed: open_on_hub(cert.key_pem, sealed, cid)  # noqa: E731
    report = Notifier(nstore, clock, AppriseTransport(), open_secret=opener).tick()
    assert report.sent.sent == 1
    assert sink.logins == [("hub@kardinal.example", "S3cret-pass!")]


def test_an_sms_url_with_a_password_in_it_is_refused(nstore: NotifyStore) -> None:
    with pytest.raises(InputError, match="password field"):
        admin.save_channel(
            nstore, kind="sms", name="SMSC", settings={"url": "smsc://login:secret1@{to}"}
        )
    admin.save_channel(
        nstore, kind="sms", name="SMSC", settings={"url": "smsc://login:{password}@{to}"}
    )


def test_lan_messages_call_tasks_and_files(
    tmp_path: Path, nstore: NotifyStore, clock: SettableClock
) -> None:
    adviser = nstore.insert("employees", {"short_name": "Лоскутов А.А."})
    lan = admin.save_channel(nstore, kind="lan", name="LAN")
    admin.save_channel(nstore, kind="phone", name="Телефон")
    folder = tmp_path / "out"
    admin.save_channel(nstore, kind="file", name="Папка", settings={"folder": str(folder)})
    for kind, body in (("lan", "Новая запись: {fio}"), ("phone", "Позвонить: {fio}"),
                       ("file", "{fio}, {datetime}")):  # fmt: skip
        template = admin.save_template(
            nstore, type="appointment_booked", name=kind, channel_kind=kind, body=body,
            channel_id=lan if kind == "lan" else None,
        )  # fmt: skip
        admin.save_rule(nstore, template_id=template)
    party = client(nstore, "Петров Олег", "+7 916 111-22-33")
    draft = AppointmentDraft(party, msk(2026, 12, 4, 10), adviser_id=adviser)
    book_appointment(nstore, draft, clock())
    report = Notifier(nstore, clock, AppriseTransport()).tick()
    assert report.sent.delivered == 3
    (note,) = nstore.lan_messages(adviser)
    assert note["text"] == "Новая запись: Петров Олег"
    admin.mark_lan_read(nstore, note["id"], clock())
    assert nstore.lan_messages(adviser) == []
    (task,) = nstore.tasks_of(adviser)
    assert task["action"] == "call" and task["phone"] == "+79161112233"
    (written,) = folder.iterdir()
    assert written.read_text().endswith("Петров Олег, 04.12.2026 10:00\n")


def test_the_hub_confirms_a_booking_at_once_and_nodes_see_the_journal(
    tmp_path: Path, http_sink: tuple[HttpSink, int]
) -> None:
    sink, port = http_sink
    clock = SettableClock(msk(2026, 12, 3, 12, 0))

    async def scenario() -> None:
        hub = Hub(tmp_path / "hub", notify_clock=clock)
        await hub.start()
        try:
            store = NotifyStore(hub.db, clock)
            install_demo(store, files_dir=tmp_path / "files", sms_port=port)
            party = client(store, "Петров Олег Владимирович", "+7 916 111-22-33")
            book_appointment(store, AppointmentDraft(party, msk(2026, 12, 4, 12, 20)), clock())
            await hub.notifier.tick()
            assert len(sink.requests) == 1
            assert "подтверждена" in sink.requests[0]["body"]["message"]
            clock.set(msk(2026, 12, 3, 20, 0))
            await hub.notifier.tick()
            assert len(sink.requests) == 2
            assert "завтра, 04.12.2026 12:20" in sink.requests[1]["body"]["message"]
            journal = admin.journal(store)
            assert [m["number"] for m in journal] == [2, 1]  # the hub numbers the journal
            assert store.settings()["hub_certificate"].startswith("-----BEGIN CERTIFICATE")
        finally:
            await hub.stop()

    asyncio.run(scenario())
