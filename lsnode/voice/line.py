"""The hub's SIP line: registration with backoff, the voice menu, routing, bridging, recording.

``VoiceLine`` drives ``lsnode.voice.sip.HubPhone`` from plain threads (pyVoIP's own, one per
call) and feeds the pure ``Call`` machine; every store write goes through ``db`` — a callable
that runs a function with a ``CallJournal`` on the thread that owns the store and publishes the
change (``hub/voice.py`` marshals it onto the hub's event loop and fans it out to the nodes).

An incoming call, in the line's ``bridge`` mode: the caller is announced at once (the ``calls``
row: ВХОДЯЩИЙ ВЫЗОВ with the client found by number), answered, hears the menu; the digit (or
the timeout: the operator) gives the department and purpose; the router picks the available
employee and their extension rings (the caller hears ringback) for the purpose's ring time;
busy, unregistered or no answer: the next one, recorded with its reason; nobody: «все
операторы заняты» and the waiting queue until someone is free or the caller hangs up (missed:
unprocessed traffic and a callback task). Answered: audio is relayed both ways every 20 ms and
recorded to a stereo WAV (caller left, employee right) under ``DATA/recordings``. In ``redirect``
mode the call is handed to the extension with a 302 before answering; in ``refer`` mode with a
REFER after the menu — no media through the hub, no recording; the hub's leg goes once the
caller's NOTIFY says the extension answered, and a caller that refuses the REFER (or never says)
is bridged here as in ``bridge`` mode.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pyVoIP.VoIP import CallState as LegState

from lsnode.clock import Clock, system_clock
from lsnode.ids import uuid7
from lsnode.voice.call import Call, CallEvent, CallState
from lsnode.voice.ivr import DEFAULT_MENU, Menu, MenuChoice, MenuSession, load_prompt, prompt_path
from lsnode.voice.ivr import tone as ringback_tone
from lsnode.voice.journal import CallJournal
from lsnode.voice.sip import ALL_FIXES, FRAME, SILENCE, CallerId, Fix, HubCall, HubPhone

log = logging.getLogger("lsavto.voice")
T = TypeVar("T")
Db = Callable[[Callable[[CallJournal], Any]], Any]

TICK_S = 0.020
REFER_WAIT_S = 10.0  # how long a REFER may take to say whether the caller reached the extension
#: An outgoing call's end reasons: the relay names the legs as an incoming call's (A = caller),
#: but «Набрать» puts the employee on A and the client on B.
OUT_REASONS = {"caller_hangup": "employee_hangup", "employee_hangup": "client_hangup"}
MAX_RELAY_BACKLOG = 3  # frames waiting on a leg before the oldest are dropped


@dataclass
class LineConfig:
    line_id: str | None
    server: str
    port: int
    username: str
    password: str
    mode: str = "bridge"
    ring_s: int = 20
    menu: Menu = DEFAULT_MENU
    my_ip: str = "127.0.0.1"
    sip_port: int = 5060
    rtp_low: int = 10000
    rtp_high: int = 20000
    expires: int = 120
    register_timeout: float = 5.0
    data_dir: Path | None = None  # recordings and the dealer's own prompts
    queue_retry_s: float = 3.0
    queue_max_s: float = 600.0
    answer_timeout_s: float = 60.0  # an outgoing call's client
    fixes: frozenset[Fix] = ALL_FIXES


@dataclass
class Live:
    """A call the line is handling now."""

    row_id: str
    call: Call
    caller: CallerId
    a: HubCall | None = None
    b: HubCall | None = None
    department: str | None = None
    purpose_id: str | None = None
    tried: set[str] = field(default_factory=set)
    attempt: int = 0
    transfer_to: str | None = None
    transfer_by: str | None = None
    hangup: threading.Event = field(default_factory=threading.Event)
    recorder: Any = None
    recording: str = ""
    relay: dict[str, float] = field(default_factory=lambda: {"frames": 0, "dropped": 0})


class VoiceLine:
    def __init__(self, config: LineConfig, db: Db, clock: Clock = system_clock) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.phone: HubPhone | None = None
        self.state = "off"
        self.live: dict[str, Live] = {}  # by SIP Call-ID of the caller's leg
        self.by_row: dict[str, Live] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prompts: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._chosen: dict[str, str] = {}  # call row -> the employee its last route chose
        self.on_event: Callable[[str, Live], None] | None = None  # tests and the bench listen

    # -- the line's life --------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, name="sip line", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        phone = self.phone
        for live in list(self.live.values()):
            live.hangup.set()
        if phone is not None:
            phone.stop()
        if self._thread is not None:
            self._thread.join(self.config.register_timeout * 3 + 5)
        self._publish("off", "stopped")

    def wait_registered(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state == "registered":
                return True
            time.sleep(0.05)
        return False

    def _publish(self, state: str, detail: str = "") -> None:
        if state == self.state and state != "down":
            return
        self.state = state
        log.info("SIP line %s:%s %s %s", self.config.server, self.config.port, state, detail)
        line_id = self.config.line_id
        if line_id:
            with contextlib.suppress(Exception):
                self.db(lambda j: j.set_line_state(line_id, state, detail))

    def _new_phone(self) -> HubPhone:
        c = self.config
        return HubPhone(
            c.server,
            c.port,
            c.username,
            c.password,
            my_ip=c.my_ip,
            sip_port=c.sip_port,
            rtp_low=c.rtp_low,
            rtp_high=c.rtp_high,
            on_invite=self._on_invite,
            on_call=self._on_call,
            fixes=c.fixes,
            expires=c.expires,
            register_timeout=c.register_timeout,
        )

    def _supervise(self) -> None:
        """Register; watch; when the PBX goes away, register again with backoff (full jitter,
        capped at a minute)."""
        backoff = 1.0
        while not self._stop.is_set():
            phone = self._new_phone()
            self._publish("registering")
            try:
                phone.start()
            except Exception as exc:
                self._publish("down", f"{type(exc).__name__}: {exc}")
                phone.stop()
                self._stop.wait(random.uniform(0, backoff))
                backoff = min(60.0, backoff * 2)
                continue
            self.phone = phone
            lost_since: float | None = None
            while not self._stop.wait(0.2):
                status = phone.get_status().value
                if status == "REGISTERED":
                    lost_since = None
                    backoff = 1.0
                    self._publish("registered")
                elif status in ("FAILED", "INACTIVE"):
                    break
                else:
                    lost_since = lost_since or time.monotonic()
                    if time.monotonic() - lost_since > self.config.register_timeout:
                        self._publish("down", "the PBX does not answer REGISTER")
            if self._stop.is_set():
                return
            self._publish("down", "registration lost")
            phone.stop()
            self._stop.wait(random.uniform(0, backoff))
            backoff = min(60.0, backoff * 2)

    # -- helpers ----------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock()

    def _emit(self, what: str, live: Live) -> None:
        if self.on_event is not None:
            with contextlib.suppress(Exception):
                self.on_event(what, live)

    def _move(self, live: Live, event: CallEvent, **detail: Any) -> None:
        live.call.apply(event, self._now(), **detail)
        extra = {k: v for k, v in detail.items() if k in ("extension", "codec")}
        call = live.call
        if call.done:
            self._close_recorder(live)
            rec = live.recording
            self.db(lambda j: j.finished(live.row_id, call, rec))
            with self._lock:
                self.by_row.pop(live.row_id, None)
                self._chosen.pop(live.row_id, None)
                if live.a is not None:
                    self.live.pop(live.a.call_id, None)
        else:
            self.db(lambda j: j.moved(live.row_id, call, **extra))
        self._emit(call.state.value, live)

    def prompt(self, name: str) -> bytes:
        if name not in self._prompts:
            self._prompts[name] = load_prompt(prompt_path(name, self.config.data_dir))
        return self._prompts[name]

    @staticmethod
    def _gone(leg: HubCall) -> bool:
        return leg.ended.is_set() or leg.state == LegState.ENDED

    def _fill(self, leg: HubCall, source: bytes, pos: int) -> int:
        """Keep the leg's outgoing buffer two frames full from ``source``; the RTP sender's own
        clock paces playback, so it never drifts against ours."""
        if not leg.RTPClients:
            return pos
        out = leg.RTPClients[0].pmout
        level = out.available() if hasattr(out, "available") else 0
        while level < 2 * FRAME and pos < len(source):
            leg.write_frame(source[pos : pos + FRAME])
            pos += FRAME
            level += FRAME
        return pos

    # -- incoming ---------------------------------------------------------------------------

    def _on_invite(self, sip_call_id: str, caller: CallerId) -> None:
        """The INVITE just arrived: the calls row (the popup's ВХОДЯЩИЙ ВЫЗОВ) goes out now."""
        live = Live(uuid7(), Call.incoming(self._now()), caller)
        with self._lock:
            self.live[sip_call_id] = live
            self.by_row[live.row_id] = live
        line_id, call = self.config.line_id, live.call
        self.db(lambda j: j.incoming(live.row_id, call, line_id, sip_call_id, caller))
        self._emit("incoming", live)

    def _on_call(self, a: HubCall) -> None:
        live = self.live.get(a.call_id)
        if live is None:  # announced by the stock 1 s timer path
            self._on_invite(a.call_id, a.caller or CallerId("", "", None))
            live = self.live[a.call_id]
        live.a = a
        try:
            self._incoming(live, a)
        finally:
            if not live.call.done:
                self._move(live, CallEvent.HANG_UP, reason="line_error")
            for leg in (live.b, a):
                if leg is not None and not self._gone(leg):
                    with contextlib.suppress(Exception):
                        leg.hangup()

    def _incoming(self, live: Live, a: HubCall) -> None:
        phone = self.phone
        assert phone is not None
        mode = self.config.mode
        if mode == "redirect":
            operator = self.config.menu.operator
            self._choose_department(live, operator, "")
            choice, route_id = self._route(live)
            if choice is not None:
                phone.redirect(a, choice[1])
                self.db(lambda j: j.route_outcome(route_id, "redirected"))
                self._move(
                    live,
                    CallEvent.HAND_OFF,
                    employee_id=choice[0],
                    extension=choice[1],
                    reason="redirected",
                )
                return
        a.answer()
        self._move(live, CallEvent.ANSWER_MENU, codec=a.codec)
        menu = self.config.menu
        picked = self._menu(live, a) if menu.enabled else menu.operator
        if picked is None:
            self._move(live, CallEvent.HANG_UP, reason="caller_hangup")
            return
        if mode == "refer":
            choice, route_id = self._route(live)
            if choice is not None:
                phone.refer(a, choice[1])
                deadline = time.monotonic() + REFER_WAIT_S
                while not (a.refer_done.is_set() or self._gone(a)) and time.monotonic() < deadline:
                    a.refer_done.wait(TICK_S * 5)
                if self._gone(a) or 200 <= a.refer_status < 300:
                    self.db(lambda j: j.route_outcome(route_id, "referred"))
                    self._move(
                        live,
                        CallEvent.HAND_OFF,
                        employee_id=choice[0],
                        extension=choice[1],
                        reason="referred",
                    )
                    return  # the caller talks to the extension now: our leg goes (BYE)
                # Refused (a SIP trunk that will not transfer) or no word: bridge it here.
                outcome = f"refer_failed_{a.refer_status or 'timeout'}"
                self.db(lambda j: j.route_outcome(route_id, outcome))
        self._serve(live, a)

    def _choose_department(self, live: Live, choice: MenuChoice, digits: str) -> None:
        live.department = choice.department
        live.purpose_id = self.db(lambda j: j.purpose_for(choice))
        row_id, purpose_id = live.row_id, live.purpose_id
        self.db(
            lambda j: j.writer.update(
                "calls",
                row_id,
                {"department": choice.department, "purpose_id": purpose_id, "menu_digits": digits},
            )
        )

    def _menu(self, live: Live, a: HubCall) -> MenuChoice | None:
        session = MenuSession(self.config.menu)
        audio = b"".join(self.prompt(p) for p in self.config.menu.prompts)
        pos, seen = 0, 0
        while True:
            if self._gone(a) or live.hangup.is_set():
                return None
            while seen < len(a.digits):
                session.digit(a.digits[seen])
                seen += 1
            if pos < len(audio) and session.chosen is None:
                pos = self._fill(a, audio, pos)
                if pos >= len(audio):
                    session.prompts_done(time.monotonic())
            else:
                session.prompts_done(time.monotonic())
            picked = session.tick(time.monotonic())
            if picked is not None:
                digits = "" if session.by_timeout else session.digits
                self._choose_department(live, picked, digits)
                return picked
            time.sleep(TICK_S / 2)

    def _in_call(self, live: Live) -> set[str]:
        """Employees another live call is ringing, talking to, or has just chosen."""
        with self._lock:
            others = [x for x in self.by_row.values() if x is not live and not x.call.done]
            chosen = {e for row, e in self._chosen.items() if row != live.row_id}
        return {x.call.employee_id for x in others if x.call.employee_id} | chosen

    def _route(self, live: Live) -> tuple[tuple[str, str] | None, str]:
        live.attempt += 1
        forced = live.transfer_to
        attempt, dept, purpose, tried = live.attempt, live.department, live.purpose_id, live.tried

        def decide(j: CallJournal) -> tuple[Any, str]:
            # Decisions are serialised by db() (the store's one writer): computing who is busy
            # here, and noting the choice before the next decision, keeps two calls arriving
            # together from ringing the same employee.
            in_call = self._in_call(live)
            if forced:
                emp = j.employee(forced)
                ext = (emp or {}).get("extension") or ""
                route_id = j.writer.insert(
                    "call_routes",
                    {
                        "call_id": live.row_id,
                        "at": j.writer.clock(),
                        "attempt": attempt,
                        "employee_id": forced,
                        "reason": "transfer requested",
                        "skipped": "[]",
                    },
                )
                with self._lock:
                    self._chosen[live.row_id] = forced
                return ((forced, ext) if ext else None), route_id
            choice, route_id = j.route(live.row_id, attempt, dept, purpose, in_call, tried)
            if choice.employee_id is None:
                return None, route_id
            with self._lock:
                self._chosen[live.row_id] = choice.employee_id
            return (choice.employee_id, choice.extension), route_id

        result: tuple[tuple[str, str] | None, str] = self.db(decide)
        live.transfer_to = None
        return result

    def _serve(self, live: Live, a: HubCall) -> None:
        phone = self.phone
        assert phone is not None
        queued_since: float | None = None
        busy = self.prompt(self.config.menu.busy_prompt)
        ring_default = self.config.ring_s
        while not self._gone(a) and not live.hangup.is_set():
            choice, route_id = self._route(live)
            if choice is None:
                if queued_since is None:
                    queued_since = time.monotonic()
                    self._move(live, CallEvent.QUEUE)
                    self.db(lambda j: j.queued(live.row_id))
                if time.monotonic() - queued_since > self.config.queue_max_s:
                    self._move(live, CallEvent.GIVE_UP, reason="queue_timeout")
                    return
                live.tried.clear()  # after a pause everyone may be tried again
                self._play_for(a, live, busy, self.config.queue_retry_s)
                continue
            employee_id, extension = choice
            self._move(live, CallEvent.RING, employee_id=employee_id, extension=extension)
            purpose = live.purpose_id
            ring_s = self.db(lambda j: j.ring_s(purpose, ring_default))  # noqa: B023
            b = phone.call(extension, live.caller)
            live.b = b
            outcome = self._ring(live, a, b, ring_s)
            self.db(lambda j: j.route_outcome(route_id, outcome))  # noqa: B023
            if outcome == "caller_hangup":
                self._move(live, CallEvent.HANG_UP, reason="caller_hangup")
                return
            if outcome != "answered":
                live.tried.add(employee_id)
                continue
            self._move(live, CallEvent.CONNECT, codec=a.codec)
            self.db(lambda j: j.connected(live.row_id, employee_id))  # noqa: B023
            ended = self._relay(live, a, b)
            if ended == "transfer":
                target, by = live.transfer_to, live.transfer_by
                with contextlib.suppress(Exception):
                    b.hangup()
                assert target is not None
                self.db(lambda j: j.transfer_switch(live.row_id, target, by))  # noqa: B023
                self._move(live, CallEvent.TRANSFER, employee_id=target)
                live.tried = {employee_id}
                live.transfer_to = target  # the next _route() rings exactly them
                continue
            for leg in (a, b):
                if not self._gone(leg):
                    with contextlib.suppress(Exception):
                        leg.hangup()
            self._move(live, CallEvent.HANG_UP, reason=ended)
            return
        if not live.call.done:
            self._move(live, CallEvent.HANG_UP, reason="caller_hangup")

    def _play_for(self, a: HubCall, live: Live, audio: bytes, seconds: float) -> None:
        deadline = time.monotonic() + max(seconds, len(audio) / 8000)
        pos = 0
        while time.monotonic() < deadline and not self._gone(a) and not live.hangup.is_set():
            pos = self._fill(a, audio, pos)
            time.sleep(TICK_S / 2)

    def _ring(self, live: Live, a: HubCall | None, b: HubCall, ring_s: float) -> str:
        tone = ringback_tone(5.0)
        pos = 0
        deadline = time.monotonic() + ring_s
        while True:
            if live.hangup.is_set() or (a is not None and self._gone(a)):
                b.hangup()
                return "caller_hangup"
            if b.state == LegState.ANSWERED:
                return "answered"
            if self._gone(b):
                return b.reason or "failed"
            if time.monotonic() > deadline:
                b.reason = "no_answer"
                b.hangup()
                return "no_answer"
            if a is not None:
                pos = self._fill(a, tone, pos)
                if pos >= len(tone):
                    pos = 0
            time.sleep(TICK_S / 2)

    # -- bridging ---------------------------------------------------------------------------

    def _open_recorder(self, live: Live) -> None:
        if live.recorder is not None or self.config.data_dir is None:
            return
        day = live.call.started_at.strftime("%Y/%m/%d")
        rel = Path("recordings") / day / f"{live.row_id}.wav"
        path = Path(self.config.data_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        rec = wave.open(str(path), "wb")  # noqa: SIM115 (closed when the call ends)
        rec.setnchannels(2)
        rec.setsampwidth(1)
        rec.setframerate(8000)
        live.recorder, live.recording = rec, rel.as_posix()

    def _close_recorder(self, live: Live) -> None:
        if live.recorder is not None:
            with contextlib.suppress(Exception):
                live.recorder.close()
            live.recorder = None

    @staticmethod
    def _take(leg: HubCall, stats: dict[str, float]) -> bytes | None:
        if not leg.RTPClients:
            return None
        client = leg.rtp
        assert client is not None
        while client.available() > MAX_RELAY_BACKLOG * FRAME:
            client.read(FRAME, blocking=False)
            stats["dropped"] += 1
        return leg.read_frame()

    @staticmethod
    def _put(leg: HubCall, frame: bytes) -> None:
        """Relay a frame: a frame still waiting to go is replaced, not queued behind — the two
        phones' clocks never agree exactly, and queueing would turn that into delay."""
        if leg.RTPClients:
            out = leg.RTPClients[0].pmout
            if hasattr(out, "available") and out.available() >= FRAME:
                out.read(FRAME)
        leg.write_frame(frame)

    def _relay(self, live: Live, a: HubCall, b: HubCall) -> str:
        """Copy 20 ms frames both ways and record them, until a side hangs up, a transfer is
        asked for, or the hub hangs up."""
        self._open_recorder(live)
        stereo = bytearray(2 * FRAME)
        due = time.monotonic()
        stats = live.relay
        while True:
            if self._gone(a):
                return "caller_hangup"
            if self._gone(b):
                return "employee_hangup"
            if live.transfer_to:
                return "transfer"
            if live.hangup.is_set():
                return "hub_hangup"
            fa = self._take(a, stats)
            fb = self._take(b, stats)
            if fa is not None:
                self._put(b, fa)
            if fb is not None:
                self._put(a, fb)
            if live.recorder is not None and (fa is not None or fb is not None):
                stereo[0::2] = fa or SILENCE
                stereo[1::2] = fb or SILENCE
                live.recorder.writeframesraw(bytes(stereo))
            stats["frames"] += (fa is not None) + (fb is not None)
            due += TICK_S / 2
            now = time.monotonic()
            if now - due > 0.1:
                due = now
            time.sleep(max(0.0, due - now))

    # -- requests from the nodes (Набрать, Перевести, hang up) -----------------------------

    def transfer(self, row_id: str, to_employee: str, by: str | None) -> str:
        live = self.by_row.get(row_id)
        if live is None or live.call.state is not CallState.TALKING:
            return "the call is not being talked on the hub's line"
        live.transfer_by = by
        live.transfer_to = to_employee
        return ""

    def hangup(self, row_id: str) -> str:
        live = self.by_row.get(row_id)
        if live is None:
            return "no such live call"
        live.hangup.set()
        return ""

    def dial(
        self,
        employee_id: str,
        extension: str,
        phone_number: str,
        counterparty_id: str | None,
        client_name: str,
        returns: str | None = None,
    ) -> str:
        """«Набрать»: ring the employee's extension, then the client; bridge; log it.
        ``returns``: the earlier call this one returns (its traffic is joined)."""
        if self.phone is None or self.state != "registered":
            raise RuntimeError("the SIP line is not registered")
        live = Live(
            uuid7(),
            Call.outgoing(self._now(), employee_id),
            CallerId(client_name, phone_number, None),
        )
        with self._lock:
            self.by_row[live.row_id] = live
        line_id, call = self.config.line_id, live.call
        self.db(
            lambda j: j.outgoing(
                live.row_id, call, line_id, phone_number, counterparty_id, extension, returns
            )
        )
        thread = threading.Thread(
            target=self._dial,
            args=(live, extension, phone_number),
            name=f"dial {live.row_id}",
            daemon=True,
        )
        thread.start()
        return live.row_id

    def _transfer_out(self, live: Live, client: HubCall) -> str:
        """«Перевести» an outgoing call: the employee's leg goes, the requested colleague's
        extension rings while the client hears ringback; unanswered, the first employee's rings
        again. Returns "" when someone talks to the client again, else why the call ends."""
        phone = self.phone
        assert phone is not None
        target, by, first = live.transfer_to, live.transfer_by, live.call.employee_id
        live.transfer_to = None
        if live.a is not None and not self._gone(live.a):
            with contextlib.suppress(Exception):
                live.a.hangup()
        assert target is not None
        row_id = live.row_id
        self.db(lambda j: j.transfer_switch(row_id, target, by))
        attempts = [(target, self.db(lambda j: (j.employee(target) or {}).get("extension")))]
        if first and first != target:
            attempts.append((first, self.db(lambda j: (j.employee(first) or {}).get("extension"))))
        moved = False
        for employee_id, extension in attempts:
            if not extension:
                continue
            if not moved:
                self._move(live, CallEvent.TRANSFER, employee_id=employee_id, extension=extension)
                moved = True
            else:
                self._move(live, CallEvent.RING, employee_id=employee_id, extension=extension)
            leg = phone.call(extension, live.caller)
            live.a = leg
            outcome = self._ring(live, client, leg, self.config.ring_s)
            if outcome == "caller_hangup":
                return "client_hangup"
            if outcome == "answered":
                self._move(live, CallEvent.CONNECT, codec=client.codec)
                if employee_id != target:  # back to the one who asked: log the switch back
                    back: str = employee_id
                    self.db(lambda j: j.transfer_switch(row_id, back, target))  # noqa: B023
                return ""
        return "transfer_no_answer"

    def _dial(self, live: Live, extension: str, number: str) -> None:
        phone = self.phone
        assert phone is not None
        emp_leg = phone.call(extension, live.caller)
        live.a = emp_leg
        try:
            outcome = self._ring(live, None, emp_leg, self.config.ring_s)
            if outcome != "answered":
                reason = "hub_hangup" if outcome == "caller_hangup" else f"employee_{outcome}"
                self._move(live, CallEvent.GIVE_UP, reason=reason)
                return
            self._move(live, CallEvent.DIAL)
            digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
            client_leg = phone.call(digits)
            live.b = client_leg
            outcome = self._ring(live, emp_leg, client_leg, self.config.answer_timeout_s)
            if outcome != "answered":
                reason = "employee_hangup" if outcome == "caller_hangup" else f"client_{outcome}"
                self._move(live, CallEvent.GIVE_UP, reason=reason)
                return
            self._move(live, CallEvent.CONNECT, codec=client_leg.codec)
            employee_id = live.call.employee_id or ""
            self.db(lambda j: j.connected(live.row_id, employee_id))
            while True:
                assert live.a is not None
                ended = self._relay(live, live.a, client_leg)
                if ended != "transfer":
                    break
                ended = self._transfer_out(live, client_leg)
                if ended:
                    break
            # The relay names the legs as an incoming call's: here A is the employee.
            ended = OUT_REASONS.get(ended, ended)
            self._move(live, CallEvent.HANG_UP, reason=ended)
        finally:
            if not live.call.done:
                self._move(live, CallEvent.HANG_UP, reason="line_error")
            for leg in (live.a, live.b):
                if leg is not None and not self._gone(leg):
                    with contextlib.suppress(Exception):
                        leg.hangup()
