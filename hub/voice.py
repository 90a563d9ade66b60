"""The hub's SIP line inside the hub process (``lsnode.voice.line`` on the hub's event loop).

The line's threads never touch the store themselves: each write is a function handed to
``HubVoice.db``, run on the event loop's thread (the hub's one writer) and followed by
``Hub.fan_out``, so a call's row reaches the nodes the moment it is written. A task polls the
nodes' ``call_requests`` (Набрать, Перевести, hang up) and executes each once.

Settings: the replicated ``sip_lines`` row (server, port, user, mode, menu, ring time), the
password sealed under ``DATA/keys`` (``lsnode.sync.keys``, name ``sip-password``), and the
machine-local ``DATA/voice.json`` (the hub's own IP for SDP, its SIP port, the RTP range) —
written by ``lsavto voice configure``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from lsnode.sync.keys import SecretMaskFilter, load_secret
from lsnode.voice.ivr import Menu
from lsnode.voice.journal import CallJournal
from lsnode.voice.line import LineConfig, VoiceLine

log = logging.getLogger("lsavto.voice")

SECRET_NAME = "sip-password"
LOCAL_FILE = "voice.json"
REQUEST_POLL_S = 0.2
#: A «Набрать» that reaches the hub later than this (the node was offline) is not dialled: the
#: employee's phone must not ring for a click made long ago.
DIAL_TTL_S = 90.0


def local_settings(data_dir: Path) -> dict[str, Any]:
    path = Path(data_dir) / LOCAL_FILE
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def line_config(journal: CallJournal, data_dir: Path) -> LineConfig | None:
    row = journal.line()
    if row is None:
        return None
    local = local_settings(data_dir)
    password = (load_secret(data_dir, SECRET_NAME) or b"").decode("utf-8")
    if password:
        for handler in logging.getLogger().handlers:
            for f in handler.filters:
                if isinstance(f, SecretMaskFilter):
                    f.add(password)
    return LineConfig(
        row["id"],
        row["server"],
        int(row["port"]),
        row["username"],
        password,
        mode=row["mode"],
        ring_s=int(row["ring_s"]),
        menu=Menu.from_json(row["menu"]),
        my_ip=str(local.get("my_ip", "127.0.0.1")),
        sip_port=int(local.get("sip_port", 5060)),
        rtp_low=int(local.get("rtp_low", 10000)),
        rtp_high=int(local.get("rtp_high", 20000)),
        expires=int(local.get("expires", 120)),
        register_timeout=float(local.get("register_timeout", 5.0)),
        data_dir=Path(data_dir),
    )


class HubVoice:
    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.journal = CallJournal(hub.db)
        self.line: VoiceLine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Start the line if one is configured (and enabled); False if there is none."""
        config = line_config(self.journal, self.hub.data_dir)
        if config is None:
            return False
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.line = VoiceLine(config, self.db)
        self.line.start()
        self._task = asyncio.create_task(self._requests())
        log.info("SIP line to %s:%s started (%s)", config.server, config.port, config.mode)
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.line is not None:
            line, self.line = self.line, None
            # stop() writes the line's state through db(): run it off the loop and serve it.
            await asyncio.to_thread(line.stop)

    def db(self, fn: Any) -> Any:
        """Run ``fn(journal)`` on the loop's thread and fan the change out; wait for it."""
        loop = self._loop
        assert loop is not None
        if threading.get_ident() == self._loop_thread:
            result = fn(self.journal)
            loop.create_task(self.hub.fan_out())
            return result
        try:
            return asyncio.run_coroutine_threadsafe(self._job(fn), loop).result(60)
        except (concurrent.futures.CancelledError, RuntimeError, TimeoutError) as exc:
            log.warning("a call's store write was dropped (the hub is stopping?): %r", exc)
            return None

    async def _job(self, fn: Any) -> Any:
        result = fn(self.journal)
        await self.hub.fan_out()
        return result

    async def _requests(self) -> None:
        while True:
            await asyncio.sleep(REQUEST_POLL_S)
            try:
                for req in self.journal.pending_requests():
                    if req["kind"] == "dial" and _age_s(req["created_at"]) > DIAL_TTL_S:
                        self.journal.request_done(req["id"], False, "expired")
                        await self.hub.fan_out()
                        continue
                    if self.journal.claim_request(req["id"]):
                        self._execute(req)
                        await self.hub.fan_out()
            except Exception:
                log.exception("call requests")

    def _execute(self, req: dict[str, Any]) -> None:
        line, j = self.line, self.journal
        ok, result = False, ""
        try:
            if line is None:
                result = "the SIP line is off"
            elif req["kind"] == "dial":
                emp = j.employee(req["employee_id"] or "")
                if emp is None or not emp.get("extension"):
                    result = "the employee has no extension"
                elif not req["phone"]:
                    result = "no phone to dial"
                else:
                    name = ""
                    if req["counterparty_id"]:
                        client = j.clients.counterparty(req["counterparty_id"])
                        name = client["full_name"] if client else ""
                    result = line.dial(
                        emp["id"],
                        emp["extension"],
                        req["phone"],
                        req["counterparty_id"],
                        name,
                        req["call_id"] or None,  # «Перезвонить»: the call it returns
                    )
                    ok = True
            elif req["kind"] == "transfer":
                result = line.transfer(
                    req["call_id"] or "", req["to_employee_id"] or "", req["employee_id"]
                )
                ok = not result
            else:
                result = line.hangup(req["call_id"] or "")
                ok = not result
        except Exception as exc:
            result = f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception):
            j.request_done(req["id"], ok, result)


def _age_s(created_at: str | None) -> float:
    """Seconds since a row's ``created_at`` (0 when it cannot be read)."""
    from datetime import UTC, datetime

    try:
        then = datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return (datetime.now(UTC) - then).total_seconds()
