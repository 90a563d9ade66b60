"""``lsavto bench ui``: the workstation app's figures, offscreen, on a real hub and nodes.

- ``cold_start_p50_s`` / ``cold_start_p95_s``: a new process until the registration screen
  («Трафик») has drawn its first frame for a signed-in employee (real PIN check included);
  measured against ``kivy_window_p50_s``, a process that only opens Kivy's window, in the same
  run. Goal ≤ 2 s.
- ``journal_open_ms`` / ``journal_filter_ms``: the journal screen of ``journal_rows`` traffic
  rows loaded into its list and drawn, then narrowed by a filter. Goal ≤ 300 ms.
- ``popup_p50_ms`` / ``popup_p95_ms``: a contact registered on node A (committed there) until
  its ВХОДЯЩИЙ КОНТАКТ popup is pushed on node B, through a hub on loopback. Goal ≤ 100 ms p95.

Node A and node B run in this process (each with its own store connection and sync agent on
the app's runtime loop), the hub in its own; both instants come from one monotonic clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

START_SCRIPT = """
import sys, time
from pathlib import Path
from lsnode.ui import boot
from lsnode.ui.theme import device
data = Path(sys.argv[1])
boot.configure(device("tablet"), headless=True, kivy_home=data / "kivy-bench")
if sys.argv[2] == "bare":
    from kivy.base import EventLoop
    EventLoop.ensure_window()
    EventLoop.idle()
    print("READY", flush=True)
    raise SystemExit(0)
from lsnode.ui.app import WorkstationApp
from lsnode.ui.harness import Harness
app = WorkstationApp(data, sync=False)
h = Harness(app).start()
emp = next(e for e in app.services.reader.employees() if e["short_name"] == sys.argv[3])
app.services.sign_in(emp["id"], sys.argv[4])
app.go("traffic")
h.pump(2)
print("READY", flush=True)
h.stop()
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _start_once(data: Path, mode: str, name: str, pin: str) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", START_SCRIPT, str(data), mode, name, pin],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "READY":
            took = time.perf_counter() - started
            break
    else:
        raise RuntimeError(f"the app did not start (exit {proc.wait()})")
    proc.wait(60)
    return took


def _prepare(root: Path, clients: int) -> tuple[subprocess.Popen[str], Path, Path]:
    """A demo hub with its store, and two paired, caught-up nodes."""
    from lsnode.demo_run import DemoPlan, pair_node, prepare_hub, start_hub

    plan = DemoPlan(root=root, clients=clients, port=0)
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the one JSON object
        prepare_hub(plan)
    hub, address = start_hub(plan, dict(os.environ))
    desks = [pair_node(plan, name, address) for name in ("desk_a", "desk_b")]
    for desk in desks:
        subprocess.run(
            [sys.executable, "-m", "lsnode.cli", "sync", "--data", str(desk), "--timeout", "300"],
            check=True,
            capture_output=True,
        )
    return hub, desks[0], desks[1]


def run(clients: int = 10_000, starts: int = 5, popups: int = 40) -> dict[str, Any]:
    from lsnode.crm.demo import DEMO_PIN

    salesman = "Петухов В.П."
    with tempfile.TemporaryDirectory(prefix="lsavto-bench-ui-") as tmp:
        root = Path(tmp)
        hub, desk_a, desk_b = _prepare(root, clients)
        try:
            bare = [_start_once(desk_b, "bare", salesman, DEMO_PIN) for _ in range(starts)]
            cold = [_start_once(desk_b, "app", salesman, DEMO_PIN) for _ in range(starts)]
            inproc = _in_process(desk_a, desk_b, salesman, DEMO_PIN, popups)
        finally:
            hub.terminate()
            hub.wait(30)
    return {
        "bench": "ui",
        "clients": clients,
        "kivy_window_p50_s": round(statistics.median(bare), 3),
        "cold_start_p50_s": round(statistics.median(cold), 3),
        "cold_start_p95_s": round(_percentile(cold, 0.95), 3),
        **inproc,
        "goal": {"cold_start_s_max": 2.0, "journal_ms_max": 300.0, "popup_p95_ms_max": 100.0},
        "goal_met": (
            _percentile(cold, 0.95) <= 2.0
            and inproc["journal_open_ms"] <= 300
            and inproc["journal_filter_ms"] <= 300
            and inproc["popup_p95_ms"] <= 100
        ),
    }


def _in_process(desk_a: Path, desk_b: Path, salesman: str, pin: str, popups: int) -> dict[str, Any]:
    from lsnode.ui import boot
    from lsnode.ui.theme import device

    boot.configure(device("desk"), headless=True, kivy_home=desk_b / "kivy-bench")
    from lsnode.clock import system_clock
    from lsnode.crm.traffic import Action, Traffic, TrafficDraft
    from lsnode.store.changes import Writer
    from lsnode.store.db import open_store
    from lsnode.store.repos import SqliteClients
    from lsnode.store.traffic import SqliteTraffic
    from lsnode.sync.client import NodeAgent
    from lsnode.sync.pairing import NodeIdentity
    from lsnode.ui.app import WorkstationApp
    from lsnode.ui.harness import Harness

    app = WorkstationApp(desk_b, sync=True)
    h = Harness(app).start()
    assert app.services is not None
    staff = app.services.reader.employees()
    admin = next(e for e in staff if e["role"] == "admin")
    app.services.sign_in(admin["id"], pin)  # the journal of everyone's traffic
    h.pump(3)
    journal = _journal(app, h)
    app.services.sign_out()
    emp = next(e for e in staff if e["short_name"] == salesman)
    app.services.sign_in(emp["id"], pin)  # the salesman whose node gets the popups
    h.pump(3)

    # Node A: its own store and agent, on the app's runtime loop.
    identity = NodeIdentity.load(desk_a)
    assert identity is not None
    agent = NodeAgent(desk_a, identity)
    running = app.runtime.submit(agent.run_forever())
    db_a = open_store(desk_a)
    reader_a = SqliteTraffic(db_a)
    traffic_a = Traffic(Writer(db_a), reader_a, reader_a, SqliteClients(db_a), system_clock)
    purpose = next(p for p in reader_a.purposes() if p["code"] == 22)
    shown: dict[str, float] = {}
    app.inbox.on_shown.append(lambda tid, at: shown.__setitem__(tid, at))
    deadline = time.monotonic() + 30
    while app.ctx is not None and not app.ctx.online and time.monotonic() < deadline:
        h.pump(1)
    latencies = []
    for i in range(popups):
        draft = TrafficDraft(
            contact_type="visit",
            department="salon",
            purpose_id=purpose["id"],
            phone=f"+7 916 700-{i // 100:02d}-{i % 100:02d}",
            responsible_id=emp["id"],
        )
        tid = traffic_a.register(draft, None, Action.REGISTER).traffic_id
        committed = time.monotonic()
        app.runtime.call_soon(agent.notify_local_change)  # as the app's own writer does
        wait_until = committed + 5
        while tid not in shown and time.monotonic() < wait_until:
            h.pump(1)
        if tid in shown:
            latencies.append((shown[tid] - committed) * 1000)
        for _ in range(3):
            h.pump(1)
    running.cancel()
    db_a.close()
    h.stop()
    missed = popups - len(latencies)
    return {
        **journal,
        "popups": popups,
        "popups_missed": missed,
        "popup_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "popup_p95_ms": round(_percentile(latencies, 0.95), 1) if latencies else None,
    }


def _journal(app: Any, h: Any) -> dict[str, Any]:
    """Open the journal on every row and filter it, as an administrator taps «Журнал», then a
    status: the list's queries, its row dicts and the RecycleView's layout (the next frame)."""
    from lsnode.ui.screens.journal import measure_journal_screen

    app.go("journal")
    h.pump(3)
    got = measure_journal_screen(app.screen("journal"), runs=3)
    return {
        "journal_rows": got["rows"],
        "journal_open_ms": got["open_ms"],
        "journal_filter_ms": got["filter_ms"],
    }


if __name__ == "__main__":
    print(json.dumps(run(clients=int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)))
