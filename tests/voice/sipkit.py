"""Real SIP programs on 127.0.0.1 for the voice tests: kamailio as the PBX, sipp as callers and
as employees' phones. Every process binds 127.0.0.1 only (sipp with ``-i``/``-mi``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from lsnode.voice.sip import free_udp_port

FACTOR = float(os.environ.get("LSAVTO_TEST_TIMEOUT_FACTOR", "1"))
HERE = Path(__file__).parent / "sip"
PCAPS = Path("/usr/share/sip-tester")
LO = "127.0.0.1"


def have_tools() -> bool:
    return bool(shutil.which("kamailio") and shutil.which("sipp") and PCAPS.is_dir())


class Kamailio:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_udp_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Kamailio:
        run = self.tmp / "kamailio"
        run.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "kamailio",
                "-f",
                str(HERE / "kamailio.cfg"),
                "-DD",
                "-E",
                "-l",
                f"udp:{LO}:{self.port}",
                "-Y",
                str(run),
                "-P",
                str(run / "k.pid"),
                "-L",
                "/usr/lib/x86_64-linux-gnu/kamailio/modules",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / "kamailio.log", "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 10 * FACTOR
        while time.monotonic() < deadline:
            if options_ok(self.port):
                return self
            time.sleep(0.1)
        raise RuntimeError("kamailio did not start: " + (self.tmp / "kamailio.log").read_text())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def options_ok(port: int) -> bool:
    """Does something answer OPTIONS on 127.0.0.1:port (kamailio itself, or a phone)?"""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LO, 0))
        s.settimeout(0.5)
        me = s.getsockname()[1]
        cid = uuid.uuid4().hex
        s.sendto(
            (
                f"OPTIONS sip:{LO}:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {LO}:{me};branch=z9hG4bK{cid}\r\n"
                f"From: <sip:probe@{LO}>;tag=1\r\nTo: <sip:{LO}:{port}>\r\nCall-ID: {cid}\r\n"
                "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            ).encode(),
            (LO, port),
        )
        try:
            return s.recv(65535).startswith(b"SIP/2.0 200")
        except (TimeoutError, ConnectionRefusedError):
            return False


def register(kam_port: int, ext: str, port: int, expires: int = 3600) -> None:
    """Register extension ``ext`` at 127.0.0.1:``port`` (then a sipp phone binds that port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LO, port))
        s.settimeout(5 * FACTOR)
        cid = uuid.uuid4().hex
        s.sendto(
            (
                f"REGISTER sip:{LO}:{kam_port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {LO}:{port};branch=z9hG4bK{cid}\r\n"
                f"From: <sip:{ext}@{LO}>;tag={cid[:8]}\r\nTo: <sip:{ext}@{LO}>\r\n"
                f"Call-ID: {cid}\r\n"
                f"CSeq: 1 REGISTER\r\nContact: <sip:{ext}@{LO}:{port}>\r\nExpires: {expires}\r\n"
                "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            ).encode(),
            (LO, kam_port),
        )
        assert s.recv(65535).startswith(b"SIP/2.0 200")


CODECS = {8: "PCMA", 0: "PCMU"}


def caller_xml(service: str, name: str, user: str, codec: int, steps: list[tuple[str, str]]) -> str:
    """A sipp caller: INVITE with a display name, audio and DTMF from the pcaps, then BYE.
    ``steps``: ("pause", ms) | ("play", pcap file name) | ("bye", "")."""
    body = []
    for kind, arg in steps:
        if kind == "pause":
            body.append(f'<pause milliseconds="{arg}"/>')
        elif kind == "play":
            body.append(f'<nop><action><exec play_pcap_audio="{PCAPS / arg}"/></action></nop>')
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<scenario name="caller">
<send retrans="500"><![CDATA[
INVITE sip:{service}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{name}" <sip:{user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:{service}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:{user}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP {codec} 101
a=rtpmap:{codec} {CODECS[codec]}/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="183" optional="true"/>
<recv response="200" rrs="true" rtd="true"/>
<send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "{name}" <sip:{user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
{"".join(body)}
<send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "{name}" <sip:{user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200" crlf="true"/>
</scenario>
"""


_UAS_HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<scenario name="phone">
<recv request="INVITE" crlf="true"/>
"""


def _reply(code: str, sdp: int | None = None) -> str:
    body = ""
    if sdp is not None:
        body = (
            "\nv=0\no=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\ns=-\n"
            "c=IN IP[media_ip_type] [media_ip]\nt=0 0\n"
            f"m=audio [media_port] RTP/AVP {sdp} 101\na=rtpmap:{sdp} {CODECS[sdp]}/8000\n"
            "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n"
        )
    ctype = "Content-Type: application/sdp\n" if body else ""
    return f"""<send{' retrans="500"' if code.startswith("200") else ""}><![CDATA[
SIP/2.0 {code}
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
{ctype}Content-Length: [len]
{body}
]]></send>
"""


def phone_xml(kind: str = "answer", codec: int = 0) -> str:
    """A sipp employee's phone: ``answer`` (then waits for BYE and answers it; with -rtp_echo
    the audio goes back), ``busy`` (486) or ``ring`` (never answers; takes the CANCEL)."""
    if kind == "busy":
        body = _reply("486 Busy Here") + '<recv request="ACK"/>\n'
    elif kind == "ring":
        body = (
            _reply("180 Ringing")
            + '<recv request="CANCEL"/>\n'
            + _reply("200 OK").replace("[last_To:];tag", "[last_To:];tag")
            + _reply_invite_487()
            + '<recv request="ACK"/>\n'
        )
    else:
        body = (
            _reply("180 Ringing")
            + _reply("200 OK", codec)
            + '<recv request="ACK"/>\n'
            + '<recv request="BYE"/>\n'
            + _reply("200 OK")
        )
    return _UAS_HEAD + body + "</scenario>\n"


def _reply_invite_487() -> str:
    return """<send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: 1 INVITE
Content-Length: 0

]]></send>
"""


class Sipp:
    """One sipp process (a caller or a phone) with its own scenario file."""

    def __init__(self, tmp: Path, name: str, xml: str, args: list[str]) -> None:
        self.path = tmp / f"{name}.xml"
        self.path.write_text(xml, encoding="utf-8")
        self.log = tmp / f"{name}.log"
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sipp:
        self.proc = subprocess.Popen(
            ["sipp", "-sf", str(self.path), "-i", LO, "-mi", LO, "-nostdin", *self.args],
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "ab"),  # noqa: SIM115
            cwd=self.path.parent,
        )
        return self

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout * FACTOR)
        except subprocess.TimeoutExpired:
            self.stop()
            return -1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def caller(
    tmp: Path,
    name: str,
    kam: Kamailio,
    service: str,
    display: str,
    user: str,
    codec: int,
    steps: list[tuple[str, str]],
) -> Sipp:
    return Sipp(
        tmp,
        name,
        caller_xml(service, display, user, codec, steps),
        [
            f"{LO}:{kam.port}",
            "-p",
            str(free_udp_port()),
            "-mp",
            str(_media_port()),
            "-m",
            "1",
            "-timeout",
            "90s",
            "-timeout_error",
        ],
    )


def phone(
    tmp: Path, name: str, kam: Kamailio, ext: str, kind: str = "answer", codec: int = 0
) -> Sipp:
    port = free_udp_port()
    register(kam.port, ext, port)
    args = ["-p", str(port), "-mp", str(_media_port()), "-rtp_echo", "-m", "1"]
    return Sipp(tmp, name, phone_xml(kind, codec), args)


_next_media = [46000 + (os.getpid() % 50) * 40]


def _media_port() -> int:
    _next_media[0] += 4
    return _next_media[0]
