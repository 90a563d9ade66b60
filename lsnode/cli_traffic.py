"""``lsavto traffic …`` and ``lsavto employee …``: traffic from scripts and integrations.

A website form or a mail parser registers an Internet lead with ``traffic add``; it is written to
the node's replica like any registration at the desk (origin ``script``) and reaches the hub and
every node with the next sync. ``traffic list`` shows the journal with the hub's numbers,
``traffic purposes`` the contact purposes with their ids, ``employee`` the staff, their presence
and PINs.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from lsnode.errors import InputError, NotFound


def _ctx(args: argparse.Namespace) -> Any:
    from lsnode.cli import _open
    from lsnode.clock import system_clock
    from lsnode.crm.traffic import Traffic
    from lsnode.store.changes import Writer
    from lsnode.store.repos import SqliteClients
    from lsnode.store.traffic import SqliteTraffic

    db = _open(args)
    reader = SqliteTraffic(db)
    traffic = Traffic(Writer(db), reader, reader, SqliteClients(db), system_clock)
    return db, reader, traffic


def _purpose(reader: Any, ref: str) -> dict[str, Any]:
    """A purpose by its id or by the brochure's visible number («2» is Ремонт автомобиля)."""
    ref = ref.strip()
    rows = reader.purposes(include_disabled=True)
    found = [p for p in rows if p["id"] == ref or (ref.isdigit() and p["code"] == int(ref))]
    if not found:
        raise NotFound(f"no contact purpose {ref!r}: see `lsavto traffic purposes`")
    return dict(found[0])


def _employee(reader: Any, ref: str) -> dict[str, Any]:
    ref = ref.strip()
    for e in reader.employees(active_only=False):
        if ref in (e["id"], e["extension"], e["short_name"], e["surname"]):
            return dict(e)
    raise NotFound(f"no employee {ref!r}: see `lsavto employee list`")


def _client_for(db: Any, phone: str, name: str) -> tuple[str | None, list[str]]:
    """The client with this phone, or a new one when a name is given (an Internet lead)."""
    from lsnode.cli import _today
    from lsnode.crm.clients import ClientDraft, add_client
    from lsnode.crm.normalize import normalize_phone
    from lsnode.store.changes import Writer

    e164 = normalize_phone(phone).e164 if phone else None
    if e164:
        row = db.execute(
            "SELECT counterparty_id FROM contacts WHERE phone_e164 = ? LIMIT 1", [e164]
        ).fetchone()
        if row:
            return row[0], []
    if not name.strip():
        return None, []
    saved = add_client(
        Writer(db),
        ClientDraft(name=name, phones=[phone] if phone else []),
        today=_today(argparse.Namespace()),
    )
    return saved.counterparty_id, [f"new client «{name.strip()}»", *saved.warnings]


def cmd_traffic_add(args: argparse.Namespace) -> int:
    from lsnode.cli import _out
    from lsnode.crm.traffic import Action, TrafficDraft

    db, reader, traffic = _ctx(args)
    try:
        purpose = _purpose(reader, args.purpose)
        client_id, notes = _client_for(db, args.phone or "", args.name or "")
        responsible = _employee(reader, args.responsible)["id"] if args.responsible else None
        draft = TrafficDraft(
            contact_type=args.type,
            department=purpose["department"],
            purpose_id=purpose["id"],
            counterparty_id=client_id,
            phone=args.phone or "",
            make_model=args.make_model or "",
            responsible_id=responsible,
            note=args.note or "",
            origin="script",
        )
        action = Action.QUEUE if args.queue else Action.REGISTER
        reg = traffic.register(draft, None, action)
        row = reader.traffic(reg.traffic_id)
    finally:
        db.close()
    data = {"id": reg.traffic_id, "number": row["number"], "status": reg.status.value,
            "client_id": client_id, "warnings": notes + reg.warnings}  # fmt: skip
    text = f"registered {reg.traffic_id} ({purpose['full_name']}); the hub numbers it on sync"
    _out(args, data, "\n".join([text, *data["warnings"]]))
    return 0


def _day(value: str | None, label: str) -> str | None:
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{label} must be a date like 2026-12-03, not {value!r}") from None
    moment = day if day.tzinfo else day.astimezone()
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cmd_traffic_list(args: argparse.Namespace) -> int:
    from lsnode.cli import _out
    from lsnode.crm.normalize import name_key, normalize_phone
    from lsnode.store.ports import JournalQuery

    db, reader, _ = _ctx(args)
    try:
        e164 = normalize_phone(args.phone).e164 if args.phone else None
        if args.phone and not e164:
            raise InputError(f"phone {args.phone!r} not recognised")
        query = JournalQuery(
            contact_types=frozenset(args.type or ()),
            statuses=frozenset(args.status or ()),
            purpose_ids=frozenset(_purpose(reader, p)["id"] for p in args.purpose or ()),
            employee_id=_employee(reader, args.employee)["id"] if args.employee else None,
            date_from=_day(args.date_from, "--from"),
            date_to=_day(args.date_to, "--to") if args.date_to else None,
            number=args.number,
            client_name_key=name_key(args.client or ""),
            phone_e164=e164,
            limit=args.limit,
        )
        rows, total = reader.journal(query)
    finally:
        db.close()
    keys = ("id", "number", "contact_at", "contact_type", "purpose_name", "status",
            "client_name", "phone", "responsible_name", "processed_by_name", "document_no",
            "duration_s", "note", "origin")  # fmt: skip
    data = {"total": total, "rows": [{k: r[k] for k in keys} for r in rows]}
    lines = [f"{len(rows)} of {total}"] + [
        f"{r['number'] or 'pending':>8}  {r['contact_at'][:16].replace('T', ' ')}  "
        f"{r['contact_type']:8} {r['status']:17} {(r['purpose_name'] or '')[:22]:22} "
        f"{r['client_name'] or r['phone'] or '—'}  → {r['responsible_name'] or '—'}"
        for r in rows
    ]
    _out(args, data, "\n".join(lines))
    return 0


def cmd_traffic_purposes(args: argparse.Namespace) -> int:
    from lsnode.cli import _out

    db, reader, _ = _ctx(args)
    try:
        rows = reader.purposes(include_disabled=args.all)
    finally:
        db.close()
    keys = ("id", "code", "department", "direction", "full_name", "short_name", "enabled",
            "require_car", "require_region", "auto_ignore_days")  # fmt: skip
    data = [{k: p[k] for k in keys} for p in rows]
    arrow = {"in": "→", "out": "←"}
    text = "\n".join(
        f"{p['code'] or '':>4} {arrow[p['direction']]} {p['department']:9} {p['full_name']}"
        f"{'' if p['enabled'] else '  (off)'}  {p['id']}"
        for p in rows
    )
    _out(args, data, text)
    return 0


def cmd_employee(args: argparse.Namespace) -> int:
    from lsnode.cli import _out
    from lsnode.clock import local_day_start, system_clock
    from lsnode.crm.staff import set_pin, set_presence
    from lsnode.store.changes import Writer

    db, reader, _ = _ctx(args)
    try:
        if args.action == "list":
            now = system_clock()
            start = local_day_start(now).astimezone(UTC)
            counts = reader.employee_counts(start.isoformat(timespec="milliseconds")[:23] + "Z")
            rows = [
                {
                    "id": e["id"],
                    "short_name": e["short_name"],
                    "extension": e["extension"],
                    "role": e["role"],
                    "departments": json.loads(e["departments"]),
                    "presence": e["presence"],
                    "presence_note": e["presence_note"],
                    "has_pin": bool(e["pin_hash"]),
                    "counts": "{}/{}".format(*counts.get(e["id"], (0, 0))),
                }
                for e in reader.employees()
            ]
            text = "\n".join(
                f"{r['short_name']:22} {r['extension'] or '---':>5} {r['role']:10} "
                f"{r['presence']:9} {r['counts']:>6}  {r['id']}"
                for r in rows
            )
            _out(args, rows, text)
            return 0
        emp = _employee(reader, args.employee)
        if args.action == "set-pin":
            set_pin(Writer(db), reader, emp["id"], _read_pin())
            _out(args, {"id": emp["id"]}, f"PIN set for {emp['short_name']}")
        else:
            row = set_presence(
                Writer(db), reader, emp["id"], args.presence, args.note, now=datetime.now(UTC)
            )
            _out(args, {"id": emp["id"], "presence": row["presence"]},
                 f"{emp['short_name']}: {row['presence']}")  # fmt: skip
    finally:
        db.close()
    return 0


def _read_pin() -> str:
    """The PIN from the terminal (not echoed) or one line of stdin: never from argv, where
    it would sit in the shell's history and the process list."""
    import getpass
    import sys

    if sys.stdin.isatty():
        return getpass.getpass("PIN: ")
    return sys.stdin.readline().strip()


def add_commands(sub: Any) -> None:
    from lsnode.cli import _data_arg, _json_arg
    from lsnode.store.schema import CONTACT_TYPES, TRAFFIC_STATUSES

    p = sub.add_parser("traffic", help="register and list client traffic (scripts, integrations)")
    tsub = p.add_subparsers(dest="traffic_action", required=True, metavar="ACTION")
    tp = tsub.add_parser("add", help="register incoming traffic (e.g. an Internet lead)")
    _data_arg(tp)
    _json_arg(tp)
    tp.add_argument("--type", required=True, choices=CONTACT_TYPES)
    tp.add_argument("--purpose", required=True, metavar="ID", help="purpose id or its number")
    tp.add_argument("--phone", default="", help="the client's phone, any form")
    tp.add_argument("--name", default="", help="the client's name: a new client if unknown")
    tp.add_argument("--note", default="")
    tp.add_argument("--make-model", default="", help="the car asked about («Kia Rio»)")
    tp.add_argument("--responsible", default="", help="employee id, extension or surname")
    tp.add_argument("--queue", action="store_true", help="put into the waiting queue")
    tp.set_defaults(func=cmd_traffic_add)

    tp = tsub.add_parser("list", help="the traffic journal, newest first")
    _data_arg(tp)
    _json_arg(tp)
    tp.add_argument("--type", action="append", choices=CONTACT_TYPES)
    tp.add_argument("--status", action="append", choices=TRAFFIC_STATUSES)
    tp.add_argument("--purpose", action="append", metavar="ID")
    tp.add_argument("--employee", help="responsible or processed by (id, extension, surname)")
    tp.add_argument("--from", dest="date_from", metavar="DATE")
    tp.add_argument("--to", dest="date_to", metavar="DATE", help="exclusive")
    tp.add_argument("--number", type=int, help="the hub's traffic number")
    tp.add_argument("--client", help="client name (word prefixes)")
    tp.add_argument("--phone")
    tp.add_argument("--limit", type=int, default=100)
    tp.set_defaults(func=cmd_traffic_list)

    tp = tsub.add_parser("purposes", help="the contact purposes with their ids")
    _data_arg(tp)
    _json_arg(tp)
    tp.add_argument("--all", action="store_true", help="include switched-off purposes")
    tp.set_defaults(func=cmd_traffic_purposes)

    p = sub.add_parser("employee", help="staff: list, set a PIN, set presence")
    esub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ep = esub.add_parser("list", help="employees with presence and unprocessed/transferred today")
    _data_arg(ep)
    _json_arg(ep)
    ep.set_defaults(func=cmd_employee)
    ep = esub.add_parser(
        "set-pin", help="set an employee's sign-in PIN (4–8 digits, read from the terminal/stdin)"
    )
    _data_arg(ep)
    _json_arg(ep)
    ep.add_argument("employee", help="id, extension or surname")
    ep.set_defaults(func=cmd_employee)
    ep = esub.add_parser("presence", help="Доступен / Занят / Нет на месте")
    _data_arg(ep)
    _json_arg(ep)
    ep.add_argument("employee", help="id, extension or surname")
    ep.add_argument("presence", choices=("available", "busy", "away"))
    ep.add_argument("--note", default=None, help="Доп. информация")
    ep.set_defaults(func=cmd_employee)
