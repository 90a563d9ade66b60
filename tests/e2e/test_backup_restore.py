"""The hub's continuous backup, a disk failure, a restore to an earlier point: nodes re-push and
no node write is lost (real litestream, real processes, 127.0.0.1)."""

from __future__ import annotations

import json
import signal
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from hub.backup import wait_replicated
from tests.e2e.test_hub_and_nodes import FACTOR, LOOPBACK, Procs, procs, run  # noqa: F401


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def start_hub(procs: Procs, data: Path, replica: Path, port: int) -> int:  # noqa: F811
    hub = procs.start(
        "hub", "--data", str(data), "--listen", f"{LOOPBACK}:{port}", "--replica", str(replica)
    )
    assert hub.stdout is not None
    return int(json.loads(hub.stdout.readline())["listen"].rsplit(":", 1)[1])


def test_restore_to_an_earlier_point_loses_no_node_write(tmp_path: Path, procs: Procs) -> None:  # noqa: F811
    hub_dir, replica, node = tmp_path / "hub", tmp_path / "backup", tmp_path / "tablet"
    run("init", "--data", str(hub_dir))
    port = start_hub(procs, hub_dir, replica, free_port())
    code = run("hub", "pairing-code", "--data", str(hub_dir))["code"]
    run("pair", "--data", str(node), "--hub", f"{LOOPBACK}:{port}", "--code", code)

    early = run("client", "add", "--data", str(node), "--name", "Петров Пётр")["id"]
    run("sync", "--data", str(node))
    wait_replicated(hub_dir / "lsavto.db", replica, timeout=30 * FACTOR)
    time.sleep(1.1)  # the restore point lies between two syncs of the replica
    restore_point = datetime.now(UTC)
    time.sleep(1.1)
    late = run("client", "add", "--data", str(node), "--name", "Сидоров Сидор")["id"]
    run("sync", "--data", str(node))
    assert run("sync", "--data", str(node))["pending"] == 0  # acknowledged by the hub

    hub = procs.procs[-1]
    hub.send_signal(signal.SIGTERM)
    hub.wait(20)
    restored = run(
        "restore", "--data", str(hub_dir), "--replica", str(replica),
        "--timestamp", restore_point.isoformat(),
    )  # fmt: skip
    ids = {r["id"] for r in run("search", "--data", str(hub_dir), "Петров")["hits"]}
    assert ids == {early}
    assert run("search", "--data", str(hub_dir), "Сидоров")["hits"] == []  # lost by the restore…

    start_hub(procs, hub_dir, replica, port)  # the same hub, back on its address
    run("sync", "--data", str(node))
    found = run("search", "--data", str(hub_dir), "Сидоров")["hits"]
    assert [h["id"] for h in found] == [late]  # …and back, re-pushed by the node
    assert run("checksum", "--data", str(node)) == run("checksum", "--data", str(hub_dir))
    assert restored["epoch"]
