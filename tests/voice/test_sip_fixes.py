"""Each workaround of ``lsnode.voice.sip`` on the exact bytes, and what stock pyVoIP 1.6.8
does without it (the fix left out of ``fixes``)."""

from __future__ import annotations

import audioop
import math
import socket
import threading
import time
import types

import pytest
from pyVoIP import RTP

from lsnode.voice.sip import (
    ALL_FIXES,
    FRAME,
    CallerId,
    Fix,
    HubRTPClient,
    HubSIPMessage,
    clean_caller_id,
    header_values,
)
from tests.voice.sipfake import FACTOR, SDP, loose_phone, request, response_to, starts

WITHOUT = {fix: ALL_FIXES - {fix} for fix in Fix}


# -- caller ID ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '"Иван Петров" <sip:+79161234567@pbx>;tag=1',
            CallerId("Иван Петров", "+79161234567", "+79161234567"),
        ),
        ('"\\"Ivan\\"" <sip:84951234567@pbx>', CallerId("Ivan", "84951234567", "+74951234567")),
        (
            "Ivan <sip:8(495)123-45-67@pbx;user=phone>",
            CallerId("Ivan", "8(495)123-45-67", "+74951234567"),
        ),
        ("<tel:+7-916-123-45-67>;tag=x", CallerId("", "+7-916-123-45-67", "+79161234567")),
        ("sip:9161234567@pbx;tag=z", CallerId("", "9161234567", "+79161234567")),
        ('"Anonymous" <sip:anonymous@anonymous.invalid>', CallerId("Anonymous", "anonymous", None)),
        ("garbage", CallerId("", "", None)),
        ("", CallerId("", "", None)),
    ],
)
def test_caller_id_is_cleaned_and_normalised(header: str, expected: CallerId) -> None:
    assert clean_caller_id(header) == expected


def test_stock_parser_leaves_a_stray_quote_that_the_cleaner_removes() -> None:
    raw = (
        "INVITE sip:hub@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
        'From: "Иван Петров" <sip:+79161234567@h>;tag=1\r\nTo: <sip:hub@h>\r\nCall-ID: c\r\n'
        "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    stock = HubSIPMessage(raw).headers["From"]["caller"]
    assert '"' in stock
    assert clean_caller_id(header_values(raw, "from")[0]).name == "Иван Петров"


# -- 1. ACK of an outgoing call's 2xx ---------------------------------------------------------

OK_200 = (
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKinv\r\n"
    "Record-Route: <sip:127.0.0.1:5070;lr>\r\n"
    "From: <sip:hub@127.0.0.1>;tag=ours\r\nTo: <sip:201@127.0.0.1>;tag=theirs\r\n"
    "Call-ID: out-1\r\nCSeq: 1 INVITE\r\n"
    'Contact: "Петухов В.П." <sip:201@127.0.0.1:5090;ob>\r\nContent-Length: 0\r\n\r\n'
)


@pytest.mark.parametrize("fixed", [True, False])
def test_ack_of_2xx_goes_to_the_contact_with_its_to_tag_and_route(fixed: bool) -> None:
    fixes = ALL_FIXES if fixed else WITHOUT[Fix.ACK]
    with loose_phone(fixes) as (phone, _):
        phone.sip.tagLibrary["out-1"] = "ours"
        ack = phone.sip.gen_ack(HubSIPMessage(OK_200.encode()))
    good = (
        ack.startswith("ACK sip:201@127.0.0.1:5090;ob SIP/2.0\r\n")
        and "\r\nTo: <sip:201@127.0.0.1>;tag=theirs\r\n" in ack
        and "\r\nRoute: <sip:127.0.0.1:5070;lr>\r\n" in ack
    )
    assert good is fixed, ack


# -- 2. PCMA ----------------------------------------------------------------------------------


def _tone() -> bytes:
    return bytes(128 + int(90 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(FRAME))


@pytest.mark.parametrize("fixed", [True, False])
def test_pcma_is_encoded_as_a_law(fixed: bool) -> None:
    client = HubRTPClient(
        {8: RTP.PayloadType.PCMA},
        "127.0.0.1",
        0,
        "127.0.0.1",
        0,
        RTP.TransmitType.SENDRECV,
        fixes=ALL_FIXES if fixed else WITHOUT[Fix.PCMA],
    )
    tone = _tone()
    heard = audioop.bias(audioop.alaw2lin(client.encode_packet(tone), 1), 1, 128)
    error = max(abs(a - b) for a, b in zip(heard, tone, strict=True))
    assert (error <= 4) is fixed, error


# -- 3. the RTP sender's clock and backlog ---------------------------------------------------


class FakeTime:
    """Time that advances only by sleeping; each sleep oversleeps like a real kernel does."""

    OVERSLEEP = 0.0007

    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def monotonic_ns(self) -> int:
        return int(self.t * 1e9)

    def sleep(self, s: float) -> None:
        self.t += s + self.OVERSLEEP


class Sink:
    def __init__(self, client: HubRTPClient, clock: FakeTime, seconds: float) -> None:
        self.client, self.clock, self.end, self.count = client, clock, clock.t + seconds, 0

    def sendto(self, data: bytes, addr: object) -> None:
        self.count += 1
        if self.clock.t >= self.end:
            self.client.NSD = False


@pytest.mark.parametrize("fixed", [True, False])
def test_the_sender_keeps_50_packets_a_second(fixed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    client = HubRTPClient(
        {0: RTP.PayloadType.PCMU},
        "127.0.0.1",
        0,
        "127.0.0.1",
        9,
        "sendrecv",
        fixes=ALL_FIXES if fixed else WITHOUT[Fix.RTP_CLOCK],
    )
    fake = FakeTime()
    client.clock, client.sleep = fake.monotonic, fake.sleep
    monkeypatch.setattr(
        RTP, "time", types.SimpleNamespace(monotonic_ns=fake.monotonic_ns, sleep=fake.sleep)
    )
    sink = Sink(client, fake, 60.0)
    client.sout = sink  # type: ignore[assignment]
    client.trans()
    assert (abs(sink.count - 3000) <= 1) is fixed, sink.count


@pytest.mark.parametrize("fixed", [True, False])
def test_a_burst_of_written_audio_does_not_become_delay(fixed: bool) -> None:
    client = HubRTPClient(
        {0: RTP.PayloadType.PCMU},
        "127.0.0.1",
        0,
        "127.0.0.1",
        9,
        "sendrecv",
        fixes=ALL_FIXES if fixed else WITHOUT[Fix.RTP_CLOCK],
    )
    for i in range(10):
        client.write(bytes([i]) * FRAME)
    assert (client.pmout.read(FRAME)[0] == 8) is fixed  # the newest two frames are kept


# -- 4. receive loops block in select() instead of polling -----------------------------------


@pytest.mark.parametrize("fixed", [True, False])
def test_rtp_receive_loop_does_not_poll(fixed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    client = HubRTPClient(
        {0: RTP.PayloadType.PCMU},
        "127.0.0.1",
        0,
        "127.0.0.1",
        9,
        "sendrecv",
        fixes=ALL_FIXES if fixed else WITHOUT[Fix.POLLING],
    )
    client.sin = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.sin.bind(("127.0.0.1", 0))
    client.sin.setblocking(False)
    naps: list[float] = []
    real_sleep = time.sleep
    worker = threading.Thread(target=client.recv)

    def counted(s: float) -> None:
        if threading.current_thread() is worker:
            naps.append(s)
        real_sleep(s)

    monkeypatch.setattr(time, "sleep", counted)
    worker.start()
    real_sleep(0.3)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    packet = bytes([0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1]) + b"\xff" * FRAME
    out.sendto(packet, client.sin.getsockname())
    deadline = time.monotonic() + 5 * FACTOR
    while client.available() < FRAME and time.monotonic() < deadline:
        real_sleep(0.01)
    client.NSD = False
    worker.join(5)
    out.close()
    client.sin.close()
    assert client.available() >= FRAME
    assert (not naps) is fixed, len(naps)


# -- 5. RTP timestamp gaps --------------------------------------------------------------------


def _rtp(seq: int, ts: int, payload: bytes, pt: int = 0) -> bytes:
    return (
        bytes([0x80, pt]) + seq.to_bytes(2, "big") + ts.to_bytes(4, "big") + b"\0\0\0\1" + payload
    )


@pytest.mark.parametrize("fixed", [True, False])
def test_a_silence_gap_is_skipped_not_filled_with_full_scale_noise(fixed: bool) -> None:
    client = HubRTPClient(
        {0: RTP.PayloadType.PCMU},
        "127.0.0.1",
        0,
        "127.0.0.1",
        9,
        "sendrecv",
        fixes=ALL_FIXES if fixed else WITHOUT[Fix.RTP_GAPS],
    )
    quiet = audioop.lin2ulaw(b"\x00" * FRAME, 1)
    client.parse_packet(_rtp(1, 8000, quiet))
    client.parse_packet(_rtp(2, 8000 + 3 * FRAME, quiet))  # VAD: two frames not sent
    client.read(FRAME, blocking=False)
    second = client.read(FRAME, blocking=False)
    assert (second != b"\x00" * FRAME) is fixed
    assert (max(abs(b - 128) for b in second) < 8) is fixed


# -- 6. BYE's Request-URI ---------------------------------------------------------------------


@pytest.mark.parametrize("fixed", [True, False])
def test_bye_goes_to_the_uri_inside_a_display_name_contact(fixed: bool) -> None:
    with loose_phone(ALL_FIXES if fixed else WITHOUT[Fix.BYE_URI]) as (phone, pbx):
        invite = request(
            "INVITE",
            phone,
            pbx,
            "in-6",
            body=SDP.format(port=40006),
            extra='Contact: "Иван" <sip:201@127.0.0.1:5090;ob>\r\n'
            "Record-Route: <sip:127.0.0.1:5070;lr>\r\n",
        )
        invite = invite.replace(f"Contact: <sip:caller@127.0.0.1:{pbx.port}>\r\n", "", 1)
        msg = HubSIPMessage(invite.encode())
        phone.sip.tagLibrary["in-6"] = "ourtag"
        phone._create_Call(msg, 1)
        call = phone.calls["in-6"]
        call.answer()
        bye = phone.sip.gen_bye(msg)
        call.finish("test")
    good = bye.startswith("BYE sip:201@127.0.0.1:5090;ob SIP/2.0\r\n") and (
        "Route: <sip:127.0.0.1:5070;lr>" in bye
    )
    assert good is fixed, bye.split("\r\n")[0]


# -- 7. failed outgoing calls -----------------------------------------------------------------


def test_an_immediate_404_ends_the_call_as_unregistered_and_is_acked() -> None:
    with loose_phone() as (phone, pbx):
        call = phone.call("209")
        invite = pbx.expect(starts("INVITE"))
        assert invite is not None
        pbx.send(response_to(invite, "404 Not Found"), ("127.0.0.1", phone.sip.myPort))
        assert pbx.expect(starts("ACK sip:209@")) is not None
        assert call.ended.wait(5 * FACTOR) and call.reason == "unregistered"


def test_stock_raises_key_error_inside_call_on_an_immediate_404() -> None:
    with loose_phone(WITHOUT[Fix.FAILED_CALLS]) as (phone, pbx):

        def answer_404() -> None:
            invite = pbx.expect(starts("INVITE"))
            assert invite is not None
            pbx.send(response_to(invite, "404 Not Found"), ("127.0.0.1", phone.sip.myPort))

        helper = threading.Thread(target=answer_404)
        helper.start()
        with pytest.raises(KeyError):
            phone.call("209")
        helper.join()


@pytest.mark.parametrize("fixed", [True, False])
def test_busy_is_acked_and_ends_the_call(fixed: bool) -> None:
    with loose_phone(ALL_FIXES if fixed else WITHOUT[Fix.FAILED_CALLS]) as (phone, pbx):

        def trying_then_busy() -> None:
            invite = pbx.expect(starts("INVITE"))
            assert invite is not None
            pbx.send(response_to(invite, "100 Trying"), ("127.0.0.1", phone.sip.myPort))
            time.sleep(0.1)
            pbx.send(response_to(invite, "486 Busy Here"), ("127.0.0.1", phone.sip.myPort))

        helper = threading.Thread(target=trying_then_busy)
        helper.start()
        call = phone.call("201")
        helper.join()
        acked = pbx.expect(starts("ACK"), timeout=2) is not None
        assert acked is fixed
        assert (call.ended.wait(1) and call.reason == "busy") is fixed


def test_a_ring_timeout_cancels_and_acks_the_487() -> None:
    with loose_phone() as (phone, pbx):
        call = phone.call("201")
        invite = pbx.expect(starts("INVITE"))
        assert invite is not None
        pbx.send(response_to(invite, "180 Ringing"), ("127.0.0.1", phone.sip.myPort))
        assert call.ringing.wait(5 * FACTOR)
        assert not call.wait_answer(0.2)
        cancel = pbx.expect(starts("CANCEL sip:201@"))
        assert cancel is not None and "CSeq: 1 CANCEL" in cancel
        pbx.send(response_to(invite, "487 Request Terminated"), ("127.0.0.1", phone.sip.myPort))
        assert pbx.expect(starts("ACK sip:201@")) is not None
        assert call.reason == "no_answer"


# -- 8. OPTIONS, NOTIFY, REFER, Record-Route, malformed requests -----------------------------


@pytest.mark.parametrize("fixed", [True, False])
def test_options_notify_and_refer_are_answered(fixed: bool) -> None:
    with loose_phone(ALL_FIXES if fixed else WITHOUT[Fix.OTHER_REQUESTS]) as (phone, pbx):
        to = ("127.0.0.1", phone.sip.myPort)
        got = []
        for method, code in (("OPTIONS", "200"), ("NOTIFY", "200"), ("REFER", "603")):
            pbx.send(request(method, phone, pbx, f"o-{method}"), to)
            answer = pbx.expect(
                lambda m, c=code, x=method: m.startswith(f"SIP/2.0 {c}") and f"Call-ID: o-{x}" in m,
                timeout=1 if not fixed else 5,
            )
            got.append(answer is not None)
    assert got == [fixed] * 3


@pytest.mark.parametrize("fixed", [True, False])
def test_a_refer_notify_with_a_sipfrag_body_is_answered_and_read(fixed: bool) -> None:
    """pyVoIP parses any body as SDP: a transfer's NOTIFY («SIP/2.0 200 OK») made it raise."""
    with loose_phone(ALL_FIXES if fixed else WITHOUT[Fix.OTHER_REQUESTS]) as (phone, pbx):
        referred = types.SimpleNamespace(refer_done=threading.Event(), refer_status=0)
        phone.calls["n-frag"] = referred  # type: ignore[assignment]
        notify = request(
            "NOTIFY", phone, pbx, "n-frag", extra="Event: refer\r\n", body="SIP/2.0 200 OK\r\n"
        ).replace("application/sdp", "message/sipfrag;version=2.0")
        pbx.send(notify, ("127.0.0.1", phone.sip.myPort))
        answer = pbx.expect(
            lambda m: m.startswith("SIP/2.0 200") and "Call-ID: n-frag" in m,
            timeout=5 if fixed else 1,
        )
        phone.calls.pop("n-frag")
    assert (answer is not None) is fixed
    assert referred.refer_done.is_set() is fixed
    assert referred.refer_status == (200 if fixed else 0)


@pytest.mark.parametrize("fixed", [True, False])
def test_record_route_is_copied_into_the_ringing_response(fixed: bool) -> None:
    with loose_phone(ALL_FIXES if fixed else WITHOUT[Fix.OTHER_REQUESTS]) as (phone, pbx):
        invite = request(
            "INVITE",
            phone,
            pbx,
            "rr-1",
            body=SDP.format(port=40008),
            extra="Record-Route: <sip:127.0.0.1:5070;lr>\r\n",
        )
        pbx.send(invite, ("127.0.0.1", phone.sip.myPort))
        ringing = pbx.expect(starts("SIP/2.0 180"))
        assert ringing is not None
        for call in list(phone.calls.values()):
            call.finish("test")
    assert ("Record-Route: <sip:127.0.0.1:5070;lr>" in ringing) is fixed


def test_malformed_requests_get_400_or_silence_and_the_line_keeps_working() -> None:
    with loose_phone() as (phone, pbx):
        to = ("127.0.0.1", phone.sip.myPort)
        for junk in (b"\x00\xff garbage", b"HELLO\r\n\r\n", b"SIP/2.0 banana\r\n\r\n", b"\r\n\r\n"):
            pbx.sock.sendto(junk, to)
        bad_from = request(
            "INVITE",
            phone,
            pbx,
            "bad-from",
            from_="nonsense-without-uri",
            body=SDP.format(port=40010),
        )
        pbx.send(bad_from, to)
        assert pbx.expect(lambda m: m.startswith("SIP/2.0 400") and "bad-from" in m) is not None
        no_sdp = request("INVITE", phone, pbx, "no-sdp")
        pbx.send(no_sdp, to)
        assert pbx.expect(lambda m: m.startswith("SIP/2.0 488") and "no-sdp" in m) is not None
        pbx.send(request("OPTIONS", phone, pbx, "still-alive"), to)
        assert pbx.expect(lambda m: m.startswith("SIP/2.0 200") and "still-alive" in m)
        assert phone.sip.malformed >= 3 and not phone.calls


# -- early caller ID --------------------------------------------------------------------------


@pytest.mark.parametrize("fixed", [True, False])
def test_the_caller_is_announced_while_the_invite_is_handled(fixed: bool) -> None:
    seen: list[CallerId] = []
    kw = {"on_invite": lambda call_id, caller: seen.append(caller)}
    with loose_phone(ALL_FIXES if fixed else WITHOUT[Fix.EARLY_CALLER_ID], **kw) as (phone, pbx):
        invite = HubSIPMessage(
            request("INVITE", phone, pbx, "early", body=SDP.format(port=40012)).encode()
        )
        phone._callback_MSG_Invite(invite)
        announced_at_once = list(seen)
        deadline = time.monotonic() + 5 * FACTOR
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        for call in list(phone.calls.values()):
            call.finish("test")
    assert bool(announced_at_once) is fixed
    assert seen == [CallerId("Иван Петров", "+79161234567", "+79161234567")]
