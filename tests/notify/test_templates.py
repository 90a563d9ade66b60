"""Placeholders with Cyrillic, missing values and malicious input; SMS length and segments."""

from __future__ import annotations

import pytest

from lsnode.clock import SettableClock
from lsnode.errors import InputError
from lsnode.notify import admin
from lsnode.notify.appointments import AppointmentDraft, book_appointment
from lsnode.notify.channels import AppriseTransport, safe_filename
from lsnode.notify.service import Notifier
from lsnode.notify.templates import (
    MAX_BODY,
    MAX_SMS_SEGMENTS,
    MAX_VALUE,
    bound_body,
    check_template,
    clean_subject,
    render,
    sms_stats,
)
from lsnode.store.notify import NotifyStore
from tests.notify.conftest import SmtpSink, client, email_channel, msk


def test_cyrillic_values_and_escaped_braces() -> None:
    out = render("Здравствуйте, {fio}! {{скобки}} {datetime}", {"fio": "Иванов Иван Иванович"})
    assert out.text == "Здравствуйте, Иванов Иван Иванович! {скобки} "
    assert out.missing == ("datetime",)
    marked = render("Автомобиль {car_descr}", {}, mark_missing=True)
    assert marked.text == "Автомобиль ⟨car_descr?⟩"


def test_no_format_string_tricks() -> None:
    values = {"fio": "Иван", "name": "{fio}"}
    out = render("{fio.__class__} {0} {fio!r} {fio:>20} {name}", values)
    assert out.text == "{fio.__class__} {0} {fio!r} {fio:>20} {fio}"  # a value is never re-read
    assert set(out.unknown) == {"fio.__class__", "0", "fio!r", "fio:>20"}
    with pytest.raises(InputError, match="unknown placeholder"):
        check_template("Привет, {fio.__globals__}")
    with pytest.raises(InputError, match="too long"):
        check_template("я" * 50_000)


def test_values_are_one_line_and_bounded() -> None:
    out = render("{fio}", {"fio": "Иванов\r\nBcc: evil@example.com\x00" + "я" * 5000})
    assert "\n" not in out.text and "\r" not in out.text and "\x00" not in out.text
    assert len(out.text) <= MAX_VALUE


def test_subjects_cannot_inject_headers() -> None:
    assert clean_subject("Запись\r\nBcc: evil@example.com") == "Запись Bcc: evil@example.com"
    assert clean_subject("a\u2028b\x85c") == "a b c"
    assert len(clean_subject("я" * 1000)) == 200


def test_huge_bodies_are_bounded() -> None:
    assert len(bound_body("я" * 100_000, "email")) == MAX_BODY
    sms = bound_body("я" * 100_000, "sms")
    assert sms.endswith("…") and sms_stats(sms).segments == MAX_SMS_SEGMENTS


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "per_segment"),
    [
        ("", "gsm7", 0, 160),
        ("a" * 160, "gsm7", 1, 160),
        ("a" * 161, "gsm7", 2, 153),
        ("€" * 80, "gsm7", 1, 160),  # an extension character counts twice
        ("€" * 81, "gsm7", 2, 153),
        ("Я" * 70, "ucs2", 1, 70),  # Cyrillic: 70 in one SMS
        ("Я" * 71, "ucs2", 2, 67),  # then 67 per part
        ("Я" * 134, "ucs2", 2, 67),
        ("Я" * 135, "ucs2", 3, 67),
        ("a" * 60 + "ж", "ucs2", 1, 70),  # one Cyrillic letter switches the whole text
    ],
)
def test_sms_segments(text: str, encoding: str, segments: int, per_segment: int) -> None:
    stats = sms_stats(text)
    assert (stats.encoding, stats.segments, stats.per_segment) == (encoding, segments, per_segment)


def test_safe_file_names() -> None:
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename("Иванов Иван / ООО «Ромашка»") == "Иванов_Иван_ООО_Ромашка"
    assert safe_filename("...") == "message"
    assert len(safe_filename("я" * 500)) <= 60


def test_preview_on_real_data_marks_missing_values(
    nstore: NotifyStore, clock: SettableClock
) -> None:
    party = client(nstore, "Петров Олег Владимирович", "+7 916 111-22-33")
    doc = book_appointment(nstore, AppointmentDraft(party, msk(2026, 12, 4, 12, 20)), clock())
    shown = admin.preview(
        nstore, body="{name}, ждём Вас {datetime}. Автомобиль {car_descr}", document_id=doc
    )
    assert shown.text == "Олег Владимирович, ждём Вас 04.12.2026 12:20. Автомобиль ⟨car_descr?⟩"
    assert shown.missing == ("car_descr",)
    assert shown.sms is not None and shown.sms.encoding == "ucs2"
    assert (shown.sms.units, shown.sms.segments, shown.sms.left) == (69, 1, 1)


def test_a_malicious_name_reaches_smtp_as_one_subject_and_one_recipient(
    nstore: NotifyStore, clock: SettableClock, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    template = admin.save_template(
        nstore,
        type="appointment_booked",
        name="Подтверждение",
        channel_kind="email",
        subject="Запись: {fio}",
        body="{fio}\n" + "Текст. " * 10,
        channel_id=email_channel(nstore, port),
    )
    admin.save_rule(nstore, template_id=template)
    party = client(nstore, "Петров Олег", email="oleg@example.ru")
    nstore.update("counterparties", party, {"full_name": "Петров\r\nBcc: evil@example.com"})
    book_appointment(nstore, AppointmentDraft(party, msk(2026, 12, 4, 10)), clock())
    Notifier(nstore, clock, AppriseTransport()).tick()
    ((rcpts, msg),) = sink.messages
    assert rcpts == ["oleg@example.ru"]
    assert msg["Bcc"] is None
    assert str(msg["Subject"]) == "Запись: Петров Bcc: evil@example.com"
    assert "Текст." in msg.get_body().get_content()  # type: ignore[union-attr]
