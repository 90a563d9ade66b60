"""Contact purposes (Цели контактов): the brochure's default set and their administration.

A purpose says which department a contact belongs to, its direction (incoming →, outgoing ←),
what the registration form must insist on (make/model, region), after how many days an
unprocessed contact is ignored automatically, and who is responsible for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from lsnode.crm.staff import Right, Session
from lsnode.errors import InputError, NotFound
from lsnode.store.ports import Row, RowWriter, StaffReader
from lsnode.store.schema import DEPARTMENTS, DIRECTIONS


@dataclass(frozen=True, slots=True)
class PurposeDraft:
    department: str
    direction: str
    full_name: str
    short_name: str = ""
    code: int | None = None
    enabled: bool = True
    require_car: bool = False
    require_region: bool = False
    auto_ignore_days: int | None = None
    employee_ids: Sequence[str] = ()


#: The brochure's default set with its visible codes (what a new dealership starts with).
DEFAULTS: Final = (
    PurposeDraft("service", "in", "Ремонт автомобиля", "Ремонт", 2),
    PurposeDraft("service", "out", "Подтверждение записи на сервис", "Подтв. записи", 11),
    PurposeDraft("service", "out", "Послесервисное анкетирование", "Анкетирование", 7),
    # «Рабочий контакт»: what a call made from a card («Набрать») is logged as (lsnode.voice)
    PurposeDraft("service", "out", "Рабочий контакт (сервис)", "Рабочий (сервис)", 15),
    PurposeDraft("shop", "in", "Покупка запасных частей", "Запчасти", 21),
    PurposeDraft("shop", "out", "Рабочий контакт (магазин)", "Рабочий (магазин)", 17),
    PurposeDraft(
        "salon", "in", "Покупка нового автомобиля", "Новый а/м", 1,
        require_car=True, auto_ignore_days=7,
    ),
    PurposeDraft("salon", "in", "Покупка автомобиля с пробегом", "А/м с пробегом", 22),
    PurposeDraft("salon", "in", "Продажа автомобиля (выкуп)", "Выкуп", 24),
    PurposeDraft("salon", "in", "Кредитование/Страхование", "Страхование", 102),
    PurposeDraft("salon", "out", "Обзвон после проведенного тест-драйва", "После тест-драйва", 107),
    PurposeDraft("salon", "out", "Поздравление с Днем Рождения", "День рождения", 106),
    PurposeDraft("salon", "out", "Холодный обзвон (салон)", "Холодный обзвон", 8),
    PurposeDraft("salon", "out", "Рабочий контакт (салон)", "Рабочий (салон)", 14),
    PurposeDraft("feedback", "in", "Отзыв/претензия", "Отзыв/претензия", 31),
    PurposeDraft("other", "in", "Прочее", "Прочее", 32),
)  # fmt: skip


def _values(draft: PurposeDraft, staff: StaffReader) -> dict[str, Any]:
    if draft.department not in DEPARTMENTS:
        raise InputError(f"department must be one of {', '.join(DEPARTMENTS)}")
    if draft.direction not in DIRECTIONS:
        raise InputError("direction must be in (→) or out (←)")
    full = " ".join(draft.full_name.split())
    if not full or len(full) > 200:
        raise InputError("the purpose's full name is required (at most 200 characters)")
    short = " ".join(draft.short_name.split()) or full[:40]
    if len(short) > 60:
        raise InputError("the short name: at most 60 characters")
    if draft.code is not None and not 0 < draft.code < 100_000:
        raise InputError("the purpose's ID is a number from 1 to 99999")
    days = draft.auto_ignore_days
    if days is not None and not 1 <= days <= 365:
        raise InputError("days until auto-ignore: 1 to 365, or empty for never")
    for emp in draft.employee_ids:
        if staff.employee(emp) is None:
            raise NotFound(f"no employee {emp}")
    return {
        "code": draft.code,
        "department": draft.department,
        "direction": draft.direction,
        "full_name": full,
        "short_name": short,
        "enabled": int(draft.enabled),
        "require_car": int(draft.require_car),
        "require_region": int(draft.require_region),
        "auto_ignore_days": days,
        "employee_ids": json.dumps(list(dict.fromkeys(draft.employee_ids))),
    }


def _code_free(staff: StaffReader, code: int | None, own_id: str | None) -> None:
    if code is None:
        return
    for p in staff.purposes(include_disabled=True):
        if p["code"] == code and p["id"] != own_id:
            raise InputError(f"ID {code} is already «{p['full_name']}»")


def save_purpose(
    writer: RowWriter,
    staff: StaffReader,
    draft: PurposeDraft,
    session: Session | None,
    purpose_id: str | None = None,
) -> str:
    """Create (``purpose_id`` None) or change a purpose; needs the «Цели контактов» right."""
    if session is not None:
        session.require(Right.ADMIN_PURPOSES)
    values = _values(draft, staff)
    _code_free(staff, draft.code, purpose_id)
    if purpose_id is None:
        return writer.insert("contact_purposes", values)
    if staff.purpose(purpose_id) is None:
        raise NotFound(f"no contact purpose {purpose_id}")
    writer.update("contact_purposes", purpose_id, values)
    return purpose_id


def draft_of(row: Row) -> PurposeDraft:
    return PurposeDraft(
        department=row["department"],
        direction=row["direction"],
        full_name=row["full_name"],
        short_name=row["short_name"],
        code=row["code"],
        enabled=bool(row["enabled"]),
        require_car=bool(row["require_car"]),
        require_region=bool(row["require_region"]),
        auto_ignore_days=row["auto_ignore_days"],
        employee_ids=tuple(json.loads(row["employee_ids"] or "[]")),
    )


def install_defaults(writer: RowWriter, staff: StaffReader) -> int:
    """The default set for a store that has no purposes yet; returns how many were added."""
    if staff.purposes(include_disabled=True):
        return 0
    with writer.transaction():
        for draft in DEFAULTS:
            writer.insert("contact_purposes", _values(draft, staff))
    return len(DEFAULTS)


def responsible_for(purpose: Row, staff: StaffReader) -> list[Row]:
    """The purpose's responsible employees (all of its department's if none are named)."""
    named = json.loads(purpose["employee_ids"] or "[]")
    everyone = staff.employees()
    if named:
        by_id = {e["id"]: e for e in everyone}
        return [by_id[i] for i in named if i in by_id]
    return [e for e in everyone if purpose["department"] in json.loads(e["departments"] or "[]")]
