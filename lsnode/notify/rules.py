"""Rules turn documents and dates into messages: event-driven (⚡) and scheduled (📧).

``generate(store, now)`` asks every enabled rule what is due at ``now`` and queues it through
``outbox.enqueue`` (idempotent: template + document + recipient + occasion). It is safe to run
as often as one likes, after any outage, on any number of hubs' restarts: what was made once is
never made again, and a run whose relevance window has closed makes nothing.

* Event rules look at documents whose status changed within the rule's relevance window
  (``documents.status_at``): an appointment booked → its confirmation (occasion: the booked
  visit time, so a moved visit is confirmed again); a work order's or a car sale's status →
  a notice (once per status).
* Scheduled rules run at their calculation time on the dealer's wall clock (setting
  ``time_zone``): the day-before reminder at 20:00 for tomorrow's appointments, the birthday
  greeting; «right before the visit» runs ``offset_minutes`` ahead of each visit.

Who gets a message: the client from the document («Контрагенты из контекста»), fixed
counterparties of the rule, and — for LAN templates — the document's employee, the rule's
employees and roles. Messages are made only for persons where the rule says so (the brochure:
«Сообщения формируются только для физических лиц»); consent is checked when sending.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lsnode.clock import iso, local_at, parse_hhmm, parse_iso, show, zone
from lsnode.ids import uuid7
from lsnode.notify.catalog import ACTIVE, STATUS_EVENTS, TYPE_BY_CODE, AppointmentStatus
from lsnode.notify.templates import bound_body, clean_subject, render
from lsnode.store.notify import NotifyStore, Row

PHONE_KINDS = ("sms", "phone")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One thing a rule fires for: a document (or a birthday), why, and its window."""

    row: Row
    occasion: str
    not_before: datetime
    expires_at: datetime


@dataclass(slots=True)
class Draft:
    message: dict[str, Any]
    addressees: list[dict[str, Any]]


@dataclass(slots=True)
class GenerateReport:
    created: int = 0
    existing: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def schedule_window(
    now: datetime, tz: ZoneInfo, calc_time: str | None, relevance: timedelta
) -> tuple[date, datetime] | None:
    """The run (local day, its start) whose relevance window holds ``now``, if any."""
    at = parse_hhmm(calc_time or "00:00")
    today = now.astimezone(tz).date()
    for day in (today, today - timedelta(days=1)):
        start = local_at(day, at, tz)
        if start <= now < start + relevance:
            return day, start
    return None


def _local_day_range(day: date, tz: ZoneInfo) -> tuple[str, str]:
    midnight = parse_hhmm("00:00")
    return iso(local_at(day, midnight, tz)), iso(local_at(day + timedelta(days=1), midnight, tz))


def _kind_ok(rule: Row, row: Row) -> bool:
    kinds = _json_list(rule["appointment_kinds"])
    return not kinds or row["appointment_kind"] in kinds


def occurrences(store: NotifyStore, rule: Row, now: datetime, tz: ZoneInfo) -> Iterator[Occurrence]:
    """What ``rule`` fires for at ``now``."""
    event = rule["event"]
    relevance = timedelta(hours=float(rule["relevance_hours"]))
    if event in ("appointment_day_before", "birthday"):
        window = schedule_window(now, tz, rule["calc_time"], relevance)
        if window is None:
            return
        day, start = window
        if event == "birthday":
            month_days = [day.strftime("%m-%d")]
            if month_days == ["02-28"] and not _leap(day.year):
                month_days.append("02-29")
            for row in store.birthdays(month_days):
                yield Occurrence(row, f"birthday:{day.year}", start, start + relevance)
            return
        visit_day = day + timedelta(days=1)
        lo, hi = _local_day_range(visit_day, tz)
        for row in store.visits_between(lo, hi):
            if row["status"] in ACTIVE and _kind_ok(rule, row):
                yield Occurrence(row, f"day_before:{visit_day}", start, start + relevance)
    elif event == "appointment_before_visit":
        ahead = timedelta(minutes=int(rule["offset_minutes"] or 0))
        for row in store.visits_between(iso(now), iso(now + ahead)):
            visit = parse_iso(row["visit_at"])
            start = visit - ahead
            end = min(start + relevance, visit)
            if row["status"] in ACTIVE and _kind_ok(rule, row) and start <= now < end:
                yield Occurrence(row, f"before_visit:{row['visit_at']}", start, end)
    elif event == "appointment_booked":
        for row in store.status_changes_since(iso(now - relevance), ("appointment",)):
            if row["status"] != AppointmentStatus.BOOKED or not row["visit_at"]:
                continue
            start = parse_iso(row["status_at"])
            end = min(start + relevance, parse_iso(row["visit_at"]))
            if now < end and _kind_ok(rule, row):
                yield Occurrence(row, f"booked:{row['visit_at']}", start, end)
    elif event in STATUS_EVENTS:
        wanted = set(_json_list(rule["statuses"]))
        for row in store.status_changes_since(iso(now - relevance), STATUS_EVENTS[event]):
            if not row["status"] or (wanted and row["status"] not in wanted):
                continue
            start = parse_iso(row["status_at"])
            if now < start + relevance:
                yield Occurrence(row, f"status:{row['status']}", start, start + relevance)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def values_of(
    row: Mapping[str, Any], settings: Mapping[str, str], tz: ZoneInfo, client_phone: str = ""
) -> dict[str, str]:
    """The placeholder values for one document/client row."""
    if row.get("party_kind") == "company":
        name = row.get("full_name") or ""
    else:
        name = " ".join(p for p in (row.get("given_name"), row.get("patronymic")) if p)
        name = name or row.get("full_name") or ""
    car = " ".join(p for p in (row.get("make"), row.get("model"), row.get("modification")) if p)
    car_descr = ", ".join(p for p in (car, row.get("plate") or "") if p)
    visit = row.get("visit_at")
    return {
        "fio": row.get("full_name") or "",
        "name": name,
        "datetime": show(visit, tz) if visit else "",
        "date": show(visit, tz, "%d.%m.%Y") if visit else "",
        "time": show(visit, tz, "%H:%M") if visit else "",
        "car_descr": car_descr,
        "plate": row.get("plate") or "",
        "vin": row.get("vin") or "",
        "adviser": row.get("adviser") or "",
        "address": settings.get("dealer_address", ""),
        "phone": settings.get("dealer_phone", ""),
        "dealer": settings.get("dealer_name", ""),
        "client_phone": client_phone,
        "doc_no": row.get("doc_no") or "",
        "status": row.get("status") or "",
        "kind": row.get("appointment_kind") or "",
    }


def idem_key(template_id: str, document_id: str | None, recipient: str, occasion: str) -> str:
    return f"{template_id}|{document_id or '-'}|{recipient}|{occasion}"


def drafts_for(
    store: NotifyStore,
    rule: Row,
    template: Row,
    found: list[Occurrence],
    settings: Mapping[str, str],
    tz: ZoneInfo,
) -> list[Draft]:
    """The messages (one per recipient) for ``found`` occurrences of ``rule``."""
    kind = template["channel_kind"]
    extra_parties = _json_list(rule["counterparty_ids"])
    party_ids = [o.row["counterparty_id"] for o in found if o.row["counterparty_id"]]
    addresses = store.addresses_of([*party_ids, *extra_parties]) if kind != "lan" else {}
    fixed = [store.counterparty(i) for i in extra_parties]
    staff = store.employees(_json_list(rule["employee_ids"]), _json_list(rule["roles"]))
    persons_only = bool(rule["persons_only"])
    settings = dict(settings)
    if not settings.get("dealer_address"):
        settings["dealer_address"] = store.first_branch_address()
    planned: list[tuple[Occurrence, list[tuple[str, str | None, str, str, str]]]] = []
    for occ in found:
        row = occ.row
        if persons_only and row["counterparty_id"] and row["party_kind"] != "person":
            continue
        recipients: list[tuple[str, str | None, str, str]] = []  # kind, id, name, address
        if kind == "lan":
            if rule["to_client"] and row["employee_id"]:
                recipients.append(("employee", row["employee_id"], row["adviser"] or "", ""))
            recipients += [("employee", e["id"], e["short_name"], "") for e in staff]
        else:
            parties = []
            if rule["to_client"] and row["counterparty_id"]:
                parties.append((row["counterparty_id"], row["full_name"] or ""))
            parties += [(p["id"], p["full_name"]) for p in fixed if p is not None]
            for pid, pname in parties:
                have = addresses.get(pid, {})
                address = have.get("phone" if kind in PHONE_KINDS else "email", "")
                if kind in ("file", "ftp"):
                    address = have.get("email") or have.get("phone") or ""
                recipients.append(("counterparty", pid, pname, address))
        keyed = [
            (*r, idem_key(template["id"], row["document_id"], f"{r[0]}:{r[1]}", occ.occasion))
            for r in recipients
        ]
        planned.append((occ, keyed))
    # Rendering is the costly part: only for keys not queued yet (a rule runs every tick).
    done = store.existing_keys([k[4] for _, keyed in planned for k in keyed])
    out: list[Draft] = []
    for occ, keyed in planned:
        fresh = [k for k in keyed if k[4] not in done]
        if not fresh:
            continue
        row = occ.row
        phone = addresses.get(row["counterparty_id"] or "", {}).get("phone", "")
        values = values_of(row, settings, tz, phone)
        subject = clean_subject(render(template["subject"], values).text)
        text = bound_body(render(template["body"], values).text, kind)
        for rkind, rid, rname, address, key in fresh:
            if key in done:
                continue
            done.add(key)
            message_id = uuid7()
            out.append(
                Draft(
                    {
                        "id": message_id,
                        "category": template["category"],
                        "type": template["type"],
                        "template_id": template["id"],
                        "rule_id": rule["id"],
                        "document_id": row["document_id"],
                        "counterparty_id": row["counterparty_id"],
                        "occasion": occ.occasion,
                        "subject": subject,
                        "text": text,
                        "idem_key": key,
                    },
                    [
                        {
                            "message_id": message_id,
                            "recipient_kind": rkind,
                            "recipient_id": rid,
                            "recipient": rname,
                            "channel_kind": kind,
                            "channel_id": template["channel_id"],
                            "address": address,
                            "status": "pending",
                            "not_before": iso(occ.not_before),
                            "expires_at": iso(occ.expires_at),
                            "next_attempt_at": iso(occ.not_before),
                        }
                    ],
                )
            )
    return out


def generate(store: NotifyStore, now: datetime) -> GenerateReport:
    """Queue every message that enabled rules make at ``now`` (see the module docstring)."""
    from lsnode.notify.outbox import enqueue

    settings = store.settings()
    tz = zone(settings.get("time_zone"))
    templates = {t["id"]: t for t in store.templates()}
    report = GenerateReport()
    for rule in store.rules():
        template = templates.get(rule["template_id"])
        mtype = TYPE_BY_CODE.get(rule["event"])
        if not rule["enabled"] or template is None or not template["enabled"]:
            continue
        if mtype is None or not mtype.built:
            continue
        found = list(occurrences(store, rule, now, tz))
        if not found:
            continue
        drafts = drafts_for(store, rule, template, found, settings, tz)
        created, existing = enqueue(store, drafts)
        report.created += created
        report.existing += existing
        if created:
            report.by_rule[rule["id"]] = created
    return report
