"""What the notification mechanism knows by name: message types, placeholders, appointment states.

The message types are the brochure's «Типы оповещений», grouped by category (Сервис, Салон
продаж, Склад, CRM, Общее) and marked event-driven (⚡, fires when a document changes) or
scheduled (📧, runs at a calculation time). Codes are stored; the Russian names live here only as
the brochure's reference (``brochure``), the UI's catalogue translates the codes.

The service appointment (Предварительная запись) is a state machine as data: ``TRANSITIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from lsnode.errors import InputError


class Trigger(StrEnum):
    EVENT = "event"  # ⚡
    SCHEDULE = "schedule"  # 📧


@dataclass(frozen=True, slots=True)
class MessageType:
    code: str
    category: str  # NOTIFY_CATEGORIES
    trigger: Trigger
    brochure: str  # the brochure's name, for reference and the UI's catalogue
    built: bool = False  # a generator exists (lsnode.notify.rules); others are listed only


_E, _S = Trigger.EVENT, Trigger.SCHEDULE

TYPES: Final[tuple[MessageType, ...]] = (
    MessageType("work_orders_report", "service", _S, 'Оповещение на базе отчета "Реестр заказ-нарядов"'),  # noqa: E501
    MessageType("repair_due", "service", _S, "Приближение срока окончания ремонта"),
    MessageType("appointments_report", "service", _S, "Оповещение на базе журнала предварительной записи"),  # noqa: E501
    MessageType("shipment_event", "salon", _E, "Уведомления об отгрузках (по событию)"),
    MessageType("sale_status", "salon", _E, "Изменение статуса документа продажи автомобиля", True),
    MessageType("shipment_schedule", "salon", _S, "Уведомления об отгрузках (по расписанию)"),
    MessageType("handover_due", "salon", _S, "Приближение срока выдачи автомобиля"),
    MessageType("free_stock_export", "salon", _S, "Выгрузка свободного стока дистрибьютора"),
    MessageType("parts_arrived", "warehouse", _E, "Резервирование деталей при поступлении на склад"),  # noqa: E501
    MessageType("reserves_report", "warehouse", _S, 'Оповещения на базе отчета "Текущие резервы"'),
    MessageType("demand_report", "warehouse", _S, 'Оповещение на базе отчета "Текущая потребность"'),  # noqa: E501
    MessageType("stock_report", "warehouse", _S, 'Оповещения на базе отчета "Текущие остатки запасов на складах"'),  # noqa: E501
    MessageType("stock_at_date_report", "warehouse", _S, 'Оповещения на базе отчета "Текущие остатки на указанную дату"'),  # noqa: E501
    MessageType("issues_report", "warehouse", _S, 'Оповещения на базе отчета "Расход со склада"'),
    MessageType("appointment_day_before", "crm", _S, "Напоминание о записи на сервис накануне визита", True),  # noqa: E501
    MessageType("appointment_booked", "crm", _E, "Напоминание о записи на сервис в момент записи", True),  # noqa: E501
    MessageType("repair_status", "crm", _E, "Уведомление о состоянии ремонта", True),
    MessageType("birthday", "crm", _S, "Поздравление с днем рождения", True),
    MessageType("appointment_before_visit", "crm", _S, "Напоминание о записи на сервис непосредственно перед визитом", True),  # noqa: E501
    MessageType("access_requests", "general", _S, "Информация о необработанных заявках на права и сеансы пользователей"),  # noqa: E501
    MessageType("counterparties_report", "general", _S, "Оповещения на базе отчета по контрагентам"),  # noqa: E501
)  # fmt: skip

TYPE_BY_CODE: Final[dict[str, MessageType]] = {t.code: t for t in TYPES}


def message_type(code: str) -> MessageType:
    try:
        return TYPE_BY_CODE[code]
    except KeyError:
        raise InputError(f"unknown message type {code!r}") from None


#: Placeholders a template may use, with what each stands for. ``{{`` and ``}}`` are braces.
PLACEHOLDERS: Final[dict[str, str]] = {
    "fio": "the client's full name «Иванов Василий Алибабаевич» (a company: its name)",
    "name": "how the client is addressed: «Василий Алибабаевич» (a company: its name)",
    "datetime": "the visit's date and time «20.12.2017 12:20», the dealer's time zone",
    "date": "the visit's date «20.12.2017»",
    "time": "the visit's time «12:20»",
    "car_descr": "the car «Mercedes-Benz C 220 CDI, Н542ВУ75»",
    "plate": "the car's plate",
    "vin": "the car's VIN",
    "adviser": "the adviser or the document's employee «Лоскутов А.А.»",
    "address": "the dealer's address (setting), else the branch's",
    "phone": "the dealer's phone (setting)",
    "dealer": "the dealer's name (setting)",
    "client_phone": "the client's phone",
    "doc_no": "the document's number «ЗН 14029»",
    "status": "the document's status",
    "kind": "the appointment's kind (Вид предв.записи)",
}


class AppointmentStatus(StrEnum):
    BOOKED = "booked"  # Записан: the confirmation goes out
    CONFIRMED = "confirmed"  # the client confirmed (call, reply)
    ARRIVED = "arrived"  # the client came
    DONE = "done"  # the visit became a work order or ended
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"  # Не явился


_A = AppointmentStatus
TRANSITIONS: Final[dict[AppointmentStatus, frozenset[AppointmentStatus]]] = {
    _A.BOOKED: frozenset({_A.BOOKED, _A.CONFIRMED, _A.ARRIVED, _A.CANCELLED, _A.NO_SHOW}),
    _A.CONFIRMED: frozenset({_A.BOOKED, _A.ARRIVED, _A.CANCELLED, _A.NO_SHOW}),
    _A.ARRIVED: frozenset({_A.DONE}),
    _A.DONE: frozenset(),
    _A.CANCELLED: frozenset({_A.BOOKED}),  # booked again
    _A.NO_SHOW: frozenset({_A.BOOKED}),
}
#: Appointments in these states are still going to happen: reminders go out for them.
ACTIVE: Final = frozenset({_A.BOOKED, _A.CONFIRMED})


class TransitionError(InputError):
    """An appointment cannot go from its status to the one asked for."""


def check_transition(current: str, wanted: str) -> AppointmentStatus:
    try:
        now, new = AppointmentStatus(current), AppointmentStatus(wanted)
    except ValueError:
        raise TransitionError(f"unknown appointment status {wanted!r} (or {current!r})") from None
    if new not in TRANSITIONS[now]:
        raise TransitionError(f"an appointment that is {now.value} cannot become {new.value}")
    return new


#: Document types whose status changes fire which event type.
STATUS_EVENTS: Final[dict[str, tuple[str, ...]]] = {
    "repair_status": ("work_order", "pre_order"),
    "sale_status": ("car_sale",),
}

#: The consent column a channel needs from a counterparty (SPEC §0: Рассылка СМС / Email).
CONSENT_OF_CHANNEL: Final[dict[str, str]] = {"sms": "consent_sms", "email": "consent_email"}
