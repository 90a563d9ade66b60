"""Real sinks on 127.0.0.1 for the notification tests: an SMTP server (aiosmtpd) and an HTTP
server standing in for an SMS gateway. Both record what they got and can be told to fail."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from lsnode.clock import SettableClock
from lsnode.crm.clients import ClientDraft, add_client
from lsnode.notify import admin
from lsnode.store.changes import Writer
from lsnode.store.db import init_store
from lsnode.store.notify import NotifyStore

LOOPBACK = "127.0.0.1"
MSK = "Europe/Moscow"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """aiosmtpd handler: keeps every message; ``fail_with`` makes DATA answer that code."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.fail_with: str | None = None
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_with:
            return self.fail_with
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.SMTP)
        self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(
        sink,
        hostname=LOOPBACK,
        port=port,
        authenticator=sink.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


class HttpSink:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail = False


@pytest.fixture
def http_sink() -> Iterator[tuple[HttpSink, int]]:
    sink = HttpSink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if sink.fail:
                self.send_response(500)
                self.end_headers()
                return
            sink.requests.append({"path": self.path, "body": json.loads(body or b"{}")})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "OK"}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def msk(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Moscow wall-clock time as an aware UTC instant."""
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(MSK)).astimezone(UTC)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(msk(2026, 12, 3, 12, 0))


@pytest.fixture
def nstore(tmp_path: Path, clock: SettableClock) -> Iterator[NotifyStore]:
    db = init_store(tmp_path / "data")
    store = NotifyStore(db, clock)
    store.set_setting("time_zone", MSK)
    store.set_setting("dealer_name", "Кардинал")
    store.set_setting("dealer_address", "пр. Гагарина, 230")
    store.set_setting("dealer_phone", "+7 (495) 123-45-67")
    yield store
    db.close()


def client(
    store: NotifyStore,
    name: str,
    phone: str = "",
    email: str = "",
    sms: str = "yes",
    mail: str = "yes",
    company: bool = False,
) -> str:
    saved = add_client(
        Writer(store.db),
        ClientDraft(
            name=name,
            kind="company" if company else "person",
            phones=[phone] if phone else [],
            emails=[email] if email else [],
            consents={"consent_sms": sms, "consent_email": mail},
        ),
        today=datetime(2026, 12, 3).date(),
    )
    return saved.counterparty_id


def sms_channel(store: NotifyStore, port: int, enabled: bool = True) -> str:
    return admin.save_channel(
        store,
        kind="sms",
        name="SMS сообщение",
        enabled=enabled,
        settings={"url": f"json://{LOOPBACK}:{port}/sms?:to={{to}}"},
    )


def email_channel(store: NotifyStore, port: int, **settings: Any) -> str:
    return admin.save_channel(
        store,
        kind="email",
        name="Сообщение по электронной почте",
        settings={
            "host": LOOPBACK,
            "port": port,
            "security": "none",
            "sender": "service@kardinal.example",
            **settings,
        },
    )
