"""The hub's line end to end on loopback: kamailio as the PBX, sipp callers with Cyrillic names,
PCMA/PCMU audio and RFC 2833 DTMF from the sip-tester pcaps, sipp phones (``-rtp_echo``) as the
employees' extensions. What the nodes would see is read from the store the line writes."""

from __future__ import annotations

import json
import threading
import time
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from lsnode.crm.clients import CarDraft, ClientDraft, add_client
from lsnode.crm.purposes import install_defaults
from lsnode.store.changes import Writer
from lsnode.store.db import init_store
from lsnode.store.traffic import SqliteTraffic
from lsnode.voice.ivr import DEFAULT_MENU, Menu
from lsnode.voice.journal import CallJournal
from lsnode.voice.line import LineConfig, VoiceLine
from lsnode.voice.sip import free_udp_port
from tests.voice import sipkit
from tests.voice.sipkit import FACTOR, LO, Kamailio, caller, options_ok, phone

pytestmark = pytest.mark.skipif(not sipkit.have_tools(), reason="kamailio and sipp are needed")

STAFF = [  # id, short name, departments, extension, presence
    ("e201", "Петухов В.П.", ["service"], "201", "available"),
    ("e202", "Аверкин А.Г.", ["salon"], "202", "available"),
    ("e205", "Бадовец А.В.", ["salon"], "205", "available"),
    ("e203", "Валуйский В.М.", ["salon"], "203", "available"),
    ("e204", "Сардин Э.В.", ["shop"], "204", "away"),
]


class Locked:
    """The store's one writer in tests: a lock instead of the hub's event loop."""

    def __init__(self, db: Database) -> None:
        self.journal = CallJournal(db)
        self.lock = threading.Lock()

    def __call__(self, fn: Any) -> Any:
        with self.lock:
            return fn(self.journal)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return self.journal._rows(sql, params)


def wait_for(check: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout * FACTOR
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def kam(tmp_path: Path) -> Iterator[Kamailio]:
    k = Kamailio(tmp_path).start()
    yield k
    k.stop()


@pytest.fixture
def line(tmp_path: Path, kam: Kamailio) -> Iterator[tuple[VoiceLine, Locked]]:
    data = tmp_path / "hub"
    db = init_store(data)
    writer = Writer(db)
    install_defaults(writer, SqliteTraffic(db))
    for emp_id, name, depts, ext, presence in STAFF:
        writer.insert(
            "employees",
            {
                "id": emp_id,
                "short_name": name,
                "extension": ext,
                "departments": json.dumps(depts),
                "presence": presence,
            },
        )
    add_client(
        writer,
        ClientDraft(
            name="Иванов Иван Иванович",
            phones=["+7 916 123-45-67"],
            car=CarDraft(plate="Н433АР12", make="Kia", model="Rio"),
        ),
        today=datetime.now(UTC).date(),
    )
    line_id = writer.insert(
        "sip_lines",
        {"server": LO, "port": kam.port, "username": "hub", "mode": "bridge", "state": "off"},
    )
    config = LineConfig(
        line_id,
        LO,
        kam.port,
        "hub",
        "secret",
        ring_s=4,
        sip_port=free_udp_port(),
        rtp_low=43000,
        rtp_high=43999,
        expires=10,
        register_timeout=2.0,
        data_dir=data,
        queue_retry_s=1.0,
        menu=Menu(choices=DEFAULT_MENU.choices, timeout_s=2.0),
    )
    store = Locked(db)
    voice = VoiceLine(config, store)
    voice.start()
    assert voice.wait_registered(20 * FACTOR), voice.state
    yield voice, store
    voice.stop()
    db.close()


def the_call(store: Locked) -> dict[str, Any]:
    def done() -> Any:
        rows = store.rows("SELECT * FROM calls WHERE state IN ('ended', 'missed', 'transferred')")
        return rows[0] if rows else None

    return wait_for(done, "the call to end", 60)  # type: ignore[no-any-return]


def channel_levels(path: Path) -> tuple[int, int]:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 1, 8000)
        data = w.readframes(w.getnframes())
    left = sum(1 for b in data[0::2] if abs(b - 128) > 20)
    right = sum(1 for b in data[1::2] if abs(b - 128) > 20)
    return left, right


def test_known_caller_picks_service_and_talks_to_the_service_employee(
    tmp_path: Path, kam: Kamailio, line: tuple[VoiceLine, Locked]
) -> None:
    _, store = line
    emp = phone(tmp_path, "p201", kam, "201", "answer", codec=8).start()
    call = caller(
        tmp_path,
        "c1",
        kam,
        "hub",
        "Иванов Иван",
        "+79161234567",
        8,
        [
            ("pause", "1000"),
            ("play", "dtmf_2833_1.pcap"),
            ("pause", "2500"),
            ("play", "g711a.pcap"),
            ("pause", "5000"),
        ],
    ).start()
    first = wait_for(lambda: store.rows("SELECT * FROM calls"), "the popup row")
    assert first[0]["caller_name"] == "Иванов Иван"
    assert first[0]["phone_e164"] == "+79161234567" and first[0]["counterparty_id"]
    assert call.wait(60) == 0, call.log.read_text(errors="replace")
    row = the_call(store)
    assert row["state"] == "ended" and row["employee_id"] == "e201"
    assert row["department"] == "service" and row["menu_digits"] == "1"
    assert row["codec"] == "PCMA" and row["talk_s"] >= 1 and row["answered_at"]
    routes = store.rows("SELECT * FROM call_routes WHERE call_id = ?", [row["id"]])
    assert [(r["employee_id"], r["outcome"]) for r in routes] == [("e201", "answered")]
    traffic = store.rows("SELECT * FROM traffic WHERE id = ?", [row["traffic_id"]])[0]
    assert (traffic["contact_type"], traffic["status"], traffic["responsible_id"]) == (
        "call",
        "in_work",
        "e201",
    )
    assert traffic["counterparty_id"] == row["counterparty_id"] and traffic["duration_s"] >= 1
    left, right = channel_levels(tmp_path / "hub" / row["recording"])
    # Audio on both channels (the caller, and its echo back), not silence; how much of the pcap
    # lands depends on how soon the call was answered on a loaded machine.
    assert left > 200 and right > 200, (left, right)
    emp.wait(10)


def test_busy_and_unregistered_extensions_pass_the_call_on_with_reasons(
    tmp_path: Path, kam: Kamailio, line: tuple[VoiceLine, Locked]
) -> None:
    _, store = line
    busy = phone(tmp_path, "p202", kam, "202", "busy").start()
    ok = phone(tmp_path, "p203", kam, "203", "answer", codec=0).start()
    call = caller(
        tmp_path,
        "c2",
        kam,
        "hub",
        "Неизвестный",
        "84957654321",
        0,
        [
            ("pause", "800"),
            ("play", "dtmf_2833_2.pcap"),
            ("pause", "9000"),
        ],
    ).start()
    assert call.wait(60) == 0, call.log.read_text(errors="replace")
    row = the_call(store)
    assert row["state"] == "ended" and row["employee_id"] == "e203" and not row["counterparty_id"]
    routes = store.rows("SELECT * FROM call_routes WHERE call_id = ? ORDER BY attempt", [row["id"]])
    assert [(r["employee_id"], r["outcome"]) for r in routes] == [
        ("e202", "busy"),
        ("e205", "unregistered"),
        ("e203", "answered"),
    ]
    skipped = json.loads(routes[2]["skipped"])
    assert {"employee_id": "e202", "reason": "tried"} in skipped
    busy.wait(10)
    ok.wait(10)


def test_nobody_answers_the_caller_waits_hangs_up_and_gets_a_callback(
    tmp_path: Path, kam: Kamailio, line: tuple[VoiceLine, Locked]
) -> None:
    _, store = line
    ringing = phone(tmp_path, "p201", kam, "201", "ring").start()
    call = caller(
        tmp_path,
        "c3",
        kam,
        "hub",
        "Иванов Иван",
        "+79161234567",
        8,
        [
            ("pause", "800"),
            ("play", "dtmf_2833_1.pcap"),
            ("pause", "9000"),
        ],
    ).start()
    assert call.wait(60) == 0, call.log.read_text(errors="replace")
    row = the_call(store)
    assert row["state"] == "missed" and row["queued_at"] and row["ringing_at"]
    routes = store.rows("SELECT * FROM call_routes WHERE call_id = ? ORDER BY attempt", [row["id"]])
    assert routes[0]["outcome"] == "no_answer" and routes[1]["employee_id"] is None
    traffic = store.rows("SELECT * FROM traffic WHERE id = ?", [row["traffic_id"]])[0]
    assert traffic["status"] == "new" and traffic["queued_at"] is None  # unprocessed, left
    task = store.rows("SELECT * FROM tasks WHERE source_id = ?", [row["id"]])[0]
    assert task["employee_id"] == "e201" and task["phone"] == "+79161234567"
    assert task["source"] == "missed_call" and task["counterparty_id"] == row["counterparty_id"]
    ringing.wait(10)


def test_options_and_garbage_to_the_line_and_the_pbx_going_away_and_back(
    tmp_path: Path, kam: Kamailio, line: tuple[VoiceLine, Locked]
) -> None:
    voice, store = line
    port = voice.config.sip_port
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for junk in (b"\xff\xfe garbage", b"INVITE nonsense\r\n\r\n", b"\x00" * 4):
            s.sendto(junk, (LO, port))
    assert options_ok(port)
    kam.stop()
    wait_for(lambda: voice.state == "down", "the line to go down", 40)
    row = store.rows("SELECT state, state_since FROM sip_lines")[0]
    assert row["state"] == "down" and row["state_since"]
    kam.start()
    wait_for(lambda: voice.state == "registered", "the line to register again", 90)
    assert store.rows("SELECT state FROM sip_lines")[0]["state"] == "registered"
