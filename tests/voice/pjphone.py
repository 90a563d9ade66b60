"""A strict, real SIP phone for the voice tests: PJSIP through ``pjsua2`` (``pjsua2-python``).

Run as its own process (PJSIP asserts on interpreter exit, so it leaves with ``os._exit``)::

    python -m tests.voice.pjphone answer --registrar 127.0.0.1:5070 --user 207 --port 46010 \
        --play tone.wav --record heard.wav --seconds 20
    python -m tests.voice.pjphone call --registrar 127.0.0.1:5070 --user +79161234567 \
        --port 46020 --to hub --dtmf 1 --play tone.wav --record heard.wav --seconds 20

It binds 127.0.0.1 only, registers with the registrar, answers (or places) one call, plays a
WAV into it and records what it hears, sends RFC 2833 digits, accepts a REFER (the hub's
hand-off: PJSIP calls the new target itself and reports the transfer's progress) and prints
one JSON object per line for each thing that happens: ``registered``, ``incoming``, ``state``
(PJSIP's invite states; ``CONFIRMED`` for an answered call only comes with a valid ACK),
``media``, ``transfer_request``, ``transfer_status``, ``disconnected`` (with the last SIP
code), ``done``. A null sound device: no audio hardware is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import pjsua2 as pj

STATES = {
    pj.PJSIP_INV_STATE_NULL: "NULL",
    pj.PJSIP_INV_STATE_CALLING: "CALLING",
    pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
    pj.PJSIP_INV_STATE_EARLY: "EARLY",
    pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
    pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
    pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED",
}


def say(event: str, **data: Any) -> None:
    print(json.dumps({"event": event, "t": round(time.monotonic(), 3), **data}), flush=True)


class Phone:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.calls: list[Call] = []
        self.ended = 0


class Call(pj.Call):  # type: ignore[misc]
    def __init__(self, phone: Phone, account: pj.Account, call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.phone = phone
        self.player: Any = None
        self.recorder: Any = None
        self.confirmed_at: float | None = None
        self.dtmf_sent = False
        phone.calls.append(self)
        self.index = len(phone.calls) - 1

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        state = STATES.get(info.state, str(info.state))
        say("state", call=self.index, state=state, code=info.lastStatusCode, remote=info.remoteUri)
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.confirmed_at = time.monotonic()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            say("disconnected", call=self.index, code=info.lastStatusCode, reason=info.lastReason)
            self.phone.ended += 1

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        for i, media in enumerate(info.media):
            if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                continue
            audio = self.getAudioMedia(i)
            args = self.phone.args
            if args.play and self.player is None:
                self.player = pj.AudioMediaPlayer()
                self.player.createPlayer(args.play, 0)  # loops
                self.player.startTransmit(audio)
            if args.record and self.recorder is None:
                name = args.record if self.index == 0 else f"{args.record}.{self.index}.wav"
                self.recorder = pj.AudioMediaRecorder()
                self.recorder.createRecorder(name)
                audio.startTransmit(self.recorder)
            say("media", call=self.index, codec=self.getStreamInfo(i).codecName)

    def onCallTransferRequest(self, prm: Any) -> None:
        say("transfer_request", call=self.index, to=prm.dstUri)
        prm.statusCode = 202
        prm.newCall = Call(self.phone, self.phone.account)

    def onCallTransferStatus(self, prm: Any) -> None:
        say("transfer_status", call=self.index, code=prm.statusCode, final=prm.finalNotify)


class Account(pj.Account):  # type: ignore[misc]
    def __init__(self, phone: Phone) -> None:
        super().__init__()
        self.phone = phone

    def onRegState(self, prm: Any) -> None:
        info = self.getInfo()
        if info.regIsActive:
            say("registered", code=prm.code)

    def onIncomingCall(self, prm: Any) -> None:
        call = Call(self.phone, self, prm.callId)
        info = call.getInfo()
        say("incoming", call=call.index, remote=info.remoteUri)
        answer = pj.CallOpParam()
        answer.statusCode = 180
        call.answer(answer)
        self.phone.answer_at = time.monotonic() + self.phone.args.answer_after / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.voice.pjphone")
    parser.add_argument("role", choices=("answer", "call"))
    parser.add_argument("--registrar", required=True, help="127.0.0.1:PORT")
    parser.add_argument("--user", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--to", default="hub", help="call: the user to call at the registrar")
    parser.add_argument("--dtmf", default="", help="call: digits once the call is answered")
    parser.add_argument("--dtmf-after", type=int, default=1500, help="ms after answer")
    parser.add_argument("--answer-after", type=int, default=300, help="answer: ms of ringing")
    parser.add_argument("--hangup-after", type=float, default=0.0, help="s after confirmed")
    parser.add_argument(
        "--hangup-from", type=int, default=0, help="hang up only calls from this index on"
    )
    parser.add_argument("--play", default="")
    parser.add_argument("--record", default="")
    parser.add_argument("--codec", default="PCMA/8000")
    parser.add_argument("--seconds", type=float, default=30.0, help="give up after this")
    args = parser.parse_args(argv)

    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.userAgent = "pjphone (tests)"
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = 1
    cfg.medConfig.clockRate = 8000
    cfg.medConfig.sndClockRate = 8000
    cfg.medConfig.noVad = True
    ep.libInit(cfg)
    transport = pj.TransportConfig()
    transport.port = args.port
    transport.boundAddress = "127.0.0.1"
    transport.publicAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    ep.libStart()
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():
        ep.codecSetPriority(codec.codecId, 0)
    ep.codecSetPriority(args.codec, 255)

    phone = Phone(args)
    phone.answer_at = None  # type: ignore[attr-defined]
    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:{args.user}@127.0.0.1"
    acfg.regConfig.registrarUri = f"sip:{args.registrar}"
    acfg.regConfig.timeoutSec = 300
    acfg.sipConfig.proxies.append(f"sip:{args.registrar};lr")
    acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    acfg.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
    acfg.natConfig.iceEnabled = False
    acfg.natConfig.sdpNatRewriteUse = False
    acfg.natConfig.viaRewriteUse = False
    acfg.natConfig.contactRewriteUse = False
    account = Account(phone)
    account.create(acfg)
    phone.account = account  # type: ignore[attr-defined]

    deadline = time.monotonic() + args.seconds
    placed = False
    code = 0
    try:
        while time.monotonic() < deadline:
            ep.libHandleEvents(20)
            now = time.monotonic()
            if args.role == "call" and not placed and account.getInfo().regIsActive:
                placed = True
                call = Call(phone, account)
                call.makeCall(f"sip:{args.to}@{args.registrar}", pj.CallOpParam(True))
            answer_at = phone.answer_at  # type: ignore[attr-defined]
            if answer_at is not None and now >= answer_at:
                phone.answer_at = None  # type: ignore[attr-defined]
                ok = pj.CallOpParam()
                ok.statusCode = 200
                phone.calls[-1].answer(ok)
            for call in list(phone.calls):
                if call.confirmed_at is None or not call.isActive():
                    continue
                due = now - call.confirmed_at >= args.dtmf_after / 1000
                if args.dtmf and due and not call.dtmf_sent and call.index == 0:
                    call.dtmf_sent = True
                    call.dialDtmf(args.dtmf)
                    say("dtmf", call=call.index, digits=args.dtmf)
                late = now - call.confirmed_at >= args.hangup_after
                if args.hangup_after and late and call.index >= args.hangup_from:
                    call.hangup(pj.CallOpParam(True))
            if phone.calls and phone.ended >= len(phone.calls):
                break
        else:
            code = 2
            say("timeout")
        for call in phone.calls:
            if call.isActive():
                call.hangup(pj.CallOpParam(True))
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            ep.libHandleEvents(20)
        for call in phone.calls:  # a recorder writes its WAV header when it is destroyed
            call.recorder = None
            call.player = None
        say("done", calls=len(phone.calls))
    except Exception as exc:  # report it: the test reads stdout
        say("error", error=f"{type(exc).__name__}: {exc}")
        code = 1
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
