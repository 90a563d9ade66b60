"""The ``lsavto`` command: one entry point for the hub, the nodes and their administration.

Each subcommand parses its arguments, opens the store, calls one use case and prints the result —
as text for people or as JSON with ``--json``. Errors of the ``LsnodeError`` tree are printed as
one line (``lsavto: error: …``) with exit status 2 for bad input and 1 otherwise; nothing else is
caught, so a bug still shows its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lsnode.errors import InputError, LsnodeError
from lsnode.paths import default_data_dir

Handler = Callable[[argparse.Namespace], int]


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="data dir (default: $LSAVTO_DATA or ~/.local/share/lsavto)",
    )


def _json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data) if args.data is not None else default_data_dir()


def _today(args: argparse.Namespace) -> date:
    value = getattr(args, "today", None)
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--today must be a date like 2026-12-03, not {value!r}") from None


# -- init / demo-data ------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from lsnode.crm.purposes import install_defaults
    from lsnode.store.changes import Writer
    from lsnode.store.db import db_path, init_store
    from lsnode.store.traffic import SqliteTraffic

    data = _data_dir(args)
    db = init_store(data)
    try:
        if not args.bare:  # a new dealership starts with the brochure's contact purposes
            install_defaults(Writer(db), SqliteTraffic(db))
    finally:
        db.close()
    _out(args, {"data": str(data), "db": str(db_path(data))}, f"initialised {db_path(data)}")
    return 0


def seed_demo(data: Path, clients: int, seed: int, today: date) -> dict[str, int]:
    """Create (or refuse to overwrite) a demo base in ``data``; returns rows per table."""
    import random

    from lsnode.crm.demo import generate_demo
    from lsnode.ids import seeded_uuid7
    from lsnode.store.changes import Writer
    from lsnode.store.db import bulk_load, init_store

    if not 1 <= clients <= 1_000_000:
        raise InputError("--clients must be between 1 and 1000000")
    db = init_store(data)
    try:
        existing = db.execute("SELECT count(*) FROM counterparties").fetchone()[0]
        if existing:
            raise InputError(
                f"{data} already holds {existing} clients: demo data goes into a new data dir"
            )
        fixed = datetime(today.year, today.month, today.day, 6, tzinfo=UTC)
        stamp = fixed.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        make_id = seeded_uuid7(random.Random(seed ^ 0x5EED))
        writer = Writer(
            db, clock=lambda: stamp, new_id=lambda: make_id(int(fixed.timestamp() * 1000))
        )
        # One big transaction whose random-keyed indexes outgrow the default page cache: give
        # this one-off bulk load up to 1 GiB (pages are only used as the base grows).
        db.execute("PRAGMA cache_size = -1048576")
        with bulk_load(db):
            summary = generate_demo(writer, clients=clients, seed=seed, today=today)
        # The brochure's channels, templates and rules; SMS to the demo's sink on loopback.
        from lsnode.notify.demo import install_demo
        from lsnode.store.notify import NotifyStore

        install_demo(NotifyStore(db, writer=writer), files_dir=data / "notify-files")
        return dict(summary.counts)
    finally:
        db.close()


def cmd_demo_data(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    counts = seed_demo(_data_dir(args), args.clients, args.seed, _today(args))
    took = time.perf_counter() - started
    text = "\n".join(f"  {table:20} {n:>9}" for table, n in counts.items())
    _out(
        args,
        {"data": str(_data_dir(args)), "rows": counts, "seconds": round(took, 2)},
        f"demo data written to {_data_dir(args)} in {took:.1f} s:\n{text}",
    )
    return 0


# -- client ----------------------------------------------------------------------------------


def _open(args: argparse.Namespace) -> Any:
    from lsnode.store.db import open_store

    return open_store(_data_dir(args))


def _car_draft(args: argparse.Namespace) -> Any:
    from lsnode.crm.clients import CarDraft

    if not (args.plate or args.vin):
        if args.make or args.model or args.year:
            raise InputError("a car needs --plate or --vin")
        return None
    return CarDraft(
        plate=args.plate or "",
        vin=args.vin or "",
        make=args.make or "",
        model=args.model or "",
        year=args.year,
        mileage=args.mileage,
    )


def _consent_args(args: argparse.Namespace) -> dict[str, str]:
    names = {
        "consent_pd": args.consent_pd,
        "consent_phone_survey": args.consent_phone_survey,
        "consent_sms": args.consent_sms,
        "consent_email": args.consent_email,
    }
    return {k: v for k, v in names.items() if v is not None}


def _card_json(card: Any) -> dict[str, Any]:
    cp = card.counterparty
    return {
        **{k: cp[k] for k in cp},
        "contacts": [_contact_json(c) for c in card.contacts],
        "cars": [_car_json(c) for c in card.cars],
        "open_documents": [_doc_json(d) for d in card.open_documents],
        "links": card.links,
    }


def _contact_json(c: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "kind", "value", "phone_e164", "valid", "note")
    return {k: (bool(c[k]) if k == "valid" else c[k]) for k in keys}


def _car_json(c: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id", "number", "plate", "plate_key", "vin", "make", "model", "modification", "year",
        "mileage",
    )  # fmt: skip
    return {**{k: c[k] for k in keys}, "links": c.get("links", [])}


def _doc_json(d: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "doc_no", "doc_type", "business_line", "doc_date", "status")
    return {**{k: d[k] for k in keys}, "amount": _money(d["amount_kop"])}


def _money(kop: int) -> str:
    return f"{kop // 100}.{kop % 100:02d}"


def _card_text(card: Any) -> str:
    cp = card.counterparty
    lines = [f"№{cp['number'] or '—'}  {cp['full_name']}  ({cp['kind']}, id {cp['id']})"]
    for c in card.contacts:
        flag = "" if c["valid"] else "  [not recognised]"
        lines.append(f"  {c['kind']:6} {c['phone_e164'] or c['value']}{flag}")
    for car in card.cars:
        lines.append(f"  car    {_car_line(car)}")
    for d in card.open_documents:
        lines.append(f"  doc    {_doc_line(d)}")
    return "\n".join(lines)


def _car_line(car: dict[str, Any]) -> str:
    name = " ".join(filter(None, [car["make"], car["model"], car.get("modification")]))
    parts = [car["plate"] or "—", name]
    if car["year"]:
        parts.append(str(car["year"]))
    if car["vin"]:
        parts.append(f"VIN {car['vin']}")
    return "  ".join(parts)


def _doc_line(d: dict[str, Any]) -> str:
    day = d["doc_date"][:10]
    shown = f"{day[8:10]}.{day[5:7]}.{day[0:4]}" if len(day) == 10 else day
    amount = _money(d["amount_kop"]).replace(".", ",")
    return f"{d['doc_no']}  {shown}  {d['status']}  {amount}"


def cmd_client(args: argparse.Namespace) -> int:
    from lsnode.crm import clients
    from lsnode.store.changes import Writer
    from lsnode.store.repos import SqliteClients

    db = _open(args)
    try:
        reader = SqliteClients(db)
        writer = Writer(db)
        if args.action == "add":
            draft = clients.ClientDraft(
                name=args.name,
                kind="company" if args.company else "person",
                phones=args.phone or [],
                emails=args.email or [],
                inn=args.inn or "",
                note=args.note or "",
                consents=_consent_args(args),
                car=_car_draft(args),
            )
            saved = clients.add_client(writer, draft, today=_today(args))
        elif args.action == "edit":
            kind = "company" if args.company else ("person" if args.person else None)
            edit = clients.ClientEdit(
                name=args.name,
                kind=kind,
                inn=args.inn,
                note=args.note,
                consents=_consent_args(args),
                add_phones=args.phone or [],
                remove_phones=args.remove_phone or [],
                add_emails=args.email or [],
                remove_emails=args.remove_email or [],
                car=_car_draft(args),
            )
            saved = clients.edit_client(writer, reader, args.ref, edit, today=_today(args))
        elif args.action == "delete":
            gone = clients.delete_client(writer, reader, args.ref)
            _out(args, {"deleted": gone["id"]}, f"deleted {gone['full_name']} ({gone['id']})")
            return 0
        else:
            card = clients.client_card(reader, args.ref)
            _out(args, _card_json(card), _card_text(card))
            return 0
        for warning in saved.warnings:
            print(f"lsavto: warning: {warning}", file=sys.stderr)
        card = clients.client_card(reader, saved.counterparty_id)
        _out(args, {**_card_json(card), "warnings": saved.warnings}, _card_text(card))
        return 0
    finally:
        db.close()


# -- search ----------------------------------------------------------------------------------


def _hit_json(hit: Any) -> dict[str, Any]:
    cp = hit.counterparty
    keys = ("id", "number", "kind", "full_name", "short_name", "inn")
    return {
        **{k: cp[k] for k in keys},
        "matched": [m.name.lower() for m in hit.matched],
        "contacts": [_contact_json(c) for c in hit.contacts],
        "cars": [_car_json(c) for c in hit.cars],
        "open_documents": [_doc_json(d) for d in hit.open_documents],
    }


def cmd_search(args: argparse.Namespace) -> int:
    from lsnode.crm.search import search
    from lsnode.store.repos import SqliteClients

    db = _open(args)
    try:
        repo = SqliteClients(db)
        result = search(repo, repo, args.query, limit=args.limit, region=args.region)
    finally:
        db.close()
    data = {
        "query": result.query,
        "count": len(result.hits),
        "hits": [_hit_json(h) for h in result.hits],
    }
    lines = [f"{len(result.hits)} found for «{result.query}»"]
    for h in result.hits:
        cp = h.counterparty
        phones = ", ".join(
            c["phone_e164"] or c["value"] for c in h.contacts if c["kind"] == "phone"
        )
        how = ", ".join(m.name.lower().replace("_", " ") for m in h.matched)
        lines.append(f"  №{cp['number'] or '—'}  {cp['full_name']}  {phones}  [{how}]")
        lines += [f"      car  {_car_line(c)}" for c in h.cars]
        lines += [f"      doc  {_doc_line(d)}" for d in h.open_documents]
    _out(args, data, "\n".join(lines))
    return 0


# -- demo / bench ----------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    """The product on demo data: a hub and paired workstations on loopback (``demo_run``)."""
    from lsnode.demo_run import DemoPlan, run

    if not 1 <= args.windows <= 4:
        raise InputError("--windows must be between 1 and 4")
    plan = DemoPlan(
        root=_data_dir(args),
        clients=args.clients,
        seed=args.seed,
        today=_today(args),
        windows=args.windows,
        kiosk=args.kiosk,
        headless=args.headless,
        device=args.device,
        port=args.port,
    )
    return run(plan)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.bench == "calls":
        from bench import calls as bench_calls

        result = bench_calls.run(calls=args.calls, minutes=args.minutes)
        print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
        return 0
    if args.bench == "ui":
        from bench import ui as bench_ui

        result = bench_ui.run(clients=args.clients, starts=args.starts, popups=args.popups)
        print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
        return 0
    if args.bench == "notify":
        from bench import notify as bench_notify

        result = bench_notify.run(reminders=args.reminders, smtp_messages=args.smtp_messages)
        print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
        return 0
    if args.bench == "sync":
        from bench import sync as bench_sync

        result = bench_sync.run(
            rows=args.rows,
            nodes=args.nodes,
            writes=args.writes,
            backlog=args.backlog,
            bootstrap_rows=args.bootstrap_rows,
            rss_nodes=args.rss_nodes,
        )
        print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
        return 0
    from bench import search as bench_search

    result = bench_search.run(
        clients=args.clients, seed=args.seed, repeat=args.repeat, data=args.data
    )
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0


# -- hub, nodes, sync ------------------------------------------------------------------------


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InputError(f"expected HOST:PORT, not {value!r}")
    return host, int(port)


def _interfaces(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def cmd_hub(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import signal

    from hub.server import Hub

    data = _data_dir(args)
    action = getattr(args, "hub_action", None)
    if action == "pairing-code":
        return _hub_pairing_code(args, data)
    if action == "revoke":
        from lsnode.sync.pairing import HubTrust

        _require_dir(data)
        HubTrust(data).revoke(args.node)
        _out(args, {"revoked": args.node}, f"node {args.node} revoked: it is cut off now")
        return 0
    if action == "nodes":
        from lsnode.sync.pairing import HubTrust

        _require_dir(data)
        nodes = HubTrust(data).nodes()
        lines = [
            f"{n['node_id']}  {n['name']:20}  paired {n['paired_at'][:16]}"
            + (f"  REVOKED {n['revoked_at'][:16]}" if n["revoked_at"] else "")
            + (f"  last seen {n['last_seen'][:16]}" if n.get("last_seen") else "")
            for n in nodes
        ]
        _out(args, nodes, "\n".join(lines) or "no paired nodes")
        return 0

    host, port = _host_port(args.listen)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def main() -> None:
        hub = Hub(
            data, host, port, replica=args.replica, mdns_interfaces=_interfaces(args.mdns_interface)
        )
        await hub.start()
        print(
            json.dumps(
                {
                    "hub_id": hub.store.hub_id,
                    "listen": hub.address,
                    "epoch": hub.store.epoch(),
                    "fingerprint": hub.certificate.fingerprint,
                }
            ),
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await hub.stop()

    asyncio.run(main())
    return 0


def _require_dir(data: Path) -> None:
    from lsnode.store.db import open_store

    open_store(data).close()


def _hub_pairing_code(args: argparse.Namespace, data: Path) -> int:
    from lsnode.store.db import init_store
    from lsnode.sync.keys import ensure_hub_certificate
    from lsnode.sync.pairing import HubTrust, pairing_uri, write_qr_png
    from lsnode.sync.stores import SqliteHubStore

    _require_dir(data)
    db = init_store(data)
    try:
        hub_id = SqliteHubStore(db).hub_id
    finally:
        db.close()
    cert = ensure_hub_certificate(data, hub_id)
    code = HubTrust(data).issue_code(ttl_s=args.ttl)
    info: dict[str, Any] = {
        "code": code.code,
        "expires_at": datetime.fromtimestamp(code.expires_at, UTC).isoformat(),
        "fingerprint": cert.fingerprint,
    }
    if args.address:
        uri = pairing_uri(args.address, code.code, cert.fingerprint)
        info["uri"] = uri
        if args.qr:
            write_qr_png(uri, Path(args.qr))
            info["qr"] = str(args.qr)
    minutes = args.ttl // 60
    _out(args, info, f"pairing code: {code.code} (single use, valid {minutes} min)")
    return 0


def cmd_pair(args: argparse.Namespace) -> int:
    import asyncio
    import socket

    from lsnode.store.db import init_store
    from lsnode.sync.client import pair

    data = _data_dir(args)
    _host_port(args.hub)
    init_store(data).close()
    name = args.name or socket.gethostname()
    identity = asyncio.run(pair(data, args.hub, args.code, name, args.fingerprint))
    _out(
        args,
        {
            "node_id": identity.node_id,
            "hub_id": identity.hub_id,
            "hub": identity.hub_address,
            "fingerprint": identity.hub_fingerprint,
        },
        f"paired with hub {identity.hub_id} at {identity.hub_address} as node {identity.node_id}",
    )
    return 0


def _agent(args: argparse.Namespace, **kw: Any) -> Any:
    from lsnode.errors import DataDirError
    from lsnode.sync.client import NodeAgent
    from lsnode.sync.pairing import NodeIdentity

    data = _data_dir(args)
    _require_dir(data)
    identity = NodeIdentity.load(data)
    if identity is None:
        raise DataDirError(
            f"{data} is not paired with a hub: run `lsavto pair --data {data} --hub HOST:PORT "
            "--code CODE` with the code from `lsavto hub pairing-code`"
        )
    return NodeAgent(data, identity, mdns_interfaces=_interfaces(args.mdns_interface), **kw)


def cmd_node(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal

    def show(status: Any) -> None:
        print(
            json.dumps(
                {
                    "status": status.describe(),
                    "online": status.online,
                    "pending": status.pending,
                    "cursor": status.cursor,
                }
            ),
            flush=True,
        )

    async def main() -> None:
        agent = _agent(args, on_status=show)
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(agent.run_forever())
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    import asyncio

    from websockets.exceptions import ConnectionClosed

    from lsnode.sync.client import SyncError

    async def main() -> Any:
        agent = _agent(args)
        try:
            return await asyncio.wait_for(agent.run_once(), args.timeout)
        except (TimeoutError, OSError) as exc:
            raise SyncError(f"hub {agent.identity.hub_address} not reachable: {exc}") from None
        except ConnectionClosed as exc:
            raise SyncError(
                f"lost the connection to the hub {agent.identity.hub_address}: {exc}; "
                "local changes are kept, sync again"
            ) from None

    status = asyncio.run(main())
    _out(
        args,
        {"pending": status.pending, "cursor": status.cursor, "hub": status.hub_address},
        f"synced with {status.hub_address}: {status.pending} changes waiting",
    )
    return 0


def cmd_checksum(args: argparse.Namespace) -> int:
    from lsnode.store.replica import checksums

    db = _open(args)
    try:
        sums = checksums(db)
    finally:
        db.close()
    _out(args, sums, "\n".join(f"{t:22} {v}" for t, v in sums.items()))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from hub.backup import restore
    from hub.server import start_new_epoch
    from lsnode.store.db import db_path

    data = _data_dir(args)
    data.mkdir(parents=True, exist_ok=True)
    when = None
    if args.timestamp:
        try:
            when = datetime.fromisoformat(args.timestamp)
        except ValueError:
            raise InputError(f"--timestamp must be ISO 8601, not {args.timestamp!r}") from None
    restore(Path(args.replica), db_path(data), overwrite=True, timestamp=when)
    epoch = start_new_epoch(data)
    _out(
        args,
        {"data": str(data), "epoch": epoch},
        f"restored {db_path(data)} from {args.replica}; new epoch {epoch}: nodes will re-push",
    )
    return 0


# -- parser ----------------------------------------------------------------------------------


def _client_fields(p: argparse.ArgumentParser, edit: bool) -> None:
    p.add_argument("--name", required=not edit, help="full name «Иванов Иван Иванович» or company")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--company", action="store_true", help="a company (ЮЛ)")
    if edit:
        kind.add_argument("--person", action="store_true", help="a person (ФЛ)")
    add = "--add-" if edit else "--"
    p.add_argument(f"{add}phone", dest="phone", action="append", help="a phone in any form")
    p.add_argument(f"{add}email", dest="email", action="append", help="an e-mail (repeatable)")
    if edit:
        p.add_argument("--remove-phone", action="append", help="remove a phone (any form)")
        p.add_argument("--remove-email", action="append", help="remove an e-mail")
    p.add_argument("--inn", help="INN: 10 digits (company) or 12 (person)")
    p.add_argument("--note", help="note (Примечание)")
    for c in ("pd", "phone-survey", "sms", "email"):
        p.add_argument(f"--consent-{c}", choices=("unknown", "yes", "no"))
    car = p.add_argument_group("car", "add a car owned by the client")
    car.add_argument("--plate", help="plate, Cyrillic or Latin: «Н433АР12»")
    car.add_argument("--vin", help="VIN, 17 characters")
    car.add_argument("--make")
    car.add_argument("--model")
    car.add_argument("--year", type=int)
    car.add_argument("--mileage", type=int)
    p.add_argument("--today", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lsavto", description="LSAvto Node — the dealership CRM that works offline."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a hub's data dir (nodes get theirs from `lsavto pair`)")
    _data_arg(p)
    p.add_argument(
        "--bare", action="store_true", help="without the default contact purposes (an import)"
    )
    _json_arg(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo-data", help="fill a new data dir with a demo dealership")
    _data_arg(p)
    _json_arg(p)
    p.add_argument("--clients", type=int, default=2000, help="number of clients (default 2000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    p.add_argument("--today", help="the demo's «today», YYYY-MM-DD (default: today)")
    p.set_defaults(func=cmd_demo_data)

    p = sub.add_parser(
        "demo", help="run a hub and workstations on demo data (created if missing), no set-up"
    )
    _data_arg(p)
    p.add_argument("--clients", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--today", help=argparse.SUPPRESS)
    p.add_argument("--windows", type=int, default=1, help="workstation windows (nodes), 1-4")
    p.add_argument("--kiosk", action="store_true", help="also start the reception kiosk")
    p.add_argument("--headless", action="store_true", help="sync agents instead of windows")
    p.add_argument("--device", default="tablet", choices=("tablet", "desk", "kiosk"))
    p.add_argument("--port", type=int, default=48765, help="the hub port on 127.0.0.1 (0: any)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("client", help="add, edit, delete or show a client")
    csub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, helptext in (
        ("add", "add a client"),
        ("edit", "change a client"),
        ("delete", "delete a client nothing refers to"),
        ("show", "show a client's card"),
    ):
        cp = csub.add_parser(action, help=helptext)
        _data_arg(cp)
        _json_arg(cp)
        if action != "add":
            cp.add_argument("ref", metavar="CLIENT", help="the client's number or id")
        if action in ("add", "edit"):
            _client_fields(cp, edit=action == "edit")
        cp.set_defaults(func=cmd_client)

    p = sub.add_parser("search", help="find clients by name, phone, plate or VIN")
    _data_arg(p)
    _json_arg(p)
    p.add_argument("query", help="«Иванов», «8 925 111-22-33», «2233», «н433ар», a VIN fragment")
    p.add_argument("--limit", type=int, default=20, help="at most this many clients (1–200)")
    p.add_argument("--region", default="RU", help="default phone region (ISO code, default RU)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("hub", help="run the hub (sync server, backup, discovery) or manage it")
    _data_arg(p)
    p.add_argument("--listen", default="127.0.0.1:8765", help="HOST:PORT (default 127.0.0.1:8765)")
    p.add_argument("--replica", type=Path, help="continuous backup folder (litestream)")
    p.add_argument("--mdns-interface", help="advertise by zeroconf on these IPs (comma-separated)")
    p.set_defaults(func=cmd_hub)
    hsub = p.add_subparsers(dest="hub_action", metavar="ACTION")
    hp = hsub.add_parser("pairing-code", help="a one-time code to pair a new tablet or desk")
    _data_arg(hp)
    _json_arg(hp)
    hp.add_argument("--ttl", type=int, default=600, help="seconds the code stays valid")
    hp.add_argument("--address", help="HOST:PORT nodes reach the hub at (for the QR code)")
    hp.add_argument("--qr", help="write the pairing QR code as a PNG here (needs --address)")
    hp.set_defaults(func=cmd_hub)
    hp = hsub.add_parser("revoke", help="cut a node off at once")
    _data_arg(hp)
    _json_arg(hp)
    hp.add_argument("node", help="the node id (see `lsavto hub nodes`)")
    hp.set_defaults(func=cmd_hub)
    hp = hsub.add_parser("nodes", help="list paired nodes")
    _data_arg(hp)
    _json_arg(hp)
    hp.set_defaults(func=cmd_hub)

    p = sub.add_parser("pair", help="pair this node with a hub using its one-time code")
    _data_arg(p)
    _json_arg(p)
    p.add_argument("--hub", required=True, help="the hub's HOST:PORT")
    p.add_argument("--code", required=True, help="the code from `lsavto hub pairing-code`")
    p.add_argument("--name", help="this node's name (default: host name)")
    p.add_argument("--fingerprint", help="the hub certificate's SHA-256 (from the QR code)")
    p.set_defaults(func=cmd_pair)

    p = sub.add_parser("node", help="run the sync agent (headless) until stopped")
    _data_arg(p)
    p.add_argument("--mdns-interface", help="find the hub by zeroconf on these IPs")
    p.set_defaults(func=cmd_node)

    p = sub.add_parser("sync", help="sync with the hub once and exit")
    _data_arg(p)
    _json_arg(p)
    p.add_argument("--once", action="store_true", help="(the default) sync once and exit")
    p.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds")
    p.add_argument("--mdns-interface", help="find the hub by zeroconf on these IPs")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("checksum", help="per-table checksums of the replicated content")
    _data_arg(p)
    _json_arg(p)
    p.set_defaults(func=cmd_checksum)

    p = sub.add_parser("restore", help="restore a hub's store from its backup (new epoch)")
    _data_arg(p)
    _json_arg(p)
    p.add_argument("--replica", required=True, help="the backup folder given to `lsavto hub`")
    p.add_argument("--timestamp", help="restore the state as of this ISO 8601 time")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("bench", help="benchmarks; each prints one JSON object")
    bsub = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    bp = bsub.add_parser("search", help="search latency per query kind vs a LIKE scan")
    bp.add_argument("--clients", type=int, default=100_000)
    bp.add_argument("--seed", type=int, default=1)
    bp.add_argument("--repeat", type=int, default=200, help="queries per kind")
    bp.add_argument(
        "--data", type=Path, help="measure an existing demo base instead of building one"
    )
    _json_arg(bp)
    bp.set_defaults(func=cmd_bench)
    bp = bsub.add_parser("sync", help="sync propagation, apply, capture, catch-up, bootstrap, RSS")
    bp.add_argument("--rows", type=int, default=100_000, help="rows for hub apply and capture")
    bp.add_argument("--nodes", type=int, default=20, help="agents connected while propagating")
    bp.add_argument("--writes", type=int, default=100, help="timed writes on node A")
    bp.add_argument("--backlog", type=int, default=100_000, help="changes a node catches up on")
    bp.add_argument("--bootstrap-rows", type=int, default=1_000_000, help="rows in the snapshot")
    bp.add_argument("--rss-nodes", type=int, default=30, help="agents connected for hub RSS")
    _json_arg(bp)
    bp.set_defaults(func=cmd_bench)
    bp = bsub.add_parser("calls", help="INVITE → node popup, audio relay delay, CPU per call")
    bp.add_argument("--calls", type=int, default=5, help="concurrent calls")
    bp.add_argument("--minutes", type=float, default=0.5, help="length of the long bridged call")
    _json_arg(bp)
    bp.set_defaults(func=cmd_bench)
    bp = bsub.add_parser("ui", help="app cold start, journal open/filter, popup latency")
    bp.add_argument("--clients", type=int, default=10_000, help="demo clients (10k traffic rows)")
    bp.add_argument("--starts", type=int, default=5, help="cold starts measured")
    bp.add_argument("--popups", type=int, default=40, help="registrations on node A")
    _json_arg(bp)
    bp.set_defaults(func=cmd_bench)
    bp = bsub.add_parser("notify", help="rendering + queueing reminders, SMTP delivery rate")
    bp.add_argument("--reminders", type=int, default=10_000, help="reminders to render and queue")
    bp.add_argument("--smtp-messages", type=int, default=300, help="messages sent to the sink")
    _json_arg(bp)
    bp.set_defaults(func=cmd_bench)

    from lsnode.cli_traffic import add_commands as traffic_commands
    from lsnode.ui.cli import add_commands as ui_commands

    traffic_commands(sub)
    ui_commands(sub)
    from lsnode.notify.cli import add_commands as notify_commands

    notify_commands(sub)
    from lsnode.voice.cli import add_commands as voice_commands

    voice_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Handler = args.func
    try:
        return func(args)
    except InputError as exc:
        print(f"lsavto: error: {exc}", file=sys.stderr)
        return 2
    except LsnodeError as exc:
        print(f"lsavto: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
