"""``lsavto demo --headless``: a hub and two paired workstations on demo data with no set-up;
a visit registered at one desk reaches the other desk's waiting queue with the hub's number."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from lsnode.errors import DataDirError
from lsnode.store.db import open_store
from lsnode.store.traffic import SqliteTraffic
from tests.e2e.test_hub_and_nodes import FACTOR, LSAVTO, run, wait_until


def queue_of(data: Path) -> list[dict] | None:  # type: ignore[type-arg]
    """The node's queue, or None while ``lsavto pair`` is still creating its store."""
    try:
        db = open_store(data)
    except DataDirError:
        return None
    try:
        return SqliteTraffic(db).queue("salon")
    finally:
        db.close()


def test_a_visit_at_one_desk_is_in_every_queue_with_the_hubs_number(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    demo = subprocess.Popen(
        [LSAVTO, "demo", "--data", str(root), "--headless", "--windows", "2",
         "--clients", "200", "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        desk1, desk2 = root / "desk1", root / "desk2"
        wait_until(lambda: all(queue_of(d) is not None for d in (desk1, desk2)), "desks", 120)
        before = {r["id"] for r in queue_of(root / "hub") or []}
        wait_until(
            lambda: {r["id"] for r in queue_of(desk2) or []} == before, "desk2 caught up", 60
        )
        added = run(
            "traffic", "add", "--data", str(desk1), "--type", "visit", "--purpose", "22",
            "--phone", "+7 916 700-00-01", "--name", "Гостев Олег", "--queue",
        )  # fmt: skip

        def numbered_on_desk2() -> bool:
            rows = {r["id"]: r for r in queue_of(desk2) or []}
            return added["id"] in rows and rows[added["id"]]["number"] is not None

        wait_until(numbered_on_desk2, "the visit, numbered, in desk2's queue")
        row = next(r for r in queue_of(desk2) or [] if r["id"] == added["id"])
        assert row["client_name"] == "Гостев О." and row["purpose_name"] == "А/м с пробегом"
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(30 * FACTOR)
    assert demo.returncode == 0
