"""The service appointment (Предварительная запись) and document status changes.

An appointment is a document of type ``appointment`` (so traffic attaches to it by
``documents.id``, like to any document): client, car, the adviser (``employee_id``,
«Консультант»), the visit's date-time (``visit_at``, UTC), its kind (Вид предв.записи) and a
status from ``catalog.AppointmentStatus``. Every status change stamps ``status_at``: event
rules fire on it (booked → confirmation; a work order's or a sale's status → notice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lsnode.clock import as_utc, iso
from lsnode.errors import InputError, NotFound
from lsnode.notify.catalog import AppointmentStatus, check_transition
from lsnode.store.notify import NotifyStore, Row

MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class AppointmentDraft:
    counterparty_id: str
    visit_at: datetime  # aware; stored in UTC
    car_id: str | None = None
    adviser_id: str | None = None
    kind: str = ""  # «ТО», «Диагностика», «Ремонт» …
    note: str = ""
    doc_no: str = ""


def _visit(draft_visit: datetime, now: datetime) -> str:
    visit = as_utc(draft_visit)
    if visit <= as_utc(now):
        raise InputError("the visit must be later than now")
    return iso(visit)


def book_appointment(store: NotifyStore, draft: AppointmentDraft, now: datetime) -> str:
    """Create an appointment (status «booked»); returns its document id."""
    if store.counterparty(draft.counterparty_id) is None:
        raise NotFound(f"no client {draft.counterparty_id}")
    if len(draft.note) > MAX_NOTE or len(draft.kind) > 100:
        raise InputError("the note or the kind is too long")
    stamp = iso(now)
    return store.insert(
        "documents",
        {
            "doc_no": draft.doc_no,
            "doc_type": "appointment",
            "business_line": "service",
            "doc_date": stamp[:10],
            "status": AppointmentStatus.BOOKED.value,
            "status_at": stamp,
            "is_open": 1,
            "employee_id": draft.adviser_id,
            "counterparty_id": draft.counterparty_id,
            "car_id": draft.car_id,
            "note": draft.note.strip(),
            "visit_at": _visit(draft.visit_at, now),
            "appointment_kind": " ".join(draft.kind.split()),
        },
    )


def _appointment(store: NotifyStore, document_id: str) -> Row:
    doc = store.document(document_id)
    if doc is None or doc["doc_type"] != "appointment":
        raise NotFound(f"no appointment {document_id}")
    return doc


def reschedule_appointment(
    store: NotifyStore, document_id: str, visit_at: datetime, now: datetime
) -> None:
    """Move the visit: the appointment is booked again (and confirmed again)."""
    doc = _appointment(store, document_id)
    check_transition(doc["status"], AppointmentStatus.BOOKED)
    store.update(
        "documents",
        document_id,
        {
            "visit_at": _visit(visit_at, now),
            "status": AppointmentStatus.BOOKED.value,
            "status_at": iso(now),
            "is_open": 1,
        },
    )


def edit_appointment(
    store: NotifyStore, document_id: str, draft: AppointmentDraft, now: datetime
) -> bool:
    """Change an appointment's car, adviser, kind and note, and move its visit if the draft's
    differs (then it is booked and confirmed again, as ``reschedule_appointment``). The client
    stays: another client is another appointment. True when the visit moved."""
    doc = _appointment(store, document_id)
    if draft.counterparty_id != doc["counterparty_id"]:
        raise InputError("an appointment's client cannot change: book a new appointment")
    if len(draft.note) > MAX_NOTE or len(draft.kind) > 100:
        raise InputError("the note or the kind is too long")
    moved = bool(iso(as_utc(draft.visit_at)) != doc["visit_at"])
    with store.transaction():
        changes = {
            "car_id": draft.car_id,
            "employee_id": draft.adviser_id,
            "appointment_kind": " ".join(draft.kind.split()),
            "note": draft.note.strip(),
        }
        if any(doc[k] != v for k, v in changes.items()):
            store.update("documents", document_id, changes)
        if moved:
            reschedule_appointment(store, document_id, draft.visit_at, now)
    return moved


def set_appointment_status(
    store: NotifyStore, document_id: str, status: str, now: datetime
) -> None:
    doc = _appointment(store, document_id)
    new = check_transition(doc["status"], status)
    closed = new in (AppointmentStatus.DONE, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
    store.update(
        "documents",
        document_id,
        {"status": new.value, "status_at": iso(now), "is_open": 0 if closed else 1},
    )


def set_document_status(
    store: NotifyStore, document_id: str, status: str, now: datetime, is_open: bool | None = None
) -> None:
    """A work order's or a sale's status as the DMS names it («Закрыт», «Выдан» …)."""
    doc = store.document(document_id)
    if doc is None:
        raise NotFound(f"no document {document_id}")
    if doc["doc_type"] == "appointment":
        set_appointment_status(store, document_id, status, now)
        return
    status = " ".join(status.split())
    if not status or len(status) > 100:
        raise InputError("a status is 1–100 characters")
    changes: dict[str, object] = {"status": status, "status_at": iso(now)}
    if is_open is not None:
        changes["is_open"] = int(is_open)
    if doc["status"] != status or is_open is not None:
        store.update("documents", document_id, changes)
