"""``lsavto demo``: the whole product on one machine with no configuration.

A demo dealership is generated into ``<root>/hub`` (once), a hub serves it on 127.0.0.1, and
each workstation gets its own data dir (``<root>/desk1``, ``<root>/desk2``, ``<root>/kiosk``)
paired with the hub automatically — exactly as a real tablet pairs, only without typing the code.
Then the apps start (``--windows 2`` gives the second salesman's window; ``--kiosk`` the
reception kiosk), or headless sync agents with ``--headless`` (no display, scripts, CI).
Everything talks over loopback; nothing is announced on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from lsnode.errors import LsnodeError

DEFAULT_PORT = 48765
HUB_START_S = 30.0


@dataclass
class DemoPlan:
    root: Path
    clients: int = 2000
    seed: int = 1
    today: date | None = None
    windows: int = 1
    kiosk: bool = False
    headless: bool = False
    device: str = "tablet"
    port: int = DEFAULT_PORT
    extra_app_args: list[str] = field(default_factory=list)

    @property
    def hub_dir(self) -> Path:
        return self.root / "hub"

    def nodes(self) -> list[tuple[str, str]]:
        """(name, kind) of each node: the workstations, then the kiosk."""
        out = [(f"desk{i}", "app") for i in range(1, self.windows + 1)]
        if self.kiosk:
            out.append(("kiosk", "kiosk"))
        return out


def _lsavto() -> list[str]:
    return [sys.executable, "-m", "lsnode.cli"]


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise LsnodeError("no free port on 127.0.0.1")


def prepare_hub(plan: DemoPlan) -> None:
    """Generate the demo dealership into the hub's data dir, once."""
    from lsnode.cli import seed_demo
    from lsnode.store.db import db_path

    if db_path(plan.hub_dir).exists():
        return
    print(f"creating a demo dealership with {plan.clients} clients in {plan.hub_dir} …", flush=True)
    counts = seed_demo(plan.hub_dir, plan.clients, plan.seed, plan.today or date.today())
    print("  " + ", ".join(f"{t}: {n}" for t, n in counts.items()), flush=True)


def start_hub(plan: DemoPlan, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    port = _free_port(plan.port)
    proc = subprocess.Popen(
        [*_lsavto(), "hub", "--data", str(plan.hub_dir), "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + HUB_START_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise LsnodeError(f"the demo hub did not start (exit {proc.wait()})")
        with contextlib.suppress(ValueError):
            info = json.loads(line)
            return proc, str(info["listen"])
    proc.kill()
    raise LsnodeError("the demo hub did not start in time")


def pair_node(plan: DemoPlan, name: str, address: str) -> Path:
    """Pair ``<root>/<name>`` with the demo hub (or point it at the hub's new port)."""
    from dataclasses import replace

    from lsnode.store.db import init_store
    from lsnode.sync.client import pair
    from lsnode.sync.pairing import HubTrust, NodeIdentity

    data = plan.root / name
    identity = NodeIdentity.load(data) if data.exists() else None
    if identity is not None:
        if identity.hub_address != address:
            replace(identity, hub_address=address).save(data)
        return data
    init_store(data).close()
    code = HubTrust(plan.hub_dir).issue_code(ttl_s=120).code
    asyncio.run(pair(data, address, code, f"demo {name}", None))
    return data


def node_command(plan: DemoPlan, name: str, kind: str, data: Path) -> list[str]:
    if plan.headless:
        return [*_lsavto(), "node", "--data", str(data)]
    if kind == "kiosk":
        return [*_lsavto(), "kiosk", "--data", str(data), "--windowed"]  # beside the desks
    return [*_lsavto(), "app", "--data", str(data), "--device", plan.device, *plan.extra_app_args]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class SmsSink:
    """The demo's SMS gateway: takes what the hub sends (the json:// channel of the demo's
    notification settings, 127.0.0.1:8026), prints it and appends it to ``<root>/sms.txt``."""

    def __init__(self, root: Path, port: int) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        out = root / "sms.txt"

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
                try:
                    body = json.loads(self.rfile.read(size) or b"{}")
                except ValueError:
                    body = {}
                to = self.path.partition("to=")[2] or "?"
                text = str(body.get("body") or body.get("message") or body)[:1000]
                line = f"{time.strftime('%H:%M:%S')} SMS → {to}: {text}"
                print(line, flush=True)
                with out.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "OK"}')

            def log_message(self, *args: object) -> None:
                pass

        try:
            self.server: ThreadingHTTPServer | None = ThreadingHTTPServer(
                ("127.0.0.1", port), Handler
            )
        except OSError:
            self.server = None  # the port is taken: SMS stay in the hub's journal as failed
            return
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def run(plan: DemoPlan) -> int:
    """Start everything, wait until a window closes or Ctrl-C, then stop everything."""
    plan.root.mkdir(parents=True, exist_ok=True)
    prepare_hub(plan)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by a service manager: stop the children
    env = dict(os.environ)
    from lsnode.notify.demo import SMS_PORT

    sms = SmsSink(plan.root, SMS_PORT)
    hub, address = start_hub(plan, env)
    children: list[subprocess.Popen[str]] = [hub]
    try:
        for name, kind in plan.nodes():
            data = pair_node(plan, name, address)
            children.append(
                subprocess.Popen(node_command(plan, name, kind, data), env=env, text=True)
            )
        from lsnode.crm.demo import DEMO_PIN

        print(
            f"hub on {address}; nodes: {', '.join(n for n, _ in plan.nodes())}\n"
            f"sign in as any employee (e.g. «Петухов В.П.», salon) with PIN {DEMO_PIN}; "
            "Ctrl-C stops the demo",
            flush=True,
        )
        while all(c.poll() is None for c in children):
            time.sleep(0.3)
    except KeyboardInterrupt:
        pass
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        sms.close()
    return 0
