"""``lsavto bench calls``: the telephony figures of the hub, on 127.0.0.1 only.

A real hub (``hub.server.Hub`` with its SIP line, in process) registers to a scripted PBX (a UDP
socket in this process that answers REGISTER, places callers' INVITEs and answers the hub's
INVITEs to the employees' extensions at once), and a real paired node syncs from it over TLS.

1. ``popup``: INVITE sent by the PBX → the ``calls`` row committed on the node (what the popup
   reads), ``--calls`` calls at once, several rounds; p50/p95. Goal p95 ≤ 300 ms.
2. ``relay``: one call bridged for ``--minutes``: the caller's RTP side sends a 20 ms frame on
   its own absolute clock, every 25th one loud; the employee's side timestamps each loud frame
   as it arrives (and echoes everything back, so both directions run). Added delay one way =
   arrival − send; its median in the first and the last fifth of the call shows growth.
   Goal ≤ 40 ms and flat (growth ≤ 5 ms).
3. ``cpu``: the CPU time of the hub's call threads (the relay, pyVoIP's RTP threads) while
   ``--calls`` calls are bridged, per call, in % of one core. Goal ≤ 8 %.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GOAL_POPUP_P95_MS = 300.0
GOAL_RELAY_MS = 40.0
GOAL_RELAY_GROWTH_MS = 5.0
GOAL_CPU_PCT = 8.0
LO = "127.0.0.1"
LOUD = bytes([0x00]) * 160  # µ-law 0x00: full scale
QUIET = bytes([0xFF]) * 160  # µ-law 0xFF: silence


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LO, 0))
        return int(s.getsockname()[1])


def _headers(msg: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in msg.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        key, _, value = line.partition(":")
        out.setdefault(key.strip().lower(), value.strip())
    return out


def _sdp(port: int) -> str:
    return (
        f"v=0\r\no=- 1 1 IN IP4 {LO}\r\ns=-\r\nc=IN IP4 {LO}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
    )


class Pbx(threading.Thread):
    """The scripted PBX: REGISTER → 200, hub's INVITE → 200 at once, callers' INVITEs out."""

    def __init__(self) -> None:
        super().__init__(name="bench pbx", daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LO, 0))
        self.port = self.sock.getsockname()[1]
        self.hub: tuple[str, int] | None = None
        self.running = True
        self.callers: dict[str, dict[str, Any]] = {}  # our INVITEs to the hub
        self.phones: dict[str, socket.socket] = {}  # hub's INVITEs: the employee's RTP socket
        self.echo = True
        self.arrivals: list[float] = []

    def run(self) -> None:
        self.sock.settimeout(0.2)
        while self.running:
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            with contextlib.suppress(Exception):
                self.handle(data.decode("utf-8", "replace"), addr)

    def reply(self, msg: str, code: str, extra: str = "", body: str = "") -> None:
        h = _headers(msg)
        text = (
            f"SIP/2.0 {code}\r\nVia: {h['via']}\r\nFrom: {h['from']}\r\n"
            f"To: {h['to']}{'' if 'tag=' in h['to'] else ';tag=pbx'}\r\n"
            f"Call-ID: {h['call-id']}\r\nCSeq: {h['cseq']}\r\n{extra}"
        )
        if body:
            text += "Content-Type: application/sdp\r\n"
        text += f"Content-Length: {len(body)}\r\n\r\n{body}"
        assert self.hub is not None
        self.sock.sendto(text.encode(), self.hub)

    def handle(self, msg: str, addr: tuple[str, int]) -> None:
        first = msg.split("\r\n", 1)[0]
        h = _headers(msg)
        if first.startswith("REGISTER"):
            self.hub = addr
            self.reply(msg, "200 OK", f"Contact: {h.get('contact', '')};expires=3600\r\n")
        elif first.startswith("INVITE"):
            rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rtp.bind((LO, 0))
            self.phones[h["call-id"]] = rtp
            threading.Thread(
                target=self._phone_media, args=(rtp,), daemon=True, name="bench phone"
            ).start()
            self.reply(
                msg,
                "200 OK",
                f"Contact: <sip:ext@{LO}:{self.port}>\r\n",
                _sdp(rtp.getsockname()[1]),
            )
        elif first.startswith("BYE"):
            self.reply(msg, "200 OK")
            sock = self.phones.pop(h["call-id"], None)
            if sock is not None:
                sock.close()
        elif first.startswith("SIP/2.0 200") and "INVITE" in h.get("cseq", ""):
            call = self.callers.get(h["call-id"])
            if call is not None:
                call["to"] = h["to"]
                body = msg.split("\r\n\r\n", 1)[1]
                port = next(int(ln.split()[1]) for ln in body.split("\r\n") if ln.startswith("m="))
                call["hub_rtp"] = port
                ack = (
                    f"ACK sip:hub@{LO} SIP/2.0\r\nVia: SIP/2.0/UDP {LO}:{self.port};branch="
                    f"z9hG4bK{uuid.uuid4().hex}\r\nFrom: {call['from']}\r\nTo: {h['to']}\r\n"
                    f"Call-ID: {h['call-id']}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
                )
                assert self.hub is not None
                self.sock.sendto(ack.encode(), self.hub)
                call["answered"].set()

    def _phone_media(self, rtp: socket.socket) -> None:
        """The employee's phone: note each loud frame's arrival, echo everything back."""
        rtp.settimeout(0.5)
        while True:
            try:
                data, addr = rtp.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.perf_counter()
            if len(data) > 12 and data[12] == LOUD[0] and data[13] == LOUD[1]:
                self.arrivals.append(now)
            if self.echo:
                with contextlib.suppress(OSError):
                    rtp.sendto(data, addr)

    def invite(self, n: int) -> tuple[str, socket.socket]:
        assert self.hub is not None
        cid = f"bench-{uuid.uuid4().hex}"
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind((LO, 0))
        from_ = f'"Бенч {n}" <sip:+7916000{n:04d}@{LO}>;tag=c{n}'
        self.callers[cid] = {"from": from_, "answered": threading.Event(), "rtp": rtp}
        text = (
            f"INVITE sip:hub@{LO} SIP/2.0\r\nVia: SIP/2.0/UDP {LO}:{self.port};branch="
            f"z9hG4bK{cid}\r\nFrom: {from_}\r\nTo: <sip:hub@{LO}>\r\nCall-ID: {cid}\r\n"
            f"CSeq: 1 INVITE\r\nContact: <sip:c{n}@{LO}:{self.port}>\r\nMax-Forwards: 70\r\n"
            "Content-Type: application/sdp\r\n"
        )
        body = _sdp(rtp.getsockname()[1])
        self.sock.sendto(f"{text}Content-Length: {len(body)}\r\n\r\n{body}".encode(), self.hub)
        return cid, rtp

    def bye(self, cid: str) -> None:
        call = self.callers.pop(cid, None)
        if call is None or self.hub is None:
            return
        text = (
            f"BYE sip:hub@{LO} SIP/2.0\r\nVia: SIP/2.0/UDP {LO}:{self.port};branch="
            f"z9hG4bK{uuid.uuid4().hex}\r\nFrom: {call['from']}\r\nTo: {call.get('to', '')}"
            f"\r\nCall-ID: {cid}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
        )
        self.sock.sendto(text.encode(), self.hub)
        call["rtp"].close()


def _send_audio(rtp: socket.socket, port: int, seconds: float, sent: list[float] | None) -> None:
    """The caller's phone: a frame every 20 ms on an absolute clock; every 25th loud."""
    due, seq = time.perf_counter(), 0
    end = due + seconds
    while due < end:
        loud = seq % 25 == 0
        payload = LOUD if loud else QUIET
        packet = bytes([0x80, 0]) + (seq & 0xFFFF).to_bytes(2, "big")
        packet += (seq * 160 & 0xFFFFFFFF).to_bytes(4, "big") + b"\0\0\0\7" + payload
        with contextlib.suppress(OSError):
            rtp.sendto(packet, (LO, port))
        if loud and sent is not None:
            sent.append(time.perf_counter())
        seq += 1
        due += 0.020
        time.sleep(max(0.0, due - time.perf_counter()))


def _thread_cpu() -> float:
    """CPU seconds of the hub's call threads (relay, pyVoIP RTP and SIP threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for t in threading.enumerate():
        if t.name.startswith("bench") or t.native_id is None:
            continue
        if not (t.name.startswith(("call ", "RTP ", "SIP ", "dial "))):
            continue
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/self/task/{t.native_id}/stat").read_text().rsplit(")", 1)[1]
            parts = fields.split()
            total += (int(parts[11]) + int(parts[12])) / tick
    return total


async def _bench(tmp: Path, calls: int, minutes: float) -> dict[str, Any]:
    from bench.sync import _paired
    from hub.server import Hub
    from lsnode.store.changes import Writer
    from lsnode.store.db import init_store

    pbx = Pbx()
    pbx.start()
    hub_dir = tmp / "hub"
    db = init_store(hub_dir)
    w = Writer(db)
    for i in range(calls):
        w.insert(
            "employees",
            {
                "short_name": f"Сотрудник {i}",
                "extension": str(101 + i),
                "departments": '["other"]',
                "presence": "available",
            },
        )
    w.insert(
        "sip_lines",
        {
            "server": LO,
            "port": pbx.port,
            "username": "hub",
            "mode": "bridge",
            "state": "off",
            "menu": json.dumps({"enabled": False}),
        },
    )
    db.close()
    (hub_dir / "voice.json").write_text(
        json.dumps({"sip_port": _free_port(), "rtp_low": 30000, "rtp_high": 30999, "expires": 3600})
    )
    hub = Hub(hub_dir)
    await hub.start()
    seen: dict[str, float] = {}
    paired = await _paired(hub, tmp / "node")
    paired.db.close()
    from lsnode.sync.client import NodeAgent

    def applied(_: int) -> None:
        now = time.perf_counter()
        for (cid,) in agent.db.execute("SELECT sip_call_id FROM calls").fetchall():
            seen.setdefault(cid, now)

    agent = NodeAgent(tmp / "node", paired.identity, on_applied=applied)
    task = asyncio.create_task(agent.run_forever())
    try:
        deadline = time.monotonic() + 30
        while (
            hub.voice is None or hub.voice.line is None or hub.voice.line.state != "registered"
        ) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the node connected and caught up
        popup: list[float] = []
        cpu_pct: list[float] = []
        for _round in range(4):
            sent = {}
            for n in range(calls):
                t0 = time.perf_counter()
                cid, rtp = pbx.invite(n)
                sent[cid] = (t0, rtp)
            t_end = time.monotonic() + 10
            while any(c not in seen for c in sent) and time.monotonic() < t_end:
                await asyncio.sleep(0.005)
            popup += [(seen[c] - t0) * 1000 for c, (t0, _) in sent.items() if c in seen]
            for cid in sent:
                await asyncio.to_thread(pbx.callers[cid]["answered"].wait, 10)
            senders = [
                threading.Thread(
                    target=_send_audio,
                    name="bench caller",
                    daemon=True,
                    args=(rtp, pbx.callers[c]["hub_rtp"], 4.0, None),
                )
                for c, (_, rtp) in sent.items()
            ]
            for s in senders:
                s.start()
            await asyncio.sleep(1.0)  # bridged and flowing
            c0, w0 = _thread_cpu(), time.perf_counter()
            await asyncio.sleep(2.0)
            c1, w1 = _thread_cpu(), time.perf_counter()
            cpu_pct.append((c1 - c0) / (w1 - w0) / calls * 100)
            for s in senders:
                await asyncio.to_thread(s.join)
            for cid in sent:
                pbx.bye(cid)
            await asyncio.sleep(1.0)
        # the long call
        pbx.arrivals.clear()
        cid, rtp = pbx.invite(999)
        await asyncio.to_thread(pbx.callers[cid]["answered"].wait, 10)
        await asyncio.sleep(0.5)
        loud: list[float] = []
        seconds = max(10.0, minutes * 60)
        await asyncio.to_thread(_send_audio, rtp, pbx.callers[cid]["hub_rtp"], seconds, loud)
        await asyncio.sleep(0.5)
        pbx.bye(cid)
        arrivals = list(pbx.arrivals)
        delays = []
        for sent_at in loud:
            got = next((a for a in arrivals if 0 <= a - sent_at < 0.5), None)
            if got is not None:
                delays.append((got - sent_at) * 1000)
        fifth = max(1, len(delays) // 5)
        first, last = statistics.median(delays[:fifth]), statistics.median(delays[-fifth:])
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        agent.db.close()
        await hub.stop()
        pbx.running = False
        pbx.sock.close()
    p95 = _pct(popup, 0.95)
    cpu = statistics.median(cpu_pct)
    return {
        "popup": {
            "setup": f"{calls} INVITEs at once from a scripted PBX to an in-process hub with its "
            "SIP line; one paired node over TLS; INVITE sent → calls row committed on the node",
            "samples": len(popup),
            "p50_ms": round(_pct(popup, 0.5), 1),
            "p95_ms": round(p95, 1),
            "goal_p95_ms_max": GOAL_POPUP_P95_MS,
            "goal_met": p95 <= GOAL_POPUP_P95_MS,
        },
        "relay": {
            "setup": "one bridged call; caller RTP on an absolute 20 ms clock, every 25th frame "
            "loud; arrival of loud frames at the employee's RTP socket (echoed back)",
            "seconds": round(seconds, 1),
            "frames_matched": len(delays),
            "added_delay_ms_median": round(statistics.median(delays), 1),
            "added_delay_ms_p95": round(_pct(delays, 0.95), 1),
            "first_fifth_ms": round(first, 1),
            "last_fifth_ms": round(last, 1),
            "growth_ms": round(last - first, 1),
            "goal_ms_max": GOAL_RELAY_MS,
            "goal_met": _pct(delays, 0.95) <= GOAL_RELAY_MS
            and abs(last - first) <= GOAL_RELAY_GROWTH_MS,
        },
        "cpu": {
            "setup": f"{calls} calls bridged, audio both ways; CPU of the hub's call, RTP and "
            "SIP threads over 2 s, per call",
            "per_call_pct_of_core": round(cpu, 2),
            "goal_pct_max": GOAL_CPU_PCT,
            "goal_met": cpu <= GOAL_CPU_PCT,
        },
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)},
    }


def run(calls: int = 5, minutes: float = 0.5) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lsavto-bench-calls-") as tmp:
        return asyncio.run(_bench(Path(tmp), calls, minutes))
