"""The outbox and its sender: at most once, never late, consent checked at the moment of sending.

Each addressee row (``notify_addressees``) is one delivery. The sender takes them one at a time:

1. **claim** (one transaction): re-read the row; a row whose relevance window has closed becomes
   ``expired``; the checks of the moment refuse it with a reason (channel switched off, no
   consent for SMS / e-mail, not a person, no address …); LAN messages and call tasks are
   written right there and the row becomes ``delivered`` — exactly once, in the same commit;
   anything else becomes ``sending`` with a lease and is handed out.
2. **deliver**: the transport (apprise, a folder, FTP) — no database work, so the hub runs it in
   a thread while its loop goes on.
3. **record** (one transaction): ``sent``/``delivered``; or a retry with exponential backoff
   while attempts remain and the next try still falls in the window; else ``failed``.

Every claim, refusal, expiry and try is a row of ``notify_attempts``. A process that dies
between 1 and 3 leaves the row ``sending``; when its lease runs out the row becomes ``failed``
(outcome ``interrupted``) and is **not** sent again: the message may or may not have left, and
a reminder twice is worse than a reminder lost — the journal shows which one it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from lsnode.clock import Clock, iso
from lsnode.faults import crash_point
from lsnode.notify.catalog import CONSENT_OF_CHANNEL
from lsnode.notify.rules import Draft
from lsnode.store.notify import NotifyStore, Row
from lsnode.sync.keys import SecretError

log = logging.getLogger("lsavto.notify")

LEASE: Final = timedelta(minutes=5)
MAX_ATTEMPTS: Final = 4
BACKOFF_BASE_S: Final = 60.0
BACKOFF_CAP_S: Final = 1800.0
INTERNAL: Final = ("lan", "phone")  # delivered into the store, in the claim's transaction
#: Channels whose message needs the recipient's address.
NEEDS_ADDRESS: Final = ("sms", "email", "phone")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One delivery handed to a transport."""

    addressee_id: str
    message_id: str
    message_number: int | None
    channel_id: str
    channel_kind: str
    channel_name: str
    settings: dict[str, Any]
    secret: str | None = field(repr=False)
    address: str
    recipient: str
    subject: str
    body: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Result:
    """What a transport says: delivery returns a result, never raises (CONVENTIONS.md §15)."""

    ok: bool
    info: str = ""
    delivered: bool = False  # written where it is read (a file), not just handed over


class Transport(Protocol):
    def send(self, out: Outgoing) -> Result: ...


#: Opens a channel's sealed password: ``(channel_id, sealed) -> password`` (the hub's key).
SecretOpener = Callable[[str, str], str]


@dataclass(slots=True)
class SendReport:
    sent: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    refused: int = 0
    expired: int = 0
    interrupted: int = 0

    def add(self, other: SendReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1, 2, 4 … minutes, capped."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


def enqueue(store: NotifyStore, drafts: Sequence[Draft]) -> tuple[int, int]:
    """Queue ``drafts`` whose idempotency key is new; ``(created, already there)``."""
    if not drafts:
        return 0, 0
    with store.transaction():  # BEGIN IMMEDIATE: two generators never both insert a key
        existing = store.existing_keys([d.message["idem_key"] for d in drafts])
        fresh = [d for d in drafts if d.message["idem_key"] not in existing]
        store.insert_many("notify_messages", [d.message for d in fresh])
        store.insert_many("notify_addressees", [a for d in fresh for a in d.addressees])
    return len(fresh), len(drafts) - len(fresh)


def _attempt(store: NotifyStore, addressee_id: str, now: datetime, outcome: str, info: str) -> None:
    store.insert(
        "notify_attempts",
        {"addressee_id": addressee_id, "at": iso(now), "outcome": outcome, "info": info[:2000]},
    )


def _close(
    store: NotifyStore, row: Row, now: datetime, status: str, outcome: str, info: str
) -> None:
    store.update(
        "notify_addressees",
        row["id"],
        {"status": status, "outcome": outcome, "info": info[:2000]},
    )
    _attempt(store, row["id"], now, status if status != "failed" else outcome, info)


def _channel_for(store: NotifyStore, row: Row) -> Row | None:
    if row["channel_id"]:
        return store.channel(row["channel_id"])
    same = [c for c in store.channels() if c["kind"] == row["channel_kind"]]
    return next((c for c in same if c["enabled"]), same[0] if same else None)


def _refusal(store: NotifyStore, row: Row, message: Row, channel: Row | None) -> str | None:
    """Why ``row`` must not be sent now (a reason code), or None."""
    template = store.template(message["template_id"]) if message["template_id"] else None
    if template is not None and not template["enabled"]:
        return "template_disabled"
    if channel is None:
        return "no_channel"
    if not channel["enabled"]:
        return "channel_disabled"
    if row["recipient_kind"] == "counterparty":
        party = store.counterparty(row["recipient_id"] or "")
        if party is None:
            return "no_recipient"
        rule = store.rule(message["rule_id"]) if message["rule_id"] else None
        if rule is not None and rule["persons_only"] and party["kind"] != "person":
            return "not_a_person"
        consent = CONSENT_OF_CHANNEL.get(row["channel_kind"])
        if consent and party[consent] != "yes":
            return f"no_{consent}"  # no_consent_sms / no_consent_email
    elif row["recipient_kind"] == "employee" and not row["recipient_id"]:
        return "no_recipient"
    if row["channel_kind"] in NEEDS_ADDRESS and not row["address"]:
        return "no_address"
    return None


def _deliver_inside(store: NotifyStore, row: Row, message: Row, channel: Row, now: datetime) -> str:
    """LAN message or call task, written in the claim's transaction; '' or a refusal code."""
    if row["channel_kind"] == "lan":
        store.insert(
            "lan_messages",
            {
                "employee_id": row["recipient_id"],
                "addressee_id": row["id"],
                "title": message["subject"],
                "text": message["text"],
            },
        )
        return ""
    settings = NotifyStore.loads(channel["settings"])
    document = store.document(message["document_id"]) if message["document_id"] else None
    party = store.counterparty(row["recipient_id"]) if row["recipient_id"] else None
    employee = (
        (document or {}).get("employee_id")
        or (party or {}).get("manager_id")
        or settings.get("employee_id")
    )
    if not employee:
        return "no_employee"
    store.insert(
        "tasks",
        {
            "employee_id": employee,
            "action": "call",
            "due_at": iso(now),
            "counterparty_id": row["recipient_id"],
            "phone": row["address"],
            "car_id": (document or {}).get("car_id"),
            "document_id": message["document_id"],
            "text": message["text"],
            "source": "notify",
            "source_id": row["id"],
        },
    )
    return ""


def claim_next(
    store: NotifyStore,
    now: datetime,
    open_secret: SecretOpener | None = None,
    report: SendReport | None = None,
) -> Outgoing | None:
    """The next delivery to hand to a transport (now ``sending``), settling on the way every
    due row that needs no transport: expired, refused, interrupted, LAN, call tasks."""
    report = report if report is not None else SendReport()
    stamp = iso(now)
    while True:
        due = store.due(stamp, 50)
        if not due:
            return None
        for candidate in due:
            with store.transaction():
                row = store.addressee(candidate["id"])
                if row is None or row["status"] not in ("pending", "sending"):
                    continue
                if row["next_attempt_at"] > stamp:
                    continue
                if row["status"] == "sending":  # its lease ran out: the sender died mid-way
                    _close(
                        store,
                        row,
                        now,
                        "failed",
                        "interrupted",
                        "the sender stopped while sending: not sent again (it may have left)",
                    )
                    report.interrupted += 1
                    continue
                if stamp >= row["expires_at"]:
                    _close(store, row, now, "expired", "expired", "relevance window closed")
                    report.expired += 1
                    continue
                message = store.require(store.message(row["message_id"]), "message")
                channel = _channel_for(store, row)
                reason = _refusal(store, row, message, channel)
                if reason is None and channel is not None and row["channel_kind"] in INTERNAL:
                    reason = _deliver_inside(store, row, message, channel, now) or None
                    if reason is None:
                        store.update(
                            "notify_addressees",
                            row["id"],
                            {
                                "status": "delivered",
                                "attempts": row["attempts"] + 1,
                                "sent_at": stamp,
                                "delivered_at": stamp,
                                "outcome": "ok",
                                "channel_id": channel["id"],
                            },
                        )
                        _attempt(store, row["id"], now, "ok", row["channel_kind"])
                        report.delivered += 1
                        continue
                if reason is not None or channel is None:
                    _close(store, row, now, "refused", reason or "no_channel", "")
                    report.refused += 1
                    continue
                secret = None
                if channel["secret_sealed"]:
                    if open_secret is None:
                        secret_error = "no key to open the channel's password on this machine"
                    else:
                        try:
                            secret = open_secret(channel["id"], channel["secret_sealed"])
                            secret_error = ""
                        except SecretError as exc:
                            secret_error = str(exc)
                    if secret is None:
                        _close(store, row, now, "failed", "secret_error", secret_error)
                        report.failed += 1
                        continue
                store.update(
                    "notify_addressees",
                    row["id"],
                    {
                        "status": "sending",
                        "attempts": row["attempts"] + 1,
                        "next_attempt_at": iso(now + LEASE),
                        "channel_id": channel["id"],
                    },
                )
            return Outgoing(
                addressee_id=row["id"],
                message_id=message["id"],
                message_number=message["number"],
                channel_id=channel["id"],
                channel_kind=row["channel_kind"],
                channel_name=channel["name"],
                settings=NotifyStore.loads(channel["settings"]),
                secret=secret,
                address=row["address"],
                recipient=row["recipient"],
                subject=message["subject"],
                body=message["text"],
                created_at=message["created_at"],
            )


def record(
    store: NotifyStore, out: Outgoing, result: Result, now: datetime, report: SendReport
) -> None:
    """Journal what the transport said; schedule a retry or close the delivery."""
    stamp = iso(now)
    with store.transaction():
        row = store.require(store.addressee(out.addressee_id), "addressee")
        if result.ok:
            status = "delivered" if result.delivered else "sent"
            store.update(
                "notify_addressees",
                row["id"],
                {
                    "status": status,
                    "sent_at": stamp,
                    "delivered_at": stamp if result.delivered else None,
                    "outcome": "ok",
                    "info": result.info[:2000],
                },
            )
            _attempt(store, row["id"], now, "ok", result.info)
            if result.delivered:
                report.delivered += 1
            else:
                report.sent += 1
            return
        _attempt(store, row["id"], now, "error", result.info)
        retry_at = now + backoff(row["attempts"])
        if row["attempts"] < MAX_ATTEMPTS and iso(retry_at) < row["expires_at"]:
            store.update(
                "notify_addressees",
                row["id"],
                {
                    "status": "pending",
                    "next_attempt_at": iso(retry_at),
                    "outcome": "retry",
                    "info": result.info[:2000],
                },
            )
            report.retrying += 1
            return
        why = (
            f"failed {row['attempts']} times"
            if row["attempts"] >= MAX_ATTEMPTS
            else "the relevance window closes before the next try"
        )
        store.update(
            "notify_addressees",
            row["id"],
            {"status": "failed", "outcome": "error", "info": f"{result.info} ({why})"[:2000]},
        )
        report.failed += 1


def safe_send(transport: Transport, out: Outgoing) -> Result:
    """``transport.send``; a transport that raises anyway is a failed attempt, not a crash."""
    try:
        return transport.send(out)
    except Exception as exc:  # a transport bug must not stop the queue
        log.exception("transport %s raised", out.channel_kind)
        return Result(False, f"{type(exc).__name__}: {exc}")


def send_due(
    store: NotifyStore,
    clock: Clock,
    transport: Transport,
    open_secret: SecretOpener | None = None,
    limit: int = 10_000,
) -> SendReport:
    """Deliver what is due now, one at a time (the synchronous sender of the CLI and tests)."""
    report = SendReport()
    for _ in range(limit):
        out = claim_next(store, clock(), open_secret, report)
        if out is None:
            break
        result = safe_send(transport, out)
        crash_point("notify.after_send")  # the kill -9 test: sent, not yet recorded
        record(store, out, result, clock(), report)
    return report
