"""``lsavto notify …`` and ``lsavto appointment …``: notifications from the command line.

Wired into ``lsnode.cli`` by ``add_commands(subparsers)``. Every command takes ``--data DIR``
and ``--json``; times given with ``--now`` / ``--at`` are the dealer's local time unless they
carry an offset (so tests and demos can play a fixed clock).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from lsnode.errors import InputError


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _data(args: argparse.Namespace) -> Path:
    from lsnode.paths import default_data_dir

    return Path(args.data) if args.data is not None else default_data_dir()


def _store(args: argparse.Namespace, clock: Any = None) -> Any:
    from lsnode.store.db import open_store
    from lsnode.store.notify import NotifyStore

    return NotifyStore(open_store(_data(args)), clock)


def _instant(text: str | None, store: Any) -> datetime:
    """``--now``/``--at``: ISO 8601; without an offset, the dealer's wall clock."""
    from lsnode.clock import as_utc, system_clock, zone

    if not text:
        return system_clock()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"expected a date-time like 2026-12-04T10:00, not {text!r}") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone(store.settings().get("time_zone")))
    return as_utc(at)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=None, metavar="DIR", help="data dir")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _opener(data: Path) -> Any:
    """The hub key's opener when this is the hub's data dir (else passwords stay sealed)."""
    from lsnode.notify.sealing import open_on_hub
    from lsnode.sync.keys import HUB_KEY_SECRET, load_secret

    try:
        key = load_secret(data, HUB_KEY_SECRET)
    except Exception:
        return None
    if key is None:
        return None
    return lambda channel_id, sealed: open_on_hub(key, sealed, channel_id)


def _sealer(data: Path, store: Any) -> Any:
    from lsnode.notify.sealing import hub_certificate, seal_for_hub

    def seal(password: str, channel_id: str) -> str:
        cert = hub_certificate(data, store.settings().get("hub_certificate"))
        return seal_for_hub(cert, password, channel_id)

    return seal


def _settings_arg(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--set takes KEY=VALUE, not {item!r}")
        out[key.strip()] = value
    return out


def cmd_notify(args: argparse.Namespace) -> int:
    from lsnode.notify import admin

    action = args.notify_action
    if action == "send-due":
        return _send_due(args)
    store = _store(args)
    try:
        if action == "channels":
            rows = admin.list_channels(store)
            lines = [
                f"{'вкл' if r['enabled'] else 'выкл':4} {r['kind']:6} {r['name']}  ({r['id']})"
                for r in rows
            ]
            _out(args, rows, "\n".join(lines) or "no channels")
        elif action == "channel":
            password = None
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            enabled = True if args.enable else False if args.disable else None
            current = store.channel(args.id) if args.id else None
            channel_id = admin.save_channel(
                store,
                kind=args.kind or (current or {}).get("kind", ""),
                name=args.name or (current or {}).get("name", ""),
                channel_id=args.id,
                enabled=enabled,
                settings=_settings_arg(args.set),
                password=password,
                seal=_sealer(_data(args), store),
            )
            row = admin.channel_view(store.require(store.channel(channel_id), "channel"))
            _out(args, row, f"channel {row['name']} saved ({channel_id})")
        elif action == "templates":
            rows = store.templates()
            lines = [
                f"{'вкл' if r['enabled'] else 'выкл':4} {r['category']:9} {r['type']:26} "
                f"{r['channel_kind']:5} {r['name']}  ({r['id']})"
                for r in rows
            ]
            _out(args, rows, "\n".join(lines) or "no templates")
        elif action == "rules":
            _out(args, store.rules(), "\n".join(str(r) for r in store.rules()) or "no rules")
        elif action == "types":
            types = admin.template_types()
            lines = [
                f"{t['category']:9} {'⚡' if t['trigger'] == 'event' else '📧'} {t['code']:26} "
                f"{t['brochure']}{'' if t['built'] else '  (not built yet)'}"
                for t in types
            ]
            _out(args, types, "\n".join(lines))
        elif action == "preview":
            template = store.require(store.template(args.template), "template")
            shown = admin.preview(
                store,
                body=template["body"],
                subject=template["subject"],
                channel_kind=template["channel_kind"],
                document_id=args.document,
                counterparty_id=args.client,
            )
            data = {
                "subject": shown.subject,
                "text": shown.text,
                "missing": shown.missing,
                "unknown": shown.unknown,
                "sms": None
                if shown.sms is None
                else {
                    "encoding": shown.sms.encoding,
                    "units": shown.sms.units,
                    "segments": shown.sms.segments,
                    "per_segment": shown.sms.per_segment,
                    "left": shown.sms.left,
                },
            }
            extra = (
                f"\n[SMS: {shown.sms.segments} × {shown.sms.per_segment}, {shown.sms.encoding}]"
                if shown.sms
                else ""
            )
            _out(args, data, f"{shown.subject}\n{shown.text}{extra}".strip())
        elif action == "test":
            now = _instant(args.now, store)
            message_id = admin.send_test(store, args.template, now, address=args.to)
            _out(args, {"message_id": message_id}, f"test message queued ({message_id})")
        elif action == "journal":
            rows = admin.journal(
                store,
                category=args.category,
                type=args.type,
                number=args.number,
                unsent_only=args.unsent,
                limit=args.limit,
            )
            lines = []
            for m in rows:
                lines.append(
                    f"{m['number'] or '—':>6} {m['category']:9} {m['type']:26} "
                    f"{m['template_name'] or ''}  {m['created_at'][:16]}"
                )
                for a in m["addressees"]:
                    lines.append(
                        f"        {a['recipient']:30} {a['address']:20} {a['status']:9} "
                        f"{a['sent_at'] or '':24} {a['outcome']} {a['info']}".rstrip()
                    )
            _out(args, rows, "\n".join(lines) or "no messages")
        elif action == "install-demo":
            from lsnode.notify.demo import install_demo

            counts = install_demo(store, files_dir=_data(args) / "notify-files")
            _out(args, counts, f"demo notifications: {counts or 'already there'}")
        return 0
    finally:
        store.db.close()


def _send_due(args: argparse.Namespace) -> int:
    from lsnode.clock import fixed_clock, system_clock
    from lsnode.notify.channels import AppriseTransport
    from lsnode.notify.service import Notifier

    probe = _store(args)
    try:
        clock = fixed_clock(_instant(args.now, probe)) if args.now else system_clock
    finally:
        probe.db.close()
    store = _store(args, clock)
    try:
        notifier = Notifier(store, clock, AppriseTransport(), open_secret=_opener(_data(args)))
        report = notifier.tick().as_dict()
    finally:
        store.db.close()
    _out(args, report, ", ".join(f"{k}: {v}" for k, v in report.items()))
    return 0


def cmd_appointment(args: argparse.Namespace) -> int:
    from lsnode.notify import appointments

    store = _store(args)
    try:
        now = _instant(args.now, store)
        if args.appointment_action == "add":
            client = _client_id(store, args.client)
            doc_id = appointments.book_appointment(
                store,
                appointments.AppointmentDraft(
                    counterparty_id=client,
                    visit_at=_instant(args.at, store),
                    car_id=args.car,
                    adviser_id=args.adviser,
                    kind=args.kind or "",
                    note=args.note or "",
                ),
                now,
            )
        else:
            doc_id = args.document
            if args.at:
                appointments.reschedule_appointment(store, doc_id, _instant(args.at, store), now)
            if args.status:
                appointments.set_document_status(store, doc_id, args.status, now)
        doc = store.require(store.document(doc_id), "document")
        _out(args, doc, f"appointment {doc_id}: {doc['status']} at {doc['visit_at']}")
        return 0
    finally:
        store.db.close()


def _client_id(store: Any, ref: str) -> str:
    from lsnode.crm.clients import client_card
    from lsnode.store.repos import SqliteClients

    return str(client_card(SqliteClients(store.db), ref).counterparty["id"])


def add_commands(sub: Any) -> None:
    """Add ``notify`` and ``appointment`` to the ``lsavto`` parser's subcommands."""
    p = sub.add_parser("notify", help="notifications: channels, templates, journal, sending")
    nsub = p.add_subparsers(dest="notify_action", required=True, metavar="ACTION")
    for name, helptext in (
        ("channels", "list channels (Способы уведомлений)"),
        ("templates", "list templates (Шаблоны сообщений)"),
        ("rules", "list rules"),
        ("types", "the message types (Типы оповещений)"),
        ("install-demo", "the demo's channels, templates and rules"),
    ):
        np = nsub.add_parser(name, help=helptext)
        _common(np)
        np.set_defaults(func=cmd_notify)
    np = nsub.add_parser("channel", help="add or change a channel")
    _common(np)
    np.add_argument("--id", help="the channel to change (default: a new one)")
    np.add_argument("--kind", choices=("email", "sms", "lan", "file", "ftp", "phone"))
    np.add_argument("--name")
    np.add_argument("--enable", action="store_true")
    np.add_argument("--disable", action="store_true")
    np.add_argument("--set", action="append", metavar="KEY=VALUE", help="a setting (repeatable)")
    np.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (sealed)"
    )
    np.set_defaults(func=cmd_notify)
    np = nsub.add_parser("preview", help="a template rendered on real data")
    _common(np)
    np.add_argument("--template", required=True)
    np.add_argument("--document", help="a document id (default: the latest appointment)")
    np.add_argument("--client", help="a client id")
    np.set_defaults(func=cmd_notify)
    np = nsub.add_parser("test", help="send a template to its test recipient")
    _common(np)
    np.add_argument("--template", required=True)
    np.add_argument("--to", help="the address (default: the template's test recipient)")
    np.add_argument("--now", help=argparse.SUPPRESS)
    np.set_defaults(func=cmd_notify)
    np = nsub.add_parser("journal", help="the message journal (Журнал сообщений)")
    _common(np)
    np.add_argument("--category")
    np.add_argument("--type")
    np.add_argument("--number", type=int)
    np.add_argument("--unsent", action="store_true", help="only unsent (Только неотправленные)")
    np.add_argument("--limit", type=int, default=1000)
    np.set_defaults(func=cmd_notify)
    np = nsub.add_parser("send-due", help="make and send what is due now (one tick)")
    _common(np)
    np.add_argument("--now", help="pretend it is this time (dealer's local time)")
    np.set_defaults(func=cmd_notify)

    p = sub.add_parser("appointment", help="service appointments (Предварительная запись)")
    asub = p.add_subparsers(dest="appointment_action", required=True, metavar="ACTION")
    ap = asub.add_parser("add", help="book an appointment")
    _common(ap)
    ap.add_argument("--client", required=True, help="the client's number or id")
    ap.add_argument("--at", required=True, help="visit date-time, e.g. 2026-12-04T10:00")
    ap.add_argument("--car", help="the car's id")
    ap.add_argument("--adviser", help="the adviser's employee id")
    ap.add_argument("--kind", help="Вид предв.записи: ТО, Ремонт …")
    ap.add_argument("--note")
    ap.add_argument("--now", help=argparse.SUPPRESS)
    ap.set_defaults(func=cmd_appointment)
    ap = asub.add_parser("edit", help="move an appointment or change a document's status")
    _common(ap)
    ap.add_argument("document", help="the document id")
    ap.add_argument("--at", help="the new visit date-time")
    ap.add_argument("--status", help="booked, confirmed, arrived, done, cancelled, no_show")
    ap.add_argument("--now", help=argparse.SUPPRESS)
    ap.set_defaults(func=cmd_appointment)
