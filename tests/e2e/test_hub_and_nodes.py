"""Three real processes — a hub and two paired nodes — on 127.0.0.1, found by zeroconf on the
loopback interface only, editing the same client while the hub is down, converging when it
returns (the «Done when» of the sync issue)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

LSAVTO = str(Path(sys.executable).with_name("lsavto"))
FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
LOOPBACK = "127.0.0.1"


def run(*args: str) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run(
        [LSAVTO, *args, "--json"], capture_output=True, text=True, timeout=60 * FACTOR
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout * FACTOR
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Procs:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [LSAVTO, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    p.stop_all()


def start_hub(procs: Procs, data: Path, port: int = 0) -> tuple[subprocess.Popen[str], int]:
    hub = procs.start(
        "hub", "--data", str(data), "--listen", f"{LOOPBACK}:{port}",
        "--mdns-interface", LOOPBACK,
    )  # fmt: skip
    assert hub.stdout is not None
    info = json.loads(hub.stdout.readline())
    return hub, int(info["listen"].rsplit(":", 1)[1])


def test_hub_and_two_nodes_converge_after_offline_conflicts(tmp_path: Path, procs: Procs) -> None:
    hub_dir, a_dir, b_dir = tmp_path / "hub", tmp_path / "a", tmp_path / "b"
    run("init", "--data", str(hub_dir))
    hub, port = start_hub(procs, hub_dir)
    for node in (a_dir, b_dir):
        code = run("hub", "pairing-code", "--data", str(hub_dir))["code"]
        run("pair", "--data", str(node), "--hub", f"{LOOPBACK}:{port}", "--code", code)
    for node in (a_dir, b_dir):
        procs.start("node", "--data", str(node), "--mdns-interface", LOOPBACK)

    client = run(
        "client", "add", "--data", str(a_dir), "--name", "Иванов Василий Алибабаевич",
        "--phone", "8(925)111-22-33", "--plate", "Н433АР12",
    )["id"]  # fmt: skip

    def on_b() -> bool:
        found = run("search", "--data", str(b_dir), "2233")["hits"]
        return [h["id"] for h in found] == [client] and found[0]["number"] == 1

    wait_until(on_b, "the client (numbered by the hub) to reach node b")

    # The hub goes down; both tablets keep working and edit the same client.
    hub.send_signal(signal.SIGTERM)
    hub.wait(10)
    run("client", "edit", "--data", str(a_dir), client, "--note", "перезвонить после 18:00")
    run("client", "edit", "--data", str(b_dir), client, "--consent-sms", "yes")
    run("client", "edit", "--data", str(b_dir), client, "--add-phone", "+7 495 123-45-67")
    assert run("checksum", "--data", str(a_dir)) != run("checksum", "--data", str(b_dir))

    # It comes back on another port: the nodes find it again by zeroconf.
    start_hub(procs, hub_dir)

    def converged() -> bool:
        sums = [run("checksum", "--data", str(d)) for d in (a_dir, b_dir)]
        return sums[0] == sums[1]

    wait_until(converged, "both nodes to converge", timeout=45)
    card = run("client", "show", "--data", str(a_dir), client)
    assert card["note"] == "перезвонить после 18:00" and card["consent_sms"] == "yes"
    assert {c["phone_e164"] for c in card["contacts"]} == {"+79251112233", "+74951234567"}
