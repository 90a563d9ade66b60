"""What the screens and the CLI call: channels, templates, rules, preview, test send, journal.

No view-model here (the UI builds its own on top): plain functions taking the store port and,
where time matters, ``now``. Channel passwords are sealed by the caller's ``seal`` function
(``sealing.seal_for_hub`` with the hub's certificate) and never returned: a channel row comes
back with ``has_password`` instead of its secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lsnode.clock import iso, parse_hhmm, zone
from lsnode.errors import InputError, NotFound
from lsnode.ids import uuid7
from lsnode.notify.catalog import TYPE_BY_CODE, Trigger, message_type
from lsnode.notify.channels import check_settings
from lsnode.notify.outbox import enqueue
from lsnode.notify.rules import Draft, values_of
from lsnode.notify.templates import (
    SmsStats,
    bound_body,
    check_template,
    clean_subject,
    render,
    sms_stats,
)
from lsnode.store.notify import NotifyStore, Row
from lsnode.store.schema import CHANNEL_KINDS, NOTIFY_CATEGORIES

#: ``seal(password, channel_id) -> sealed text`` (see ``sealing.seal_for_hub``).
Sealer = Callable[[str, str], str]


# -- channels --------------------------------------------------------------------------------


def channel_view(row: Row) -> dict[str, Any]:
    """A channel as a screen shows it: settings as a dict, no secret."""
    out = {k: v for k, v in row.items() if k != "secret_sealed"}
    out["settings"] = NotifyStore.loads(row["settings"])
    out["enabled"] = bool(row["enabled"])
    out["has_password"] = bool(row["secret_sealed"])
    return out


def list_channels(store: NotifyStore) -> list[dict[str, Any]]:
    return [channel_view(r) for r in store.channels()]


def save_channel(
    store: NotifyStore,
    *,
    kind: str,
    name: str,
    channel_id: str | None = None,
    enabled: bool | None = None,
    settings: Mapping[str, Any] | None = None,
    password: str | None = None,
    seal: Sealer | None = None,
) -> str:
    """Create or change a channel. ``password``: None keeps it, "" removes it."""
    if kind not in CHANNEL_KINDS:
        raise InputError(f"unknown channel kind {kind!r}: one of {', '.join(CHANNEL_KINDS)}")
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise InputError("a channel's name is 1–200 characters")
    current = store.channel(channel_id) if channel_id else None
    if channel_id and current is None:
        raise NotFound(f"no channel {channel_id}")
    if current is not None and current["kind"] != kind:
        raise InputError("a channel's kind cannot change: make a new channel")
    merged = NotifyStore.loads(current["settings"]) if current else {}
    merged.update(settings or {})
    values: dict[str, Any] = {
        "kind": kind,
        "name": name,
        "settings": NotifyStore.dumps(check_settings(kind, merged)),
    }
    if enabled is not None:
        values["enabled"] = int(enabled)
    row_id = channel_id or uuid7()
    if password is not None:
        if password == "":
            values["secret_sealed"] = None
        elif seal is None:
            raise InputError("no hub key to seal the password with on this machine")
        else:
            values["secret_sealed"] = seal(password, row_id)
    if current is None:
        return store.insert("notify_channels", {"id": row_id, **values})
    store.update("notify_channels", row_id, values)
    return row_id


def set_channel_enabled(store: NotifyStore, channel_id: str, enabled: bool) -> None:
    store.require(store.channel(channel_id), "channel")
    store.update("notify_channels", channel_id, {"enabled": int(enabled)})


# -- templates and rules ---------------------------------------------------------------------


def save_template(
    store: NotifyStore,
    *,
    type: str,
    name: str,
    channel_kind: str,
    body: str,
    subject: str = "",
    template_id: str | None = None,
    enabled: bool = True,
    channel_id: str | None = None,
    test_address: str = "",
) -> str:
    mtype = message_type(type)
    if mtype.category not in NOTIFY_CATEGORIES:  # pragma: no cover - the catalogue's own check
        raise InputError(f"bad category {mtype.category}")
    if channel_kind not in CHANNEL_KINDS:
        raise InputError(f"unknown channel kind {channel_kind!r}")
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise InputError("a template's name is 1–200 characters")
    if channel_id is not None:
        channel = store.require(store.channel(channel_id), "channel")
        if channel["kind"] != channel_kind:
            raise InputError("the template's channel is of another kind")
    values = {
        "category": mtype.category,
        "type": mtype.code,
        "name": name,
        "enabled": int(enabled),
        "channel_kind": channel_kind,
        "channel_id": channel_id,
        "subject": clean_subject(check_template(subject, "subject")),
        "body": check_template(body, "text"),
        "test_address": test_address.strip()[:200],
    }
    if template_id is None:
        return store.insert("notify_templates", values)
    store.require(store.template(template_id), "template")
    store.update("notify_templates", template_id, values)
    return template_id


def save_rule(
    store: NotifyStore,
    *,
    template_id: str,
    rule_id: str | None = None,
    event: str | None = None,
    enabled: bool = True,
    calc_time: str | None = None,
    offset_minutes: int = 0,
    relevance_hours: float = 1.0,
    appointment_kinds: Sequence[str] = (),
    statuses: Sequence[str] = (),
    persons_only: bool = True,
    to_client: bool = True,
    employee_ids: Sequence[str] = (),
    roles: Sequence[str] = (),
    counterparty_ids: Sequence[str] = (),
) -> str:
    """A rule of a template; its event defaults to the template's type."""
    template = store.require(store.template(template_id), "template")
    mtype = message_type(event or template["type"])
    if mtype.trigger is Trigger.SCHEDULE and mtype.code != "appointment_before_visit":
        parse_hhmm(calc_time or "")
    if not 0 < relevance_hours <= 24 * 14:
        raise InputError("relevance is more than 0 and at most 336 hours")
    if not 0 <= offset_minutes <= 7 * 24 * 60:
        raise InputError("the offset is 0 to 10080 minutes")
    values = {
        "template_id": template_id,
        "trigger": mtype.trigger.value,
        "event": mtype.code,
        "enabled": int(enabled),
        "calc_time": calc_time,
        "offset_minutes": int(offset_minutes),
        "relevance_hours": float(relevance_hours),
        "appointment_kinds": json.dumps(list(appointment_kinds), ensure_ascii=False),
        "statuses": json.dumps(list(statuses), ensure_ascii=False),
        "persons_only": int(persons_only),
        "to_client": int(to_client),
        "employee_ids": json.dumps(list(employee_ids)),
        "roles": json.dumps(list(roles)),
        "counterparty_ids": json.dumps(list(counterparty_ids)),
    }
    if rule_id is None:
        return store.insert("notify_rules", values)
    store.require(store.rule(rule_id), "rule")
    store.update("notify_rules", rule_id, values)
    return rule_id


def template_types() -> list[dict[str, Any]]:
    """The «Типы оповещений» tree: category, code, ⚡/📧, the brochure's name, built or not."""
    return [
        {
            "category": t.category,
            "code": t.code,
            "trigger": t.trigger.value,
            "brochure": t.brochure,
            "built": t.built,
        }
        for t in TYPE_BY_CODE.values()
    ]


# -- preview and test send -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Preview:
    subject: str
    text: str
    missing: tuple[str, ...]
    unknown: tuple[str, ...]
    sms: SmsStats | None  # for SMS templates: encoding, segments … as the editor shows them


def _sample_row(store: NotifyStore, document_id: str | None, counterparty_id: str | None) -> Row:
    if document_id:
        rows = store.document_rows([document_id])
        if not rows:
            raise NotFound(f"no document {document_id}")
        return rows[0]
    if counterparty_id:
        rows = store.party_rows([counterparty_id])
        if not rows:
            raise NotFound(f"no client {counterparty_id}")
        return rows[0]
    rows = store.latest_appointment_rows(1)
    return rows[0] if rows else {}


def preview(
    store: NotifyStore,
    *,
    body: str,
    subject: str = "",
    channel_kind: str = "sms",
    document_id: str | None = None,
    counterparty_id: str | None = None,
) -> Preview:
    """The text as a client would get it, on real data (a document, a client, else the latest
    appointment); missing values are marked ⟨name?⟩."""
    row = _sample_row(store, document_id, counterparty_id)
    settings = store.settings()
    if not settings.get("dealer_address"):
        settings["dealer_address"] = store.first_branch_address()
    party = row.get("counterparty_id")
    phone = store.addresses_of([party]).get(party, {}).get("phone", "") if party else ""
    values = values_of(row, settings, zone(settings.get("time_zone")), phone)
    text = render(body, values, mark_missing=True)
    subj = render(subject, values, mark_missing=True)
    final = bound_body(text.text, channel_kind)
    return Preview(
        subject=clean_subject(subj.text),
        text=final,
        missing=tuple(dict.fromkeys(text.missing + subj.missing)),
        unknown=tuple(dict.fromkeys(text.unknown + subj.unknown)),
        sms=sms_stats(final) if channel_kind == "sms" else None,
    )


def send_test(
    store: NotifyStore,
    template_id: str,
    now: datetime,
    address: str | None = None,
    document_id: str | None = None,
    relevance_hours: float = 1.0,
) -> str:
    """Queue the template, rendered on real data, to the test recipient (Тестовый получатель);
    consent is not asked of a test address. Returns the message id."""
    template = store.require(store.template(template_id), "template")
    to = (address or template["test_address"] or "").strip()
    if not to:
        raise InputError("no test recipient: give an address or set the template's one")
    shown = preview(
        store,
        body=template["body"],
        subject=template["subject"],
        channel_kind=template["channel_kind"],
        document_id=document_id,
    )
    message_id = uuid7()
    stamp = iso(now)
    draft = Draft(
        {
            "id": message_id,
            "category": template["category"],
            "type": template["type"],
            "template_id": template_id,
            "rule_id": None,
            "document_id": document_id,
            "counterparty_id": None,
            "occasion": f"test:{stamp}",
            "subject": shown.subject,
            "text": shown.text,
            "idem_key": f"{template_id}|test|{to}|{stamp}|{message_id}",
        },
        [
            {
                "message_id": message_id,
                "recipient_kind": "test",
                "recipient": to,
                "channel_kind": template["channel_kind"],
                "channel_id": template["channel_id"],
                "address": to,
                "status": "pending",
                "not_before": stamp,
                "expires_at": iso(now + timedelta(hours=relevance_hours)),
                "next_attempt_at": stamp,
            }
        ],
    )
    enqueue(store, [draft])
    return message_id


#: The journal's type of a channel check («Проверить» on «Способы уведомлений»).
CHANNEL_TEST_TYPE = "channel_test"


def send_channel_test(
    store: NotifyStore,
    channel_id: str,
    now: datetime,
    *,
    address: str = "",
    text: str,
    employee_id: str | None = None,
    relevance_hours: float = 1.0,
) -> tuple[str, str]:
    """Queue ``text`` through one channel to a test address (a LAN check: to ``employee_id``),
    for the hub to send like any message; ``(message id, addressee id)`` — the screen watches
    the addressee for the result. Consent is not asked of a test address."""
    channel = store.require(store.channel(channel_id), "channel")
    kind = channel["kind"]
    to = address.strip()[:200]
    if kind == "lan":
        if not employee_id:
            raise InputError("a LAN check goes to an employee: sign in first")
        employee = store.require(store.employee(employee_id), "employee")
        to = to or str(employee["short_name"])
    elif not to and kind in ("sms", "email", "phone"):
        raise InputError("no test recipient: give a phone or an e-mail address")
    body = bound_body(text, kind)
    if not body:
        raise InputError("the check's text is empty")
    message_id, addressee_id, stamp = uuid7(), uuid7(), iso(now)
    draft = Draft(
        {
            "id": message_id,
            "category": "general",
            "type": CHANNEL_TEST_TYPE,
            "template_id": None,
            "rule_id": None,
            "document_id": None,
            "counterparty_id": None,
            "occasion": f"channel_test:{stamp}",
            "subject": clean_subject(str(channel["name"])),
            "text": body,
            "idem_key": f"channel:{channel_id}|test|{to}|{stamp}|{message_id}",
        },
        [
            {
                "id": addressee_id,
                "message_id": message_id,
                "recipient_kind": "test",
                "recipient_id": employee_id if kind == "lan" else None,
                "recipient": to,
                "channel_kind": kind,
                "channel_id": channel_id,
                "address": to if kind != "lan" else "",
                "status": "pending",
                "not_before": stamp,
                "expires_at": iso(now + timedelta(hours=relevance_hours)),
                "next_attempt_at": stamp,
            }
        ],
    )
    enqueue(store, [draft])
    return message_id, addressee_id


# -- the journal -----------------------------------------------------------------------------


def journal(
    store: NotifyStore,
    *,
    category: str | None = None,
    type: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    number: int | None = None,
    counterparty_id: str | None = None,
    channel_kind: str | None = None,
    unsent_only: bool = False,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """«Журнал сообщений»: messages newest first, each with its addressees («АДРЕСАТЫ»)."""
    if not 1 <= limit <= 10_000:
        raise InputError("limit is 1–10000")
    rows = store.journal(
        category=category,
        type_=type,
        created_from=iso(created_from) if created_from else None,
        created_to=iso(created_to) if created_to else None,
        number=number,
        counterparty_id=counterparty_id,
        channel_kind=channel_kind,
        unsent_only=unsent_only,
        limit=limit,
    )
    addressees = store.addressees_of([r["id"] for r in rows])
    out = []
    for r in rows:
        item = dict(r)
        item["addressees"] = addressees.get(r["id"], [])
        if unsent_only:
            item["addressees"] = [
                a for a in item["addressees"] if a["sent_at"] is None and a["delivered_at"] is None
            ]
        out.append(item)
    return out


def mark_lan_read(store: NotifyStore, lan_message_id: str, now: datetime) -> None:
    store.update("lan_messages", lan_message_id, {"read_at": iso(now)})


def complete_task(store: NotifyStore, task_id: str, now: datetime, outcome: str = "") -> None:
    store.update("tasks", task_id, {"done_at": iso(now), "outcome": outcome.strip()[:2000]})
