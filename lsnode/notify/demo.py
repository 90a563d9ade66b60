"""The demo dealership's notifications: the brochure's channels, templates and rules.

``install_demo(store, files_dir=…)`` is what demo generation calls after the client base is
written (idempotent: a store that has channels is left alone). Channels point at local sinks
only — SMS to an HTTP sink on 127.0.0.1:8026, e-mail (off) to 127.0.0.1:8025, files into
``files_dir`` — so a demo never reaches the outside world. Texts are the brochure's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from lsnode.notify import admin
from lsnode.store.notify import NotifyStore

SMTP_PORT: Final = 8025
SMS_PORT: Final = 8026

SETTINGS: Final = {
    "time_zone": "Europe/Moscow",
    "dealer_name": "Кардинал",
    "dealer_address": "пр. Гагарина, 230",
    "dealer_phone": "+7 (495) 123-45-67",
}

DAY_BEFORE: Final = (
    "Здравствуйте, {fio} !\n"
    "Напоминаем, что Вы записаны на сервис завтра, {datetime} по адресу: {address}\n"
    "Автомобиль {car_descr}"
)
BOOKED: Final = (
    "{name} ,\n"
    "ваша запись в сервисный центр {dealer} подтверждена, ваш сервисный консультант {adviser}.\n"
    "Ждем Вас {datetime} по адресу: {address}, тел. {phone}.\n"
    "Об актуальных акциях вы можете уточнить у своего сервисного консультанта."
)
BEFORE_VISIT: Final = (
    "{name}, ждем Вас сегодня в {time} по адресу: {address}. Автомобиль {car_descr}."
)
REPAIR_DONE: Final = (
    "{name}, ремонт автомобиля {car_descr} по заказ-наряду {doc_no} окончен. "
    "Ждем Вас в {dealer}, тел. {phone}."
)
BIRTHDAY: Final = "{name}, {dealer} поздравляет Вас с днём рождения! Ждём Вас, тел. {phone}."
SALE_STATUS: Final = (
    "Здравствуйте, {name}!\n\nСтатус Вашего договора {doc_no} на {car_descr}: {status}.\n"
    "Вопросы — по тел. {phone}.\n\n{dealer}"
)
NEW_BOOKING_LAN: Final = "Новая запись на сервис: {fio}, {datetime}, {car_descr} ({kind})"


def install_demo(
    store: NotifyStore, *, files_dir: Path, sms_port: int = SMS_PORT, smtp_port: int = SMTP_PORT
) -> dict[str, int]:
    """Write the demo's settings, channels, templates and rules; returns rows per table."""
    if store.channels():
        return {}
    for key, value in SETTINGS.items():
        store.set_setting(key, value)
    with store.transaction():
        admin.save_channel(
            store,
            kind="email",
            name="Сообщение по электронной почте",
            enabled=False,
            settings={
                "host": "127.0.0.1",
                "port": smtp_port,
                "security": "none",
                "sender": "service@kardinal.example",
                "sender_name": "Кардинал",
            },
        )
        sms = admin.save_channel(
            store,
            kind="sms",
            name="SMS сообщение",
            enabled=True,
            settings={"url": f"json://127.0.0.1:{sms_port}/sms?:to={{to}}"},
        )
        lan = admin.save_channel(store, kind="lan", name="Внутреннее сообщение по сети")
        admin.save_channel(
            store,
            kind="ftp",
            name="Передача данных по FTP/SFTP",
            enabled=False,
            settings={"host": "127.0.0.1", "port": 2121, "folder": "/lsavto"},
        )
        admin.save_channel(
            store,
            kind="file",
            name="Сохранение в указанную папку",
            settings={"folder": str(files_dir)},
        )
        admin.save_channel(store, kind="phone", name="Информирование по телефону")
        specs: tuple[tuple[str, str, str, str, str, dict[str, object]], ...] = (
            ("appointment_day_before", "ОповещениеПредваритЗапись", "sms", "", DAY_BEFORE,
             {"calc_time": "20:00", "relevance_hours": 1.0}),
            ("appointment_booked", "Подтверждение П/З", "sms", "", BOOKED,
             {"relevance_hours": 1.0}),
            ("appointment_booked", "Новая запись (консультанту)", "lan", "Новая запись",
             NEW_BOOKING_LAN, {"relevance_hours": 4.0, "persons_only": False}),
            ("appointment_before_visit", "Напоминание перед визитом", "sms", "", BEFORE_VISIT,
             {"offset_minutes": 120, "relevance_hours": 1.0}),
            ("repair_status", "Уведомление об окончании ремонта", "sms", "", REPAIR_DONE,
             {"statuses": ["Закрыт"], "relevance_hours": 2.0}),
            ("birthday", "Поздравление с днем рождения", "sms", "", BIRTHDAY,
             {"calc_time": "10:00", "relevance_hours": 4.0}),
            ("sale_status", "Изменение статуса договора", "email",
             "{dealer}: договор {doc_no} — {status}", SALE_STATUS, {"relevance_hours": 24.0}),
        )  # fmt: skip
        for type_, name, kind, subject, body, rule in specs:
            template = admin.save_template(
                store,
                type=type_,
                name=name,
                channel_kind=kind,
                subject=subject,
                body=body,
                channel_id=sms if kind == "sms" else lan if kind == "lan" else None,
            )
            admin.save_rule(store, template_id=template, **rule)  # type: ignore[arg-type]
    return {
        "settings": len(SETTINGS),
        "notify_channels": 6,
        "notify_templates": len(specs),
        "notify_rules": len(specs),
    }
