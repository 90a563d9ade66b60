"""The call popup, «Набрать», «Перевести», «Создать нового», «Воспроизвести» and the SIP line in
the status bar — view-models without a window.

The store is a real demo one; ``Hub`` writes ``calls`` rows the way the hub's line does (and
fans them out), and ``check()`` is what a data change of the node runs.
"""

from __future__ import annotations

import shutil
import wave
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from lsnode.cli import seed_demo
from lsnode.clock import SettableClock, instant
from lsnode.crm.staff import session_of
from lsnode.store.changes import Writer
from lsnode.store.db import open_store
from lsnode.store.ports import JournalQuery
from lsnode.ui import i18n
from lsnode.ui.calls import (
    CallPopupVM,
    CallWatcher,
    PlayerVM,
    describe,
    refusal,
)
from lsnode.ui.services import Services
from lsnode.ui.shell import PopupStack, StatusVM

DEMO_DAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)


class FakeContext:
    def __init__(self, db: Database) -> None:
        self.db = db

    def notify_local_change(self) -> None:
        pass


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "node"
    seed_demo(path, clients=30, seed=5, today=DEMO_DAY)
    return path


@pytest.fixture
def store(demo: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "node"
    shutil.copytree(demo, path)
    db = open_store(path)
    yield db
    db.close()


class Toasts(list[tuple[str, str]]):
    def __call__(self, message: str, tone: str) -> None:
        self.append((message, tone))

    @property
    def last(self) -> str:
        return self[-1][0] if self else ""


class Hub:
    """What the hub's line writes: the SIP line's state and the calls as they move."""

    def __init__(self, db: Database, clock: SettableClock) -> None:
        self.db = db
        self.writer = Writer(db)
        self.clock = clock
        self.line_id = self.writer.insert(
            "sip_lines",
            {"server": "127.0.0.1", "username": "hub", "mode": "bridge", "state": "registered"},
        )

    def line(self, state: str, since: datetime | None = None) -> None:
        changes: dict[str, Any] = {"state": state}
        if since is not None:
            changes["state_since"] = instant(since)
        self.writer.update("sip_lines", self.line_id, changes)

    def ring(self, employee: str, **row: Any) -> str:
        values = {
            "direction": "in",
            "state": "ringing",
            "caller_number": "89267770011",
            "caller_name": "Ivan",
            "phone_e164": "+79267770011",
            "employee_id": employee,
            "department": "service",
            "menu_digits": "1",
            "started_at": instant(self.clock()),
            "ringing_at": instant(self.clock()),
            **row,
        }
        return self.writer.insert("calls", values)

    def move(self, call_id: str, **changes: Any) -> None:
        self.writer.update("calls", call_id, changes)

    def requests(self, kind: str | None = None) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT * FROM call_requests" + (" WHERE kind = ?" if kind else "") + " ORDER BY id",
            [kind] if kind else [],
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


class Node:
    """An employee's node: session, popups, the watcher and what it was asked to open."""

    def __init__(self, store: Database, name: str = "Петухов В.П.") -> None:
        self.clock = SettableClock(NOW)
        self.services = Services(FakeContext(store), clock=self.clock)
        self.hub = Hub(store, self.clock)
        by_name = {e["short_name"]: e for e in self.services.reader.employees()}
        self.by_name = by_name
        self.me = by_name[name]
        Writer(store).update("employees", self.me["id"], {"extension": "201"})
        self.services.session = session_of(self.me)
        self.popups = PopupStack()
        self.toasts = Toasts()
        self.status = StatusVM()
        self.opened: list[tuple[str, str]] = []
        self.picked: list[Callable[[str], str | None]] = []
        self.confirmed: list[Callable[[], Any]] = []
        self.is_online = True
        self.hub_dir = store_dir(store)
        self.loader: Callable[[str], Any] = lambda _p: FakeSound()
        self.watcher = CallWatcher(
            self.services,
            self.popups,
            notify=self.toasts,
            status=self.status,
            online=lambda: self.is_online,
            open_client=lambda ref: self.opened.append(("client", ref)),
            open_traffic=lambda ref: self.opened.append(("traffic", ref)),
            pick_employee=lambda on_pick, **_kw: self.picked.append(on_pick),
            confirm=lambda _text, _ok, fn: self.confirmed.append(fn),
            hub_access=lambda: (self.hub_dir, None, None),
            post=lambda fn: fn(),
            spawn=lambda fn: fn(),
            loader=lambda path: self.loader(path),
            clock=self.clock,
        )

    def client(self) -> dict[str, Any]:
        """A demo client with cars, an open document and past traffic."""
        row = self.services.reader.db.execute(
            "SELECT c.id FROM counterparties c "
            "WHERE EXISTS (SELECT 1 FROM cars WHERE owner_id = c.id) "
            "AND EXISTS (SELECT 1 FROM traffic t WHERE t.counterparty_id = c.id) "
            "AND EXISTS (SELECT 1 FROM documents d WHERE d.counterparty_id = c.id "
            "AND d.is_open = 1) ORDER BY c.full_name LIMIT 1"
        ).fetchone()
        client = self.services.clients.counterparty(row[0])
        assert client is not None
        return client

    def shown(self) -> list[CallPopupVM]:
        return [e.item for e in self.popups.entries if isinstance(e.item, CallPopupVM)]

    def labels(self, vm: CallPopupVM) -> list[str]:
        return [label for label, _cb, _kind in vm.actions]

    def act(self, vm: CallPopupVM, label: str) -> Any:
        callback = next(cb for text, cb, _kind in vm.actions if text == label)
        return callback()


def store_dir(db: Database) -> Path:
    return Path(db.execute("PRAGMA database_list").fetchone()[2]).parent


class FakeSound:
    length = 70.0
    state = "stop"

    def __init__(self) -> None:
        self.pos = 0.0

    def play(self) -> None:
        self.state = "play"

    def stop(self) -> None:
        self.state = "stop"

    def seek(self, pos: float) -> None:
        self.pos = pos

    def get_pos(self) -> float:
        return self.pos

    def unload(self) -> None:
        self.state = "unloaded"


@pytest.fixture
def node(store: Database) -> Iterator[Node]:
    n = Node(store)
    n.watcher.start(n.me["id"])
    yield n
    n.watcher.stop()  # before the store closes: a language switch re-reads shown popups


# --- the popup follows the call ------------------------------------------------------------------


def test_a_known_caller_rings_talks_and_hangs_up_in_one_popup(node: Node) -> None:
    client = node.client()
    node.clock.advance(seconds=5)
    call = node.hub.ring(node.me["id"], counterparty_id=client["id"])
    assert node.watcher.check() == [call]
    (vm,) = node.shown()
    assert vm.title == "ВХОДЯЩИЙ ВЫЗОВ" and vm.tone == "new"
    assert vm.client_text == client["full_name"] and vm.known
    assert vm.number_text == "89267770011 Ivan"
    assert vm.status_text == "Сервис"
    titles = [s["title"] for s in vm.sections]
    assert titles == ["Автомобили", "Незакрытые документы", "Последние контакты"]
    assert node.labels(vm) == ["Карточка"]

    node.clock.advance(seconds=12)
    node.hub.move(call, state="talking", answered_at=instant(node.clock()))
    assert node.watcher.check() == []
    assert node.shown() == [vm]  # the same popup, changed in place
    assert vm.title == "РАЗГОВОР…" and vm.status_text == "Разговор 00:00"
    assert node.labels(vm) == ["Перевести", "Карточка", "Отбой"]
    node.clock.advance(seconds=75)
    node.watcher.tick()
    assert vm.status_text == "Разговор 01:15"

    node.hub.move(
        call,
        state="ended",
        ended_at=instant(node.clock()),
        talk_s=75,
        recording="recordings/2026/12/03/x.wav",
    )
    node.watcher.check()
    assert vm.title == "РАЗГОВОР ОКОНЧЕН" and vm.status_text == "Длительность 01:15"
    assert node.labels(vm) == ["Карточка", "Воспроизвести"]
    node.act(vm, "Карточка")
    assert node.opened == [("client", client["id"])]
    i18n.set_lang("en")
    assert vm.title == "CALL ENDED" and vm.status_text == "Duration 01:15"
    assert vm.sections[0]["title"] == "Cars"


def test_a_missed_call_offers_to_call_back_and_the_call_back_returns_it(node: Node) -> None:
    call = node.hub.ring(node.me["id"])
    node.watcher.check()
    (vm,) = node.shown()
    assert vm.client_text == "Новый номер: клиента нет в базе" and not vm.known
    assert node.labels(vm) == ["Создать нового"]
    node.hub.move(call, state="missed", ended_at=instant(node.clock()), end_reason="caller_hangup")
    node.watcher.check()
    assert vm.title == "ПРОПУЩЕННЫЙ ВЫЗОВ" and vm.tone == "lost"
    assert vm.status_text == "Абонент положил трубку"
    assert node.labels(vm) == ["Перезвонить", "Создать нового"]
    assert node.act(vm, "Перезвонить") is True
    (request,) = node.hub.requests("dial")
    assert (request["employee_id"], request["phone"], request["call_id"]) == (
        node.me["id"],
        "+79267770011",
        call,
    )
    assert request["status"] == "pending"
    assert node.toasts.last.startswith("Набираем +79267770011")


def test_only_my_calls_pop_up_and_a_closed_popup_stays_closed(node: Node) -> None:
    other = node.by_name["Аверкин А.Г."]["id"]
    ended_before = node.hub.ring(node.me["id"], started_at=instant(NOW - timedelta(minutes=9)))
    node.hub.move(ended_before, state="ended", ended_at=instant(NOW - timedelta(minutes=5)))
    node.hub.ring(other)
    assert node.watcher.check() == []  # a colleague's, and one over before I signed in
    mine = node.hub.ring(node.me["id"])
    assert node.watcher.check() == [mine]
    node.popups.dismiss(node.popups.ids[0])
    node.hub.move(mine, state="talking", answered_at=instant(node.clock()))
    assert node.watcher.check() == [] and node.shown() == []
    node.watcher.stop()
    node.hub.ring(node.me["id"])
    assert node.watcher.check() == []  # signed out: nothing


def test_a_call_that_leaves_me_says_where_it_went(node: Node) -> None:
    colleague = node.by_name["Аверкин А.Г."]
    unanswered = node.hub.ring(node.me["id"])
    talked = node.hub.ring(node.me["id"], caller_number="84957654321", phone_e164="+74957654321")
    node.watcher.check()
    first, second = sorted(node.shown(), key=lambda v: v.call_id)
    node.hub.move(talked, state="talking", answered_at=instant(node.clock()))
    node.watcher.check()
    node.hub.move(unanswered, employee_id=colleague["id"])  # no answer here: the next one
    node.hub.move(talked, employee_id=colleague["id"], state="ringing")  # «Перевести»
    node.watcher.check()
    assert first.title == "ПРОПУЩЕННЫЙ ВЫЗОВ"
    assert first.status_text == f"Вызов у сотрудника: {colleague['short_name']}"
    assert second.title == "РАЗГОВОР ОКОНЧЕН"
    assert second.status_text == f"Переведён: {colleague['short_name']}"
    node.hub.move(talked, state="ended", ended_at=instant(node.clock()))
    node.watcher.check()
    assert second.title == "РАЗГОВОР ОКОНЧЕН"  # no longer followed


# --- Создать нового -------------------------------------------------------------------------------


def test_create_new_makes_the_caller_a_client_with_the_number(node: Node) -> None:
    node.hub.ring(node.me["id"], caller_name='"Сергей"')
    node.watcher.check()
    (vm,) = node.shown()
    assert node.act(vm, "Создать нового") is False  # the popup stays, with the name field
    assert vm.creating and vm.name_text == '"Сергей"'
    vm.name_text = "   "
    vm.save()
    assert vm.error == "Введите ФИО клиента" and vm.creating
    vm.name_text = "1234"
    vm.save()
    assert vm.error.startswith("Клиент не создан:") and vm.creating
    vm.name_text = "Сергеев  Сергей Петрович"
    vm.save()
    assert not vm.creating and not vm.error
    assert vm.known and vm.client_text == "Сергеев Сергей Петрович"
    assert node.toasts.last == "Клиент создан: Сергеев Сергей Петрович"
    found = node.services.clients.by_phone_e164("+79267770011", 5)
    assert len(found) == 1
    assert node.labels(vm) == ["Карточка"]


# --- Перевести, Отбой ----------------------------------------------------------------------------


def test_transfer_and_hang_up_are_requests_the_hub_carries_out(node: Node) -> None:
    colleague = node.by_name["Аверкин А.Г."]
    call = node.hub.ring(node.me["id"], state="talking", answered_at=instant(node.clock()))
    node.watcher.check()
    (vm,) = node.shown()
    assert node.act(vm, "Перевести") is False and len(node.picked) == 1
    assert node.picked[0](colleague["id"]) is None
    (request,) = node.hub.requests("transfer")
    assert (request["call_id"], request["to_employee_id"], request["employee_id"]) == (
        call,
        colleague["id"],
        node.me["id"],
    )
    assert node.toasts.last == f"Переводим вызов: {colleague['short_name']}"
    node.hub.writer.update(
        "call_requests",
        request["id"],
        {"status": "failed", "result": "the call is not being talked on the hub's line"},
    )
    node.watcher.check()
    assert node.toasts.last == "АТС не выполнила запрос: разговор уже завершён"

    assert node.act(vm, "Отбой") is False and len(node.confirmed) == 1
    assert node.hub.requests("hangup") == []  # not before it is confirmed
    node.confirmed[0]()
    (hangup,) = node.hub.requests("hangup")
    assert hangup["call_id"] == call


# --- Набрать -------------------------------------------------------------------------------------


def test_dial_a_traffic_a_client_or_a_typed_number(node: Node) -> None:
    client = node.client()
    traffic = node.services.reader.journal_brief(
        JournalQuery(counterparty_id=client["id"], limit=1)
    )[0][0]
    row = node.services.reader.traffic(traffic["id"])
    assert row is not None
    assert node.watcher.dial(traffic["id"])
    assert node.watcher.dial(client["id"])
    assert node.watcher.dial("8 (916) 123-45-67")
    first, second, third = node.hub.requests("dial")
    assert (first["counterparty_id"], first["call_id"]) == (client["id"], None)
    assert first["phone"] == (row["phone_e164"] or row["phone"])
    assert second["counterparty_id"] == client["id"] and second["phone"].startswith("+7")
    assert third["phone"] == "+79161234567"
    phoned = node.hub.ring(node.me["id"], traffic_id=traffic["id"])
    assert node.watcher.dial(traffic["id"])
    assert node.hub.requests("dial")[-1]["call_id"] == phoned  # joins that call's traffic


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("signed_out", "Войдите, чтобы звонить"),
        ("no_extension", "У вас не указан внутренний номер: его задаёт администратор"),
        ("line_down", "Нет связи с АТС: позвонить через программу сейчас нельзя"),
        ("no_line", "Телефония не настроена на хабе"),
        (
            "offline",
            "Нет связи с хабом: звонки через программу идут через него. Повторите, "
            "когда связь появится",
        ),
        ("no_phone", "У клиента нет телефона"),
    ],
)
def test_dial_says_why_it_cannot(node: Node, setup: str, message: str) -> None:
    ref = "+7 916 123-45-67"
    if setup == "signed_out":
        node.services.session = None
    elif setup == "no_extension":
        node.hub.writer.update("employees", node.me["id"], {"extension": ""})
    elif setup == "line_down":
        node.hub.line("down", NOW)
    elif setup == "no_line":
        node.hub.writer.delete("sip_lines", node.hub.line_id)
    elif setup == "offline":
        node.is_online = False
    else:
        ref = "нет такого"
    assert node.watcher.dial(ref) is None
    assert node.toasts.last == message
    assert node.hub.requests() == []


def test_the_hubs_refusals_read_in_the_users_language() -> None:
    assert refusal("expired") == "запрос устарел, пока не было связи с хабом"
    assert refusal("RuntimeError: the SIP line is not registered").startswith("Нет связи с АТС")
    assert refusal("something new") == "something new"


# --- the line in the status bar -----------------------------------------------------------------


def test_the_status_bar_shows_the_sip_line(node: Node) -> None:
    status = node.status
    assert status.line_text == "Телефония: подключена" and status.line_tone == "available"
    assert status.line_short == "АТС"
    down = datetime(2026, 12, 3, 11, 5, tzinfo=UTC)
    node.hub.line("down", down)
    node.watcher.check()
    shown = i18n.format_time(down)
    assert status.line_text == f"Нет связи с АТС с {shown}" and status.line_tone == "danger"
    assert status.line_short == f"Нет АТС с {shown}" and status.line_icon == "phone-off"
    i18n.set_lang("en")
    assert status.line_text == f"No PBX connection since {shown}"
    node.hub.writer.delete("sip_lines", node.hub.line_id)
    node.watcher.check()
    assert status.line_text == "" and status.line_short == ""


# --- Воспроизвести ------------------------------------------------------------------------------


def _recorded(node: Node, recording: str = "recordings/2026/12/03/r.wav") -> tuple[str, str]:
    traffic = node.services.reader.journal_brief(JournalQuery(limit=1))[0][0]["id"]
    call = node.hub.ring(
        node.me["id"], state="ended", traffic_id=traffic, recording=recording, talk_s=70
    )
    return traffic, call


def _cache(node: Node, call_id: str) -> Path:
    path = node.hub_dir / "recordings-cache" / f"{call_id}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80\x80" * 800)
    return path


def test_play_a_cached_recording_in_the_player(node: Node) -> None:
    traffic, call = _recorded(node)
    _cache(node, call)
    player = node.watcher.play(traffic)
    assert isinstance(player, PlayerVM) and player in [e.item for e in node.popups.entries]
    assert player.playing and not player.error and player.length == 70.0
    assert player.position_text == "00:00 / 01:10"
    player.sound.pos = 4.0
    player.tick()
    assert player.position_text == "00:04 / 01:10"
    player.toggle()
    assert not player.playing and player.position == 4.0
    player.toggle()
    assert player.playing and player.sound.pos == 4.0
    player.stop()
    assert player.sound is None and not player.playing


def test_play_says_why_it_cannot(node: Node) -> None:
    assert node.watcher.play("no-such-traffic") is None
    assert node.toasts.last == "Записи разговора нет"
    traffic, call = _recorded(node)
    player = node.watcher.play(traffic)  # not cached, and this node is not paired
    assert player is not None
    assert player.error == "Устройство не подключено к хабу: записи хранятся на хабе"
    cached = _cache(node, call)
    node.loader = lambda _p: None  # no audio device: SDL opened no mixer
    player = node.watcher.play(call)
    assert player is not None and not player.playing
    assert player.error == f"Нет звукового устройства: запись сохранена в {cached}"


def test_the_real_sound_loader_plays_or_says_there_is_no_device(tmp_path: Path) -> None:
    path = tmp_path / "r.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80\x80" * 8000)
    player = PlayerVM()
    if player.load(path):
        assert player.playing and player.length > 0
        player.stop()
    else:
        assert player.error.startswith("Нет звукового устройства")


def test_describe_covers_every_state_in_both_directions(node: Node) -> None:
    me = node.me["id"]
    base = {"id": "c", "caller_number": "84951234567", "phone_e164": "+74951234567",
            "employee_id": me, "started_at": instant(NOW)}  # fmt: skip
    seen = {}
    for direction in ("in", "out"):
        for state in ("ringing", "dialing", "talking", "ended", "missed", "queued", "transferred"):
            row = {**base, "direction": direction, "state": state, "end_reason": "client_busy"}
            view = describe(node.services, row, me, NOW)
            seen[(direction, state)] = (view["title"], view["status_text"])
    assert seen[("out", "ringing")] == (
        "ИСХОДЯЩИЙ ВЫЗОВ",
        "Снимите трубку: после ответа позвоним клиенту",
    )
    assert seen[("out", "dialing")] == ("ИСХОДЯЩИЙ ВЫЗОВ", "Вызываем клиента…")
    assert seen[("out", "missed")] == ("ВЫЗОВ НЕ СОСТОЯЛСЯ", "Клиент занят")
    assert seen[("in", "transferred")] == (
        "ВХОДЯЩИЙ ВЫЗОВ",
        "Вызов передан на ваш телефон через АТС",
    )
    assert seen[("in", "queued")][0] == "ПРОПУЩЕННЫЙ ВЫЗОВ"
    i18n.set_lang("en")
    for direction in ("in", "out"):
        for state in ("ringing", "talking", "ended", "missed"):
            row = {**base, "direction": direction, "state": state, "end_reason": "weird"}
            view = describe(node.services, row, me, NOW)
            assert view["title"].isupper() and view["status_text"].isascii()
