"""The one adapter over pyVoIP (pinned to 1.6.8): every workaround a bridging hub needs.

pyVoIP is a small pure-Python SIP/RTP stack; as a hub that answers, plays prompts and bridges two
calls it has eight defects, all seen on the wire (``../shared/STACK-NOTES.md``). Each is fixed
here, in subclasses, and each fix can be switched off by leaving its ``Fix`` out of ``fixes``, so
a test shows the failure without it:

=================  ================================================================================
``Fix``            what stock 1.6.8 does on the wire / what this module does instead
=================  ================================================================================
ACK                the ACK to a 2xx of our INVITE has the To's URI as Request-URI, a random To-tag
                   and no Route, so a proxy drops it and a strict phone ends the call after 32 s:
                   the ACK now goes to the 2xx's Contact, carries its To-tag and the route set.
PCMA               PCMA is encoded as µ-law: A-law is now encoded as A-law.
RTP_CLOCK          the sender sleeps "20 ms minus work", drifting to ~49.65 packets/s (delay grows
                   ~5.5 ms per second of call): now an absolute 20 ms schedule, and a backlog above
                   two frames is dropped instead of queued.
POLLING            RTP and SIP receive loops poll every 10 ms: now they block in ``select()``.
RTP_GAPS           a gap in RTP timestamps (a phone with VAD sends nothing in silence) is filled
                   with 0x00 — full-scale noise in unsigned 8-bit: gaps are now skipped.
BYE_URI            BYE's Request-URI is the Contact header with only ``<``/``>`` stripped, broken
                   by a display name (``"Name" <sip:…;ob>``): now the URI inside, with the route
                   set, our own Via and the dialog's tags.
FAILED_CALLS       an outgoing call's 404 raises KeyError inside ``phone.call()``; 486/480/408 are
                   ignored and never ACKed, the call stays DIALING; no CANCEL: now every final
                   response ≥ 300 is ACKed and ends the call with a reason, ``hangup()`` of a
                   ringing call sends CANCEL, and a ring timeout cancels.
OTHER_REQUESTS     OPTIONS (a PBX's keep-alive), NOTIFY, REFER … get no answer, and Record-Route is
                   not copied into responses: now each is answered (OPTIONS 200, NOTIFY 200, REFER
                   603, INFO 200 with its DTMF taken, others 501) and dialog-making responses copy
                   Record-Route; a malformed request gets 400 instead of silence.
EARLY_CALLER_ID    the call callback fires through a fixed 1 s timer: the INVITE handler now
                   announces the caller at once (the popup's ``on_invite``) and starts the call's
                   thread without the timer.
=================  ================================================================================

Caller ID is cleaned here too (``clean_caller_id``): stray quotes of pyVoIP's From parser and
any number format, normalised by ``lsnode.crm.normalize.normalize_phone``.

Audio through this module is what pyVoIP uses: 8 kHz mono, 8-bit unsigned linear, 160 bytes a
20 ms frame. Import order matters: ``pyVoIP.VoIP`` before ``pyVoIP.SIP`` (a circular import).
"""

from __future__ import annotations

import contextlib
import logging
import re
import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import pyVoIP
import pyVoIP.VoIP  # first: importing pyVoIP.SIP before it is a circular import
from pyVoIP import RTP, SIP
from pyVoIP.util import acquired_lock_and_unblocked_socket
from pyVoIP.VoIP import CallState as VoIPCallState
from pyVoIP.VoIP import InvalidStateError, PhoneStatus, VoIPCall, VoIPPhone

from lsnode.crm.normalize import normalize_phone

log = logging.getLogger("lsavto.voice.sip")

FRAME: Final = 160  # bytes of 8-bit audio in 20 ms at 8 kHz
PERIOD_S: Final = 0.020
SILENCE: Final = b"\x80" * FRAME
MAX_BACKLOG_FRAMES: Final = 2  # outgoing: more than this waiting is dropped (delay stays flat)
MAX_INBOUND_FRAMES: Final = 10  # incoming: a reader that stalls loses the oldest, not its lag
SELECT_S: Final = 0.2  # how often a blocked receive loop checks that it should stop


class Fix(StrEnum):
    ACK = "ack"
    PCMA = "pcma"
    RTP_CLOCK = "rtp_clock"
    POLLING = "polling"
    RTP_GAPS = "rtp_gaps"
    BYE_URI = "bye_uri"
    FAILED_CALLS = "failed_calls"
    OTHER_REQUESTS = "other_requests"
    EARLY_CALLER_ID = "early_caller_id"


ALL_FIXES: Final = frozenset(Fix)
STOCK_METHODS: Final = tuple(pyVoIP.SIPCompatibleMethods)
HUB_METHODS: Final = (
    *STOCK_METHODS,
    "OPTIONS",
    "NOTIFY",
    "REFER",
    "INFO",
    "MESSAGE",
    "SUBSCRIBE",
    "UPDATE",
    "PRACK",
    "PUBLISH",
)
ALLOW: Final = "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY, INFO"

#: Final responses of an outgoing call and why it ended, as the router reads them.
FAILURE_REASONS: Final = {
    486: "busy",
    600: "busy",
    603: "declined",
    404: "unregistered",
    480: "unregistered",
    410: "unregistered",
    408: "no_answer",
    487: "cancelled",
}


# -- caller ID ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallerId:
    """Who is calling: the display name cleaned, the number as sent and its E.164 form."""

    name: str
    number: str
    e164: str | None

    @property
    def shown(self) -> str:
        return self.e164 or self.number or self.name


_QUOTED = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*')
_STRAY = "\"' \t<>"


def clean_caller_id(from_header: str, region: str = "RU") -> CallerId:
    """Parse a From / P-Asserted-Identity value: ``"Иван" <sip:+7916…@h>;tag=x``, ``sip:8495…@h``,
    ``<tel:+7-916-…>``, ``Ivan <sip:84951234567@h>`` … Never raises: a bad header gives blanks."""
    text = from_header.strip()
    name = ""
    m = _QUOTED.match(text)
    if m:
        name = re.sub(r"\\(.)", r"\1", m.group(1))
        text = text[m.end() :]
    elif "<" in text:
        name, _, rest = text.partition("<")
        text = "<" + rest
    uri = text.partition("<")[2].partition(">")[0] if "<" in text else text.split(";", 1)[0]
    uri = uri.strip()
    scheme, _, rest = uri.partition(":")
    number = ""
    if scheme.lower() in ("sip", "sips"):
        user = rest.split("@", 1)[0] if "@" in rest else ""
        number = urllib.parse.unquote(user.split(";", 1)[0])
    elif scheme.lower() == "tel":
        number = urllib.parse.unquote(rest.split(";", 1)[0])
    name = " ".join(name.strip(_STRAY).split()).strip(_STRAY)
    number = number.strip(_STRAY)
    e164 = None
    if number and any(ch.isdigit() for ch in number):
        e164 = normalize_phone(number, region).e164
    return CallerId(name=name, number=number, e164=e164)


# -- raw header helpers ---------------------------------------------------------------------

_COMPACT: Final = {
    "f": "from",
    "t": "to",
    "i": "call-id",
    "v": "via",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
}


def header_values(raw: bytes | str, name: str) -> list[str]:
    """Every value of header ``name`` in a raw message, in order, comma lists split (outside
    ``<…>`` and quotes) for the headers that may be lists."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    head = text.split("\r\n\r\n", 1)[0]
    want = name.lower()
    values: list[str] = []
    for line in head.split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if _COMPACT.get(key, key) != want:
            continue
        if want in ("record-route", "route", "via"):
            values += _split_list(value)
        else:
            values.append(value.strip())
    return values


def _split_list(value: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth, quoted = 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def uri_of(value: str) -> str:
    """The URI of a name-addr or addr-spec: ``"A" <sip:x@h;ob>;exp=1`` → ``sip:x@h;ob``."""
    value = value.strip()
    if "<" in value:
        return value.partition("<")[2].partition(">")[0].strip()
    return value.split(";", 1)[0].strip() if value.lower().startswith(("sip", "tel")) else value


def tag_of(value: str) -> str:
    after = value.rpartition(">")[2] if ">" in value else value
    m = re.search(r";\s*tag=([^;\s]+)", after)
    return m.group(1) if m else ""


def _without_tag(value: str) -> str:
    if ">" in value:
        head, _, params = value.rpartition(">")
        return head + ">" + re.sub(r";\s*tag=[^;\s]+", "", params)
    return re.sub(r";\s*tag=[^;\s]+", "", value)


def _first_line(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text.split("\r\n", 1)[0]


def via_target(raw: bytes | str) -> tuple[str, int] | None:
    """Where a response to this request goes (RFC 3261 18.2.2: top Via, received/rport)."""
    vias = header_values(raw, "via")
    if not vias:
        return None
    via = vias[0]
    try:
        sent_by = via.split(None, 1)[1].split(";", 1)[0].strip()
    except IndexError:
        return None
    host, _, port = sent_by.partition(":")
    params = dict(([*p.split("=", 1), ""])[:2] for p in via.split(";")[1:] if p.strip())
    host = params.get("received") or host
    rport = params.get("rport")
    try:
        return host.strip(), int(rport or port or 5060)
    except ValueError:
        return None


def response_for(
    raw: bytes | str,
    code: int,
    reason: str,
    *,
    to_tag: str = "",
    extra: Iterable[str] = (),
    record_route: bool = False,
    body: str = "",
    content_type: str = "",
) -> str:
    """A response built from a request's raw text: its Vias, From, To (+ our tag), Call-ID,
    CSeq, and, for dialog-making responses, its Record-Route."""
    lines = [f"SIP/2.0 {code} {reason}"]
    lines += [f"Via: {v}" for v in header_values(raw, "via")]
    if record_route:
        lines += [f"Record-Route: {r}" for r in header_values(raw, "record-route")]
    for name in ("From", "To", "Call-ID", "CSeq"):
        values = header_values(raw, name)
        value = values[0] if values else ""
        if name == "To" and to_tag and not tag_of(value):
            value = f"{value};tag={to_tag}"
        lines.append(f"{name}: {value}")
    lines += list(extra)
    lines.append(f"User-Agent: LSAvto hub (pyVoIP {pyVoIP.__version__})")
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def _insert_record_route(response: str, request: SIP.SIPMessage) -> str:
    routes = header_values(request.raw, "record-route")
    if not routes:
        return response
    rr = "".join(f"Record-Route: {r}\r\n" for r in routes)
    head, sep, rest = response.partition("\r\nFrom:")
    return head + "\r\n" + rr.rstrip("\r\n") + sep + rest if sep else response


# -- dialogs --------------------------------------------------------------------------------


@dataclass
class Dialog:
    """What an in-dialog request of ours needs (RFC 3261 12): set on 2xx / on answering."""

    call_id: str
    local: str  # our From/To value with our tag
    remote: str  # theirs with their tag
    remote_target: str  # URI of their Contact
    route_set: list[str] = field(default_factory=list)
    cseq: int = 1

    def next_cseq(self) -> int:
        self.cseq += 1
        return self.cseq


@dataclass
class PendingInvite:
    """An INVITE we sent: what its ACK for a non-2xx and its CANCEL must repeat."""

    text: str
    ruri: str
    branch: str
    cseq: int
    from_value: str
    to_value: str
    sent_at: float = field(default_factory=time.monotonic)


# -- RTP ------------------------------------------------------------------------------------


class SequentialInbound(RTP.RTPPacketManager):
    """Received audio in arrival order: a timestamp gap is skipped (not filled with 0x00), a
    late or repeated packet is dropped, and at most ``max_frames`` wait (the oldest go)."""

    def __init__(self, max_frames: int = MAX_INBOUND_FRAMES) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._data = bytearray()
        self._lock = threading.Lock()
        self._last_ts: int | None = None
        self._max = max_frames * FRAME

    def write(self, offset: int, data: bytes) -> None:
        with self._lock:
            if self._last_ts is not None:
                behind = (self._last_ts - offset) % (1 << 32)
                if behind < (1 << 31):  # not newer than the last one
                    return
            self._last_ts = offset
            self._data += data
            if len(self._data) > self._max:
                del self._data[: len(self._data) - self._max]

    def read(self, length: int = FRAME) -> bytes:
        with self._lock:
            packet = bytes(self._data[:length])
            del self._data[:length]
        return packet + b"\x80" * (length - len(packet))

    def available(self) -> int:
        with self._lock:
            return len(self._data)


class BoundedOutbound(RTP.RTPPacketManager):
    """Audio waiting to be sent; above ``MAX_BACKLOG_FRAMES`` the oldest is dropped, so a
    writer that gets ahead (a relay burst) never turns into growing delay."""

    def __init__(self, max_frames: int = MAX_BACKLOG_FRAMES) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._data = bytearray()
        self._lock = threading.Lock()
        self._max = max_frames * FRAME
        self.dropped = 0

    def write(self, offset: int, data: bytes) -> None:
        with self._lock:
            self._data += data
            extra = len(self._data) - self._max
            if extra > 0:
                del self._data[:extra]
                self.dropped += extra

    def read(self, length: int = FRAME) -> bytes:
        with self._lock:
            packet = bytes(self._data[:length])
            del self._data[:length]
        return packet + b"\x80" * (length - len(packet))

    def available(self) -> int:
        with self._lock:
            return len(self._data)


class HubRTPClient(RTP.RTPClient):
    """One RTP stream with the RTP fixes; ``clock``/``sleep`` are injectable for tests."""

    def __init__(self, *args: Any, fixes: frozenset[Fix] = ALL_FIXES, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fixes = fixes
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], None] = time.sleep
        self.sent = 0
        if Fix.RTP_GAPS in fixes:
            self.pmin = SequentialInbound()
        if Fix.RTP_CLOCK in fixes:
            self.pmout = BoundedOutbound()

    def available(self) -> int:
        """Bytes of received audio waiting (an empty buffer reads as 0x80 padding)."""
        pm = self.pmin
        if isinstance(pm, SequentialInbound):
            return pm.available()
        return max(0, len(pm.buffer.getbuffer()) - pm.buffer.tell())

    def stop(self) -> None:
        self.NSD = False
        with contextlib.suppress(AttributeError, OSError):
            self.sin.close()

    def encode_packet(self, payload: bytes) -> bytes:
        if Fix.PCMA in self.fixes and self.preference == RTP.PayloadType.PCMA:
            return self.encode_pcma(payload)
        return super().encode_packet(payload)

    def parse_packet(self, packet: bytes) -> None:
        with contextlib.suppress(RTP.RTPParseError, IndexError, ValueError):
            super().parse_packet(packet)

    def recv(self) -> None:
        if Fix.POLLING not in self.fixes:
            return super().recv()
        while self.NSD:
            try:
                ready, _, _ = select.select([self.sin], [], [], SELECT_S)
            except (OSError, ValueError):
                return  # the socket was closed: the call ended
            if not ready:
                continue
            try:
                packet = self.sin.recv(8192)
            except BlockingIOError:
                continue
            except OSError:
                return
            self.parse_packet(packet)

    def trans(self) -> None:
        if Fix.RTP_CLOCK not in self.fixes:
            return super().trans()
        period = FRAME / (self.preference.rate or 8000)
        due = self.clock()
        while self.NSD:
            self.send_one()
            due += period
            now = self.clock()
            if now - due > MAX_BACKLOG_FRAMES * period:
                due = now  # suspended (a stalled machine): resume, do not burst to catch up
            self.sleep(max(0.0, due - now))

    def send_one(self) -> None:
        payload = self.encode_packet(self.pmout.read(FRAME))
        header = bytes([0x80, int(self.preference) & 0x7F])
        header += (self.outSequence & 0xFFFF).to_bytes(2, "big")
        header += (self.outTimestamp & 0xFFFFFFFF).to_bytes(4, "big")
        header += (self.outSSRC & 0xFFFFFFFF).to_bytes(4, "big")
        with contextlib.suppress(OSError):
            self.sout.sendto(header + payload, (self.outIP, self.outPort))
        self.outSequence += 1
        self.outTimestamp += len(payload)
        self.sent += 1


# -- SIP ------------------------------------------------------------------------------------


class HubSIPMessage(SIP.SIPMessage):
    """pyVoIP's parser, told which methods exist (stock refuses OPTIONS, NOTIFY …).

    pyVoIP reads every body as SDP (``key=value`` lines): a NOTIFY's ``message/sipfrag``
    («SIP/2.0 200 OK», a REFER's outcome) or a blank line inside a body makes it raise. With
    ``other_bodies`` (the OTHER_REQUESTS fix) only an SDP body is parsed; any other stays in
    ``raw`` for whoever reads it."""

    def __init__(
        self, data: bytes, methods: Iterable[str] = HUB_METHODS, other_bodies: bool = True
    ) -> None:
        self._methods = list(methods)
        self._other_bodies = other_bodies
        super().__init__(data)
        self.SIPCompatibleMethods = self._methods

    def parse(self, data: bytes) -> None:
        self.SIPCompatibleMethods = self._methods
        if self._other_bodies:
            head, sep, body = data.partition(b"\r\n\r\n")
            kinds = [v.lower() for v in header_values(head + sep, "content-type")]
            if body and not any(k.startswith("application/sdp") for k in kinds):
                data = head + sep  # not SDP: not for pyVoIP's SDP parser (``raw`` keeps it)
        super().parse(data)


class HubSIPClient(SIP.SIPClient):
    """pyVoIP's SIP client with the SIP fixes; requests and responses reach ``HubPhone``."""

    phone: HubPhone

    def __init__(self, *args: Any, fixes: frozenset[Fix] = ALL_FIXES, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fixes = fixes
        self.methods = HUB_METHODS if Fix.OTHER_REQUESTS in fixes else STOCK_METHODS
        self.malformed = 0

    # -- receiving

    def start(self) -> None:
        """Stock starts receiving a second after registering; the hub starts at once."""
        if self.NSD:
            raise RuntimeError("the SIP client is already started")
        self.NSD = True
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((self.myIP, self.myPort))
        self.out = self.s
        self.register()
        thread = threading.Thread(target=self.recv_loop, name="SIP receive", daemon=True)
        thread.start()

    def recv_loop(self) -> None:
        if Fix.POLLING not in self.fixes:
            return super().recv_loop()
        while self.NSD:
            try:
                ready, _, _ = select.select([self.s], [], [], SELECT_S)
            except (OSError, ValueError):
                return
            if not ready:
                continue
            try:
                with acquired_lock_and_unblocked_socket(self.recvLock, self.s):
                    self.recv()
            except BlockingIOError:
                continue
            except OSError:
                if not self.NSD:
                    return

    def recv(self) -> None:
        raw = self.s.recv(65535)
        if not raw.strip(b"\x00\r\n "):
            return  # keep-alive
        try:
            message = HubSIPMessage(raw, self.methods, Fix.OTHER_REQUESTS in self.fixes)
        except Exception as exc:
            self._malformed(raw, exc)
            return
        try:
            self.parse_message(message)
        except Exception:
            log.exception("SIP %s not handled", _first_line(raw)[:80])

    def _malformed(self, raw: bytes, exc: Exception) -> None:
        self.malformed += 1
        first = _first_line(raw)
        log.warning("malformed SIP ignored (%s): %r", type(exc).__name__, first[:80])
        is_request = first.endswith("SIP/2.0") and not first.startswith("SIP/")
        if Fix.OTHER_REQUESTS not in self.fixes or not is_request or first.startswith("ACK"):
            return
        if not (header_values(raw, "via") and header_values(raw, "call-id")):
            return
        self.send_response(raw, response_for(raw, 400, "Bad Request", to_tag=self.gen_tag()))

    def parse_message(self, message: SIP.SIPMessage) -> None:
        if message.type == SIP.SIPMessageType.RESPONSE:
            if Fix.FAILED_CALLS in self.fixes:
                self.phone.on_response(message)
                return
            super().parse_message(message)
            return
        method = message.method
        if method == "CANCEL" and Fix.FAILED_CALLS in self.fixes:
            self.phone.on_cancel(message)
        elif method in STOCK_METHODS:
            super().parse_message(message)
        elif Fix.OTHER_REQUESTS in self.fixes:
            self.answer_other(message)

    def answer_other(self, message: SIP.SIPMessage) -> None:
        raw, method, tag = message.raw, message.method, self.gen_tag()
        if method == "OPTIONS":
            extra = [f"Allow: {ALLOW}", "Accept: application/sdp", "Supported: "]
            text = response_for(raw, 200, "OK", to_tag=tag, extra=extra)
        elif method == "INFO":
            self.phone.on_info(message)
            text = response_for(raw, 200, "OK")
        elif method == "NOTIFY":
            self.phone.on_notify(message)  # a transfer's progress (sipfrag) for our REFER
            text = response_for(raw, 200, "OK")
        elif method in ("UPDATE", "PRACK", "MESSAGE"):
            text = response_for(raw, 200, "OK")
        elif method == "REFER":
            text = response_for(raw, 603, "Decline")  # we do not execute the far end's transfers
        elif method == "SUBSCRIBE":
            text = response_for(raw, 489, "Bad Event", to_tag=tag)
        else:
            text = response_for(raw, 501, "Not Implemented", to_tag=tag, extra=[f"Allow: {ALLOW}"])
        self.send_response(raw, text)

    def send_response(self, raw: bytes | str, text: str) -> None:
        target = via_target(raw) or (self.server, self.port)
        with contextlib.suppress(OSError):
            self.out.sendto(text.encode("utf-8"), target)

    def send(self, text: str) -> None:
        with contextlib.suppress(OSError):
            self.out.sendto(text.encode("utf-8"), (self.server, self.port))

    # -- responses we generate

    def gen_ringing(self, request: SIP.SIPMessage) -> str:
        call_id = request.headers["Call-ID"]
        tag = self.tagLibrary.get(call_id)
        text = super().gen_ringing(request)
        if tag:  # one To-tag for the 180s and the 200 of a call (stock makes a new one each)
            text = text.replace(f";tag={self.tagLibrary[call_id]}\r\n", f";tag={tag}\r\n", 1)
            self.tagLibrary[call_id] = tag
        return _insert_record_route(text, request) if Fix.OTHER_REQUESTS in self.fixes else text

    def gen_answer(self, request: SIP.SIPMessage, sess_id: str, ms: Any, sendtype: Any) -> str:
        text = super().gen_answer(request, sess_id, ms, sendtype)
        return _insert_record_route(text, request) if Fix.OTHER_REQUESTS in self.fixes else text

    def gen_busy(self, request: SIP.SIPMessage) -> str:
        text = super().gen_busy(request)
        return _insert_record_route(text, request) if Fix.OTHER_REQUESTS in self.fixes else text

    # -- requests we generate

    def gen_ack(self, request: SIP.SIPMessage) -> str:
        """The ACK of a response to our INVITE (``request`` is the response)."""
        if Fix.ACK not in self.fixes:
            return super().gen_ack(request)
        call_id = request.headers["Call-ID"]
        pending = self.phone.invites.get(call_id)
        to_value = header_values(request.raw, "to")[0]
        from_value = header_values(request.raw, "from")[0]
        cseq = int(request.headers["CSeq"]["check"])
        if 200 <= int(request.status) < 300:
            contacts = header_values(request.raw, "contact")
            ruri = uri_of(contacts[0]) if contacts else uri_of(to_value)
            routes = list(reversed(header_values(request.raw, "record-route")))
            branch = self.gen_branch()
        else:  # a non-2xx ACK belongs to the INVITE's transaction (RFC 3261 17.1.1.3)
            ruri = pending.ruri if pending else uri_of(to_value)
            routes = []
            branch = pending.branch if pending else self.gen_branch()
        lines = [
            f"ACK {ruri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.myIP}:{self.myPort};branch={branch}",
            "Max-Forwards: 70",
        ]
        lines += [f"Route: {r}" for r in routes]
        lines += [
            f"From: {from_value}",
            f"To: {to_value}",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} ACK",
            f"User-Agent: pyVoIP {pyVoIP.__version__}",
            "Content-Length: 0",
        ]
        return "\r\n".join(lines) + "\r\n\r\n"

    def gen_bye(self, request: SIP.SIPMessage) -> str:
        if Fix.BYE_URI not in self.fixes:
            return super().gen_bye(request)
        call = self.phone.calls.get(request.headers["Call-ID"])
        dialog = getattr(call, "dialog", None)
        if dialog is None:
            dialog = dialog_as_uas(request, self.tagLibrary.get(request.headers["Call-ID"], ""))
        return self.in_dialog(dialog, "BYE")

    def in_dialog(self, dialog: Dialog, method: str, extra: Iterable[str] = ()) -> str:
        lines = [
            f"{method} {dialog.remote_target} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.myIP}:{self.myPort};branch={self.gen_branch()}",
            "Max-Forwards: 70",
        ]
        lines += [f"Route: {r}" for r in dialog.route_set]
        lines += [
            f"From: {dialog.local}",
            f"To: {dialog.remote}",
            f"Call-ID: {dialog.call_id}",
            f"CSeq: {dialog.next_cseq()} {method}",
            f"Contact: <sip:{self.username}@{self.myIP}:{self.myPort}>",
            *extra,
            f"User-Agent: pyVoIP {pyVoIP.__version__}",
            "Content-Length: 0",
        ]
        return "\r\n".join(lines) + "\r\n\r\n"

    def invite_text(
        self, number: str, sess_id: str, ms: Any, call_id: str, branch: str, caller: CallerId | None
    ) -> tuple[str, str]:
        """An INVITE to ``number`` whose From shows ``caller`` (stock shows the hub): leg B's
        phone displays who is really calling. Returns (text, our From tag)."""
        text = self.gen_invite(number, sess_id, ms, RTP.TransmitType.SENDRECV, branch, call_id)
        tag = self.tagLibrary[call_id]
        if caller is not None and (caller.number or caller.name):
            user = urllib.parse.quote(caller.e164 or caller.number or self.username, safe="+")
            name = caller.name.replace('"', "").replace("\\", "")
            shown = f'"{name}" ' if name else ""
            text = re.sub(
                r"\r\nFrom: [^\r]*",
                f"\r\nFrom: {shown}<sip:{user}@{self.server}>;tag={tag}",
                text,
                count=1,
            )
        return text, tag


def dialog_as_uas(invite: SIP.SIPMessage, local_tag: str) -> Dialog:
    """The dialog of a call we answered, from its INVITE."""
    raw = invite.raw
    to_value = header_values(raw, "to")[0]
    local = to_value if tag_of(to_value) else f"{to_value};tag={local_tag}"
    contacts = header_values(raw, "contact")
    return Dialog(
        call_id=invite.headers["Call-ID"],
        local=local,
        remote=header_values(raw, "from")[0],
        remote_target=uri_of(contacts[0]) if contacts else uri_of(header_values(raw, "from")[0]),
        route_set=header_values(raw, "record-route"),
        cseq=100,
    )


def dialog_as_uac(response: SIP.SIPMessage) -> Dialog:
    """The dialog of a call we placed, from its 2xx."""
    raw = response.raw
    contacts = header_values(raw, "contact")
    to_value = header_values(raw, "to")[0]
    return Dialog(
        call_id=response.headers["Call-ID"],
        local=header_values(raw, "from")[0],
        remote=to_value,
        remote_target=uri_of(contacts[0]) if contacts else uri_of(to_value),
        route_set=list(reversed(header_values(raw, "record-route"))),
        cseq=int(response.headers["CSeq"]["check"]),
    )


# -- calls ----------------------------------------------------------------------------------


class HubCall(VoIPCall):
    """A call of the hub: its dialog, why it ended, and frame-level audio for a relay."""

    phone: HubPhone

    def __init__(self, *args: Any, caller: CallerId | None = None, **kw: Any) -> None:
        self.dialog: Dialog | None = None
        self.caller = caller
        self.reason = ""
        self.status = 0  # the final SIP status of an outgoing call
        self.answered_event = threading.Event()
        self.ended = threading.Event()
        self.ringing = threading.Event()
        self.refer_done = threading.Event()  # our REFER's outcome is known (``refer_status``)
        self.refer_status = 0
        self.digits: list[str] = []
        super().__init__(*args, **kw)

    def create_rtp_clients(
        self, codecs: Any, ip: str, port: int, request: Any, baseport: int
    ) -> None:
        for ii in range(len(request.body["c"])):
            self.RTPClients.append(
                HubRTPClient(
                    codecs,
                    ip,
                    port,
                    request.body["c"][ii]["address"],
                    baseport + ii,
                    self.sendmode,
                    dtmf=self.dtmf_callback,
                    fixes=self.phone.fixes,
                )
            )

    def dtmf_callback(self, code: str) -> None:
        self.digits.append(code)
        super().dtmf_callback(code)

    @property
    def codec(self) -> str:
        return str(self.RTPClients[0].preference) if self.RTPClients else ""

    def answer(self) -> None:
        super().answer()
        self.dialog = dialog_as_uas(self.request, self.sip.tagLibrary.get(self.call_id, ""))
        self.answered_event.set()

    def answered(self, request: SIP.SIPMessage) -> None:
        if self.state != VoIPCallState.DIALING:
            return
        super().answered(request)
        self.dialog = dialog_as_uac(request)
        self.status = int(request.status)
        self.answered_event.set()

    def finish(self, reason: str, status: int = 0) -> None:
        """The call is over for ``reason``: media stopped, the phone forgets it."""
        for client in self.RTPClients:
            client.stop()
        self.state = VoIPCallState.ENDED
        self.reason = self.reason or reason
        self.status = self.status or status
        self.phone.calls.pop(self.call_id, None)
        self.ended.set()
        self.answered_event.set()  # wake a waiter: it reads ``state``

    def bye(self) -> None:
        super().bye()
        self.finish("remote_hangup")

    def hangup(self) -> None:
        """Hang up whatever the state: BYE when talking, CANCEL when ringing out, 486 (busy) to
        an incoming call not yet answered."""
        if self.state == VoIPCallState.ANSWERED:
            with contextlib.suppress(InvalidStateError, OSError, KeyError):
                super().hangup()
            self.finish("local_hangup")
        elif self.state == VoIPCallState.DIALING:
            if Fix.FAILED_CALLS in self.phone.fixes:
                self.phone.cancel(self)
            self.finish("cancelled")
        elif self.state == VoIPCallState.RINGING:
            with contextlib.suppress(InvalidStateError, OSError, KeyError):
                self.deny()
            self.finish("declined")

    def wait_answer(self, timeout: float) -> bool:
        """Wait for an outgoing call to be answered; on timeout it is cancelled (no answer)."""
        self.answered_event.wait(timeout)
        if self.state == VoIPCallState.ANSWERED:
            return True
        if self.state == VoIPCallState.DIALING:
            self.reason = "no_answer"
            self.hangup()
        return False

    @property
    def rtp(self) -> HubRTPClient | None:
        client = self.RTPClients[0] if self.RTPClients else None
        return client if isinstance(client, HubRTPClient) else None

    def read_frame(self) -> bytes | None:
        """One 20 ms frame if one has arrived (never the padding of an empty buffer)."""
        rtp = self.rtp
        if rtp is None or rtp.available() < FRAME:
            return None
        return self.RTPClients[0].read(FRAME, blocking=False)

    def write_frame(self, frame: bytes) -> None:
        for client in self.RTPClients:
            client.write(frame)


class HubPhone(VoIPPhone):
    """The hub's SIP line: one registration, many calls at once.

    ``on_invite(call_id, caller)`` is called the moment an INVITE arrives (for the popup);
    ``on_call(call)`` runs in the call's own thread — pyVoIP forgets the call when it returns.
    """

    calls: dict[str, HubCall]  # type: ignore[assignment]
    sip: HubSIPClient

    def __init__(
        self,
        server: str,
        port: int,
        username: str,
        password: str,
        *,
        my_ip: str = "127.0.0.1",
        sip_port: int = 5060,
        rtp_low: int = 10000,
        rtp_high: int = 20000,
        on_invite: Callable[[str, CallerId], None] | None = None,
        on_call: Callable[[HubCall], None] | None = None,
        fixes: frozenset[Fix] = ALL_FIXES,
        expires: int = 120,
        register_timeout: float = 5.0,
        region: str = "RU",
    ) -> None:
        self.fixes = fixes
        self.on_invite = on_invite
        self.on_call = on_call
        self.region = region
        self.invites: dict[str, PendingInvite] = {}
        super().__init__(
            server,
            port,
            username,
            password,
            myIP=my_ip,
            sipPort=sip_port,
            rtpPortLow=rtp_low,
            rtpPortHigh=rtp_high,
            callCallback=self._run_call,  # type: ignore[arg-type]
        )
        self.sip = HubSIPClient(
            server,
            port,
            username,
            password,
            phone=self,
            myIP=my_ip,
            myPort=sip_port,
            callCallback=self.callback,
            fatalCallback=self.fatal,
            fixes=fixes,
        )
        self.sip.default_expires = expires
        self.sip.register_timeout = register_timeout  # type: ignore[assignment]
        self._lock = threading.Lock()

    @property
    def registered(self) -> bool:
        return self.get_status() == PhoneStatus.REGISTERED

    def stop(self, failed: bool = False) -> None:
        with contextlib.suppress(OSError):
            super().stop(failed)

    # -- incoming

    def _caller(self, request: SIP.SIPMessage) -> CallerId:
        values = header_values(request.raw, "from")
        return clean_caller_id(values[0] if values else "", self.region)

    def _run_call(self, call: HubCall) -> None:
        if Fix.EARLY_CALLER_ID not in self.fixes and self.on_invite is not None:
            self.on_invite(call.call_id, call.caller or self._caller(call.request))
        if self.on_call is None:
            return
        try:
            self.on_call(call)
        except Exception:
            log.exception("call %s failed", call.call_id)
            with contextlib.suppress(Exception):
                call.hangup()

    def _create_Call(self, request: SIP.SIPMessage, sess_id: int) -> None:
        call_id = request.headers["Call-ID"]
        self.calls[call_id] = HubCall(
            self,
            VoIPCallState.RINGING,
            request,
            sess_id,
            self.myIP,
            sendmode=self.recvmode,
            caller=self._caller(request),
        )

    def _callback_MSG_Invite(self, request: SIP.SIPMessage) -> None:
        if Fix.EARLY_CALLER_ID not in self.fixes:
            return super()._callback_MSG_Invite(request)
        call_id = request.headers["Call-ID"]
        existing = self.calls.get(call_id)
        if existing is not None:
            if existing.state == VoIPCallState.RINGING:
                self.sip.send_response(request.raw, self.sip.gen_ringing(request))
            elif existing.state == VoIPCallState.ANSWERED:
                existing.renegotiate(request)  # a re-INVITE (hold, codec change)
            return
        if "c" not in request.body or "m" not in request.body:
            # Late offer (no SDP) is not supported: say so instead of leaving it ringing.
            text = response_for(request.raw, 488, "Not Acceptable Here", to_tag=self.sip.gen_tag())
            self.sip.send_response(request.raw, text)
            return
        with self._lock:
            sess_id = 1 + len(self.session_ids) + int(time.monotonic() * 1000) % 100_000
            self.session_ids.append(sess_id)
        self.sip.tagLibrary[call_id] = self.sip.gen_tag()
        try:
            self._create_Call(request, sess_id)
        except Exception as exc:
            log.warning("INVITE refused (%s: %s)", type(exc).__name__, exc)
            text = response_for(
                request.raw, 488, "Not Acceptable Here", to_tag=self.sip.tagLibrary[call_id]
            )
            self.sip.send_response(request.raw, text)
            return
        call = self.calls[call_id]
        if self.on_invite is not None:
            try:
                self.on_invite(call_id, call.caller or self._caller(request))
            except Exception:
                log.exception("on_invite failed")
        self.sip.send_response(request.raw, self.sip.gen_ringing(request))
        thread = threading.Thread(target=self._run_call, args=(call,), name=f"call {call_id}")
        thread.daemon = True
        thread.start()

    def _callback_MSG_Bye(self, request: SIP.SIPMessage) -> None:
        call = self.calls.get(request.headers["Call-ID"])
        if call is not None:
            call.bye()

    def on_cancel(self, request: SIP.SIPMessage) -> None:
        """The caller gave up before we answered: 200 to the CANCEL, 487 to the INVITE."""
        self.sip.send_response(request.raw, response_for(request.raw, 200, "OK"))
        call = self.calls.get(request.headers["Call-ID"])
        if call is None:
            return
        if call.state == VoIPCallState.RINGING:
            tag = self.sip.tagLibrary.get(call.call_id, "")
            text = response_for(call.request.raw, 487, "Request Terminated", to_tag=tag)
            self.sip.send_response(call.request.raw, text)
        call.finish("caller_cancel")

    def on_info(self, request: SIP.SIPMessage) -> None:
        """DTMF by SIP INFO (``application/dtmf-relay``: ``Signal=5``), as some PBXs send it."""
        call = self.calls.get(request.headers.get("Call-ID", ""))
        body = request.raw.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
        m = re.search(r"Signal\s*=\s*([0-9*#A-D])", body)
        if call is not None and m:
            call.dtmf_callback(m.group(1))

    # -- hand-off (the PBX carries the media)

    def target_uri(self, target: str) -> str:
        """An extension as a URI at the PBX (its port too, when not the default)."""
        if target.startswith("sip:"):
            return target
        port = f":{self.port}" if int(self.port) != 5060 else ""
        return f"sip:{target}@{self.server}{port}"

    def redirect(self, call: HubCall, target: str) -> None:
        """302 before answering: the PBX retargets the caller to ``target`` (an extension)."""
        uri = self.target_uri(target)
        tag = self.sip.tagLibrary.get(call.call_id, "")
        text = response_for(
            call.request.raw, 302, "Moved Temporarily", to_tag=tag, extra=[f"Contact: <{uri}>"]
        )
        self.sip.send_response(call.request.raw, text)
        call.finish("redirected")

    def refer(self, call: HubCall, target: str) -> None:
        """An in-dialog REFER after answering: the caller's side calls ``target`` itself."""
        if call.dialog is None:
            raise InvalidStateError("REFER needs an answered call")
        uri = self.target_uri(target)
        contact = f"<sip:{self.username}@{self.myIP}:{self.sip.myPort}>"
        self.sip.send(
            self.sip.in_dialog(
                call.dialog, "REFER", [f"Refer-To: <{uri}>", f"Referred-By: {contact}"]
            )
        )

    def on_notify(self, request: SIP.SIPMessage) -> None:
        """``Event: refer`` NOTIFY: the transfer's progress as a sipfrag («SIP/2.0 200 OK»);
        a final status says whether the caller reached the extension (RFC 3515 §2.4.5)."""
        call = self.calls.get(request.headers.get("Call-ID", ""))
        event = " ".join(header_values(request.raw, "event")).lower()
        if call is None or not event.startswith("refer"):
            return
        body = request.raw.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
        m = re.search(r"SIP/2\.0\s+(\d{3})", body)
        if m and int(m.group(1)) >= 200:
            call.refer_status = int(m.group(1))
            call.refer_done.set()

    def _refer_answered(self, response: SIP.SIPMessage) -> None:
        """The caller's answer to our REFER: 202 — wait for its NOTIFY; ≥ 300 — refused."""
        call = self.calls.get(response.headers.get("Call-ID", ""))
        if call is not None and int(response.status) >= 300:
            call.refer_status = int(response.status)
            call.refer_done.set()

    # -- outgoing

    def call(self, number: str, caller: CallerId | None = None) -> HubCall:
        """Ring ``number`` (an extension or a phone) through the PBX; returns at once, the call
        DIALING. Wait with ``call.wait_answer(timeout)``; ``call.reason`` says why it failed."""
        port = self.request_port()
        medias = {
            port: {0: RTP.PayloadType.PCMU, 8: RTP.PayloadType.PCMA, 101: RTP.PayloadType.EVENT}
        }
        if Fix.FAILED_CALLS not in self.fixes:  # stock: blocks on the first response
            request, call_id, sess_id = self.sip.invite(
                number,
                medias,  # type: ignore[arg-type]
                RTP.TransmitType.SENDRECV,
            )
            self.calls[call_id] = HubCall(
                self,
                VoIPCallState.DIALING,
                request,
                sess_id,
                self.myIP,
                ms=medias,
                sendmode=self.sendmode,
            )
            return self.calls[call_id]
        sip = self.sip
        call_id, branch, sess_id = sip.gen_call_id(), sip.gen_branch(), sip.sessID.next()
        text, _tag = sip.invite_text(number, str(sess_id), medias, call_id, branch, caller)
        from_value = next(v for v in header_values(text, "from"))
        pending = PendingInvite(
            text,
            f"sip:{number}@{self.server}",
            branch,
            int(header_values(text, "cseq")[0].split()[0]),
            from_value,
            header_values(text, "to")[0],
        )
        call = HubCall(
            self,
            VoIPCallState.DIALING,
            HubSIPMessage(text.encode("utf-8")),
            sess_id,
            self.myIP,
            ms=medias,
            sendmode=self.sendmode,
            caller=caller,
        )
        with self._lock:
            self.invites[call_id] = pending
            self.calls[call_id] = call
            self._forget_old_invites()
        sip.send(text)
        return call

    def _forget_old_invites(self) -> None:
        old = [k for k, p in self.invites.items() if time.monotonic() - p.sent_at > 300]
        for key in old:
            self.invites.pop(key, None)

    def cancel(self, call: HubCall) -> None:
        pending = self.invites.get(call.call_id)
        if pending is None:
            return
        lines = [
            f"CANCEL {pending.ruri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.myIP}:{self.sip.myPort};branch={pending.branch}",
            "Max-Forwards: 70",
            f"From: {pending.from_value}",
            f"To: {pending.to_value}",
            f"Call-ID: {call.call_id}",
            f"CSeq: {pending.cseq} CANCEL",
            f"User-Agent: pyVoIP {pyVoIP.__version__}",
            "Content-Length: 0",
        ]
        self.sip.send("\r\n".join(lines) + "\r\n\r\n")

    def on_response(self, response: SIP.SIPMessage) -> None:
        """Every response (FAILED_CALLS): INVITE outcomes drive the call; others are noted."""
        method = response.headers.get("CSeq", {}).get("method")
        if method == "REFER":
            self._refer_answered(response)
            return
        if method != "INVITE":
            return  # 200 to BYE/CANCEL, late REGISTER answers
        call_id = response.headers["Call-ID"]
        call = self.calls.get(call_id)
        status = int(response.status)
        if status < 200:
            if call is not None and status in (180, 183):
                call.ringing.set()
            return
        if status in (401, 407) and call is not None and call.state == VoIPCallState.DIALING:
            self.sip.send(self.sip.gen_ack(response))
            self._authenticate(call, response)
            return
        self.sip.send(self.sip.gen_ack(response))
        if call is None:
            if status < 300 and call_id in self.invites:
                # Answered after we gave up (a 200 crossing our CANCEL): end it properly.
                self.sip.send(self.sip.in_dialog(dialog_as_uac(response), "BYE"))
            return
        if status < 300:
            if call.state == VoIPCallState.DIALING:
                call.answered(response)
            return
        call.finish(FAILURE_REASONS.get(status, "failed"), status)

    def _authenticate(self, call: HubCall, challenge: SIP.SIPMessage) -> None:
        pending = self.invites.get(call.call_id)
        if pending is None or "Authorization:" in pending.text:
            call.finish("auth_failed", int(challenge.status))
            return
        digest = self.sip.gen_authorization(challenge).decode()
        auth = challenge.authentication
        header = "Proxy-Authorization" if int(challenge.status) == 407 else "Authorization"
        line = (
            f'{header}: Digest username="{self.username}",realm="{auth.get("realm", "")}",'
            f'nonce="{auth.get("nonce", "")}",uri="sip:{self.server};transport=UDP",'
            f'response="{digest}",algorithm=MD5'
        )
        pending.cseq += 1
        pending.branch = self.sip.gen_branch()
        text = re.sub(r"\r\nCSeq: \d+ INVITE", f"\r\nCSeq: {pending.cseq} INVITE", pending.text)
        text = re.sub(r"branch=[^\r;]+", f"branch={pending.branch}", text, count=1)
        text = text.replace("\r\nContent-Length", f"\r\n{line}\r\nContent-Length", 1)
        pending.text = text
        self.sip.send(text)

    def callback(self, request: SIP.SIPMessage) -> None:
        if request.type == SIP.SIPMessageType.RESPONSE and Fix.FAILED_CALLS in self.fixes:
            self.on_response(request)
            return
        super().callback(request)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody holds now (for tests and benchmarks on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
