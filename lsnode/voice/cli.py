"""``lsavto voice …``: configure the hub's SIP line, see its state and its calls, ask for calls.

    lsavto voice configure --data DIR --server 192.168.150.101 --user dkhlystov --password-stdin
    lsavto voice extension --data DIR EMPLOYEE 1102
    lsavto voice status --data DIR [--json]
    lsavto voice calls --data DIR [--limit 20] [--json]
    lsavto voice dial --data DIR --employee EMPLOYEE --phone "8 925 111-22-33"

``configure`` runs on the hub's data dir: the settings row replicates (every node's status bar
shows the line), the password is sealed on the hub only. The hub picks the line up at its next
start.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lsnode.errors import InputError, NotFound

LINE_MODES = ("bridge", "redirect", "refer")


def _data(args: argparse.Namespace) -> Path:
    from lsnode.paths import default_data_dir

    return Path(args.data) if args.data is not None else default_data_dir()


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _rows(db: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = db.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def cmd_voice(args: argparse.Namespace) -> int:
    from lsnode.store.changes import Writer
    from lsnode.store.db import open_store

    data = _data(args)
    db = open_store(data)
    try:
        writer = Writer(db)
        if args.voice_action == "configure":
            return _configure(args, data, db, writer)
        if args.voice_action == "extension":
            emp = _rows(
                db,
                "SELECT id FROM employees WHERE id = ? OR short_name = ?",
                [args.employee, args.employee],
            )
            if not emp:
                raise NotFound(f"no employee {args.employee}")
            ext = args.extension.strip()
            if not ext.replace("*", "").replace("#", "").isalnum() or len(ext) > 32:
                raise InputError("an extension is up to 32 digits or letters")
            writer.update("employees", emp[0]["id"], {"extension": ext})
            _out(args, {"employee_id": emp[0]["id"], "extension": ext}, f"extension {ext} set")
            return 0
        if args.voice_action == "status":
            lines = _rows(db, "SELECT * FROM sip_lines ORDER BY created_at")
            text = "\n".join(
                f"{r['username']}@{r['server']}:{r['port']} ({r['mode']}): {r['state']}"
                + (f" since {r['state_since']}" if r["state_since"] else "")
                + (f" — {r['state_detail']}" if r["state_detail"] else "")
                for r in lines
            )
            _out(args, lines, text or "no SIP line configured: `lsavto voice configure`")
            return 0
        if args.voice_action == "calls":
            rows = _rows(
                db,
                "SELECT c.*, e.short_name AS employee_name, cp.full_name AS client_name "
                "FROM calls c LEFT JOIN employees e ON e.id = c.employee_id "
                "LEFT JOIN counterparties cp ON cp.id = c.counterparty_id "
                "ORDER BY c.started_at DESC LIMIT ?",
                [args.limit],
            )
            text = "\n".join(
                f"{r['started_at'][:19]} {'→' if r['direction'] == 'in' else '←'} "
                f"{r['phone_e164'] or r['caller_number'] or '—'} {r['client_name'] or ''} "
                f"[{r['state']}] {r['employee_name'] or ''} {r['talk_s'] or 0} s "
                f"{r['recording']}"
                for r in rows
            )
            _out(args, rows, text or "no calls yet")
            return 0
        if args.voice_action == "dial":
            request_id = writer.insert(
                "call_requests",
                {
                    "kind": "dial",
                    "employee_id": args.employee,
                    "phone": args.phone,
                    "counterparty_id": args.client,
                    "status": "pending",
                },
            )
            _out(args, {"request_id": request_id}, f"asked the hub to dial (request {request_id})")
            return 0
        raise InputError(f"unknown voice action {args.voice_action}")
    finally:
        db.close()


def _configure(args: argparse.Namespace, data: Path, db: Any, writer: Any) -> int:
    from lsnode.sync.keys import save_secret

    if not args.server or not args.user:
        raise InputError("--server and --user are required")
    if not 0 < args.port < 65536:
        raise InputError("--port must be 1–65535")
    password = args.password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    values = {
        "server": args.server.strip(),
        "port": args.port,
        "username": args.user.strip(),
        "mode": args.mode,
        "ring_s": args.ring_s,
        "enabled": 1,
    }
    existing = _rows(db, "SELECT id FROM sip_lines ORDER BY created_at LIMIT 1")
    if existing:
        line_id = existing[0]["id"]
        writer.update("sip_lines", line_id, values)
    else:
        line_id = writer.insert("sip_lines", {**values, "state": "off"})
    if password is not None:
        save_secret(data, "sip-password", password.encode("utf-8"))
    low, _, high = args.rtp.partition("-")
    local = {
        "my_ip": args.my_ip,
        "sip_port": args.sip_port,
        "rtp_low": int(low),
        "rtp_high": int(high or low),
        "expires": args.expires,
    }
    (data / "voice.json").write_text(json.dumps(local, indent=2), encoding="utf-8")
    shown = {**values, "line_id": line_id, "password": "***" if password else "(unchanged)"}
    _out(
        args,
        shown,
        f"SIP line {values['username']}@{values['server']}:{values['port']} "
        f"saved ({args.mode}); restart the hub to use it",
    )
    return 0


def add_commands(sub: Any) -> None:
    """``lsavto voice …`` subcommands, added to the main parser."""
    p = sub.add_parser("voice", help="the hub's SIP line: configure, status, calls, dial")
    vsub = p.add_subparsers(dest="voice_action", required=True, metavar="ACTION")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--data", type=Path, default=None, metavar="DIR", help="data dir")
        sp.add_argument("--json", action="store_true", help="print the result as JSON")
        sp.set_defaults(func=cmd_voice)

    c = vsub.add_parser("configure", help="the PBX / SIP trunk the hub registers to")
    common(c)
    c.add_argument("--server", required=True, help="the PBX's address «192.168.150.101»")
    c.add_argument("--port", type=int, default=5060)
    c.add_argument("--user", required=True, help="the SIP account")
    pw = c.add_mutually_exclusive_group()
    pw.add_argument("--password", help="the SIP password (prefer --password-stdin)")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    c.add_argument(
        "--mode",
        choices=LINE_MODES,
        default="bridge",
        help="bridge: the hub relays and records; redirect (302) / refer: the PBX "
        "carries the media",
    )
    c.add_argument("--ring-s", type=int, default=20, help="seconds an employee's phone rings")
    c.add_argument("--my-ip", default="127.0.0.1", help="the hub's address the PBX reaches")
    c.add_argument("--sip-port", type=int, default=5060, help="the hub's own SIP port")
    c.add_argument("--rtp", default="10000-20000", help="the hub's RTP port range")
    c.add_argument("--expires", type=int, default=120, help="REGISTER expiry, seconds")
    e = vsub.add_parser("extension", help="an employee's internal number")
    common(e)
    e.add_argument("employee", help="the employee's id or short name")
    e.add_argument("extension", help="«1102»")
    s = vsub.add_parser("status", help="the line's state (registered / down since …)")
    common(s)
    ls = vsub.add_parser("calls", help="the latest calls")
    common(ls)
    ls.add_argument("--limit", type=int, default=20)
    d = vsub.add_parser("dial", help="ask the hub to ring an employee, then a client (Набрать)")
    common(d)
    d.add_argument("--employee", required=True)
    d.add_argument("--phone", required=True)
    d.add_argument("--client", help="the client's id")
