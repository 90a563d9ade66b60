"""A hand-driven SIP peer on 127.0.0.1 for the adapter's byte-level tests.

``FakePbx`` is a UDP socket that plays the PBX: it reads what the hub's phone sends and answers
with hand-written messages, so each pyVoIP defect is shown on the exact packet. ``loose_phone``
starts a ``HubPhone`` whose server is the fake, without REGISTER.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lsnode.voice.sip import ALL_FIXES, Fix, HubPhone

FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
)


class FakePbx:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.seen: list[str] = []

    def close(self) -> None:
        self.sock.close()

    def send(self, text: str, to: tuple[str, int]) -> None:
        self.sock.sendto(text.encode("utf-8"), to)

    def expect(self, pred: Callable[[str], bool], timeout: float = 5.0) -> str | None:
        """The first message from the phone that ``pred`` accepts, or None in ``timeout``."""
        deadline = time.monotonic() + timeout * FACTOR
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65535).decode("utf-8", "replace")
            except TimeoutError:
                return None
            self.seen.append(data)
            if pred(data):
                return data
        return None


def starts(prefix: str) -> Callable[[str], bool]:
    return lambda m: m.startswith(prefix)


@contextmanager
def loose_phone(
    fixes: frozenset[Fix] = ALL_FIXES, **kw: object
) -> Iterator[tuple[HubPhone, FakePbx]]:
    """A phone whose PBX is a ``FakePbx``, receiving without having registered."""
    pbx = FakePbx()
    phone = HubPhone(
        "127.0.0.1",
        pbx.port,
        "hub",
        "secret",
        fixes=fixes,
        sip_port=0,
        rtp_low=42000,
        rtp_high=42999,
        **kw,
    )  # type: ignore[arg-type]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    phone.sip.s = phone.sip.out = s
    phone.sip.myPort = s.getsockname()[1]
    phone.sip.NSD = True
    phone.NSD = True
    thread = threading.Thread(target=phone.sip.recv_loop, daemon=True)
    thread.start()
    try:
        yield phone, pbx
    finally:
        phone.sip.NSD = False
        phone.NSD = False
        for call in list(phone.calls.values()):
            for client in call.RTPClients:
                client.NSD = False
        thread.join(2)
        s.close()
        pbx.close()


def request(
    method: str,
    phone: HubPhone,
    pbx: FakePbx,
    call_id: str,
    *,
    cseq: int = 1,
    from_: str = '"Иван Петров" <sip:+79161234567@127.0.0.1>;tag=abc',
    extra: str = "",
    body: str = "",
) -> str:
    """A request from the PBX to the phone, as kamailio would relay it."""
    head = (
        f"{method} sip:hub@127.0.0.1:{phone.sip.myPort} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{pbx.port};branch=z9hG4bK{call_id}{cseq}\r\n"
        f"From: {from_}\r\nTo: <sip:hub@127.0.0.1>\r\nCall-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\nContact: <sip:caller@127.0.0.1:{pbx.port}>\r\n"
        "Max-Forwards: 70\r\n" + extra
    )
    if body:
        head += "Content-Type: application/sdp\r\n"
    return head + f"Content-Length: {len(body.encode())}\r\n\r\n{body}"


def response_to(
    invite: str, status: str, *, to_tag: str = "t0", extra: str = "", body: str = ""
) -> str:
    """A response to a request the phone sent (its Via, From, To + tag, Call-ID, CSeq)."""
    lines = invite.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
    keep = [ln for ln in lines if ln.split(":", 1)[0] in ("Via", "From", "Call-ID", "CSeq")]
    to = next(ln for ln in lines if ln.startswith("To:"))
    out = f"SIP/2.0 {status}\r\n" + "\r\n".join(keep) + f"\r\n{to};tag={to_tag}\r\n" + extra
    if body:
        out += "Content-Type: application/sdp\r\n"
    return out + f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
