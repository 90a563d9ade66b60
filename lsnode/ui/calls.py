"""The telephone on the employee's node (SPEC §5): the call popup, «Перевести», «Набрать»,
«Воспроизвести», and the SIP line's state in the status bar.

``CallWatcher`` follows the ``calls`` rows of the signed-in employee (``lsnode.voice``: the hub
writes a row the moment the INVITE arrives and each time the call moves). Every data change of
the node runs ``check()``: a call that starts ringing for me gets one popup (``CallPopupVM``) —
ВХОДЯЩИЙ ВЫЗОВ with the time, the client found by the number, the number and the caller's name
as the PBX sent it («84951234567 Ivan»), then the client's cars, open documents and last
contacts — and that popup changes in place as the row moves: РАЗГОВОР… with the talk time,
ПРОПУЩЕННЫЙ ВЫЗОВ, РАЗГОВОР ОКОНЧЕН. A call that leaves me for a colleague (transferred, or
passed on after ringing here unanswered) says so and stops following the call.

- A number no client has offers «Создать нового»: the popup asks for the name (the caller's
  display name pre-filled) and creates the client with the number
  (``lsnode.crm.clients.add_client``); the hub links the call and its traffic to them by the
  number, and the popup shows them at once.
- «Перевести» (while talking) picks a colleague; «Отбой» asks the hub to hang up (confirmed).
  Both are ``call_requests`` rows the hub carries out once; a refusal comes back as a toast.
- «Набрать» (``dial``) rings my extension, then the client (ИСХОДЯЩИЙ ВЫЗОВ in the same popup);
  «Перезвонить» on a missed call dials the number back, joining that call's traffic.
- «Воспроизвести» (``play_recording``) fetches the call's recording from the hub once
  (``lsnode.voice.recordings``), keeps it in the node's data dir and plays it in a small player
  popup (Kivy's ``SoundLoader``); without an audio device it says so and where the file is.

The cards («Набрать», «Воспроизвести») call the module's ``dial(app, ref)`` and
``play_recording(app, ref)``; ``attach(app)`` creates the watcher (``app.calls``) and follows
sessions, data changes and the line's state. View-models only; the popup's look is
``calls.kv`` (``CallCard``, ``PlayerCard``), registered with ``PopupStack.register_view``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from lsnode.crm.clients import ClientDraft, add_client
from lsnode.crm.normalize import normalize_phone
from lsnode.errors import LsnodeError
from lsnode.store.ports import JournalQuery, Row
from lsnode.ui import i18n
from lsnode.ui.shell import PopupEntry, PopupStack, PopupVM

log = logging.getLogger("lsavto.ui.calls")

STRINGS = {
    # the popup's titles: the brochure's four, and the outgoing ones
    "calls.incoming": ("ВХОДЯЩИЙ ВЫЗОВ", "INCOMING CALL"),
    "calls.talking": ("РАЗГОВОР…", "TALKING…"),
    "calls.missed": ("ПРОПУЩЕННЫЙ ВЫЗОВ", "MISSED CALL"),
    "calls.ended": ("РАЗГОВОР ОКОНЧЕН", "CALL ENDED"),
    "calls.outgoing": ("ИСХОДЯЩИЙ ВЫЗОВ", "OUTGOING CALL"),
    "calls.failed": ("ВЫЗОВ НЕ СОСТОЯЛСЯ", "CALL NOT CONNECTED"),
    # who is calling
    "calls.unknown": ("Новый номер: клиента нет в базе", "New number: no such client yet"),
    "calls.hidden": ("Номер скрыт", "Number withheld"),
    "calls.cars": ("Автомобили", "Cars"),
    "calls.documents": ("Незакрытые документы", "Open documents"),
    "calls.contacts": ("Последние контакты", "Last contacts"),
    "calls.more": ("и ещё {n}", "and {n} more"),
    "calls.type.call": ("Звонок", "Call"),
    "calls.type.visit": ("Визит", "Visit"),
    "calls.type.internet": ("Интернет", "Internet"),
    "calls.dept.service": ("Сервис", "Service"),
    "calls.dept.salon": ("Продажа автомобилей", "Car sales"),
    "calls.dept.shop": ("Запчасти", "Parts"),
    "calls.dept.feedback": ("Обратная связь", "Feedback"),
    "calls.dept.other": ("Оператор", "Operator"),
    # what is happening
    "calls.pick_up": (
        "Снимите трубку: после ответа позвоним клиенту",
        "Pick up your phone: the client is called once you answer",
    ),
    "calls.dialing": ("Вызываем клиента…", "Calling the client…"),
    "calls.talk_time": ("Разговор {time}", "Talking {time}"),
    "calls.talked": ("Длительность {time}", "Duration {time}"),
    "calls.handed": (
        "Вызов передан на ваш телефон через АТС",
        "The PBX put the call through to your phone",
    ),
    "calls.moved_to": ("Вызов у сотрудника: {name}", "The call went to {name}"),
    "calls.transferred_to": ("Переведён: {name}", "Transferred to {name}"),
    "calls.reason.client_busy": ("Клиент занят", "The client's line is busy"),
    "calls.reason.client_no_answer": ("Клиент не ответил", "The client did not answer"),
    "calls.reason.client_unregistered": ("Номер недоступен", "The number is unreachable"),
    "calls.reason.client_declined": ("Клиент отклонил вызов", "The client declined"),
    "calls.reason.employee_no_answer": ("Вы не сняли трубку", "You did not pick up"),
    "calls.reason.employee_busy": ("Ваш телефон занят", "Your phone was busy"),
    "calls.reason.employee_unregistered": (
        "Ваш телефон не подключён к АТС",
        "Your phone is not registered with the PBX",
    ),
    "calls.reason.caller_hangup": ("Абонент положил трубку", "The caller hung up"),
    "calls.reason.queue_timeout": ("Абонент не дождался ответа", "The caller gave up waiting"),
    "calls.reason.other": ("Вызов прерван", "The call was dropped"),
    # actions
    "calls.card": ("Карточка", "Card"),
    "calls.traffic": ("Трафик", "Traffic"),
    "calls.create": ("Создать нового", "Create new"),
    "calls.transfer": ("Перевести", "Transfer"),
    "calls.transfer_title": ("Перевести вызов", "Transfer the call"),
    "calls.hangup": ("Отбой", "Hang up"),
    "calls.hangup_confirm": ("Завершить этот разговор?", "End this call?"),
    "calls.call_back": ("Перезвонить", "Call back"),
    "calls.play": ("Воспроизвести", "Play"),
    "calls.save": ("Сохранить", "Save"),
    "calls.cancel": ("Отмена", "Cancel"),
    "calls.name": ("ФИО клиента", "Client's full name"),
    "calls.name_hint": ("Например: Иванов Иван Иванович", "E.g. Ivanov Ivan Ivanovich"),
    # outcomes and errors
    "calls.created": ("Клиент создан: {name}", "Client created: {name}"),
    "calls.create_failed": ("Клиент не создан: {detail}", "Client not created: {detail}"),
    "calls.name_needed": ("Введите ФИО клиента", "Type the client's name"),
    "calls.dial_sent": (
        "Набираем {who}: снимите трубку, когда зазвонит ваш телефон",
        "Dialling {who}: pick up when your phone rings",
    ),
    "calls.transfer_sent": ("Переводим вызов: {name}", "Transferring the call to {name}"),
    "calls.sign_in": ("Войдите, чтобы звонить", "Sign in to make calls"),
    "calls.no_phone": ("У клиента нет телефона", "The client has no phone number"),
    "calls.no_extension": (
        "У вас не указан внутренний номер: его задаёт администратор",
        "You have no extension: an administrator sets it",
    ),
    "calls.no_line": ("Телефония не настроена на хабе", "Telephony is not set up on the hub"),
    "calls.line_not_ready": (
        "Нет связи с АТС: позвонить через программу сейчас нельзя",
        "The PBX is not reachable: calls cannot be made now",
    ),
    "calls.offline": (
        "Нет связи с хабом: звонки через программу идут через него. "
        "Повторите, когда связь появится",
        "The hub is not reachable: calls go through it. Try again when it is back",
    ),
    "calls.request_failed": ("АТС не выполнила запрос: {detail}", "The PBX refused: {detail}"),
    "calls.refused.expired": (
        "запрос устарел, пока не было связи с хабом",
        "the request went stale while the hub was unreachable",
    ),
    "calls.refused.not_talking": ("разговор уже завершён", "the call is already over"),
    "calls.refused.line_off": ("телефонная линия выключена", "the phone line is off"),
    "calls.refused.no_extension": ("у сотрудника нет внутреннего номера", "no extension"),
    # the recording player
    "calls.player": ("Воспроизведение записи…", "Playing the recording…"),
    "calls.loading": ("Загружаем запись с хаба…", "Fetching the recording from the hub…"),
    "calls.no_recording": ("Записи разговора нет", "There is no recording of this call"),
    "calls.no_audio": (
        "Нет звукового устройства: запись сохранена в {path}",
        "No audio device: the recording is saved as {path}",
    ),
    "calls.rec.not_paired": (
        "Устройство не подключено к хабу: записи хранятся на хабе",
        "This device is not paired with the hub, which keeps the recordings",
    ),
    "calls.rec.offline": (
        "Нет связи с хабом: запись можно будет прослушать, когда связь появится",
        "The hub is not reachable: play it when the connection is back",
    ),
    "calls.rec.denied": (
        "Хаб не выдал запись этому устройству: подключите его заново",
        "The hub refused this device: pair it again",
    ),
    "calls.rec.missing": ("Записи этого разговора на хабе нет", "The hub has no such recording"),
    "calls.rec.untrusted": (
        "Это не тот хаб, к которому подключено устройство",
        "This is not the hub this device was paired with",
    ),
    "calls.rec.failed": ("Запись не загрузилась: {detail}", "The recording did not load: {detail}"),
    # the status bar: «Статус телефонной линии»
    "calls.line.registered": ("Телефония: подключена", "Telephony: connected"),
    "calls.line.registering": ("Телефония: подключение…", "Telephony: connecting…"),
    "calls.line.down": ("Нет связи с АТС с {time}", "No PBX connection since {time}"),
    "calls.line.down_now": ("Нет связи с АТС", "No PBX connection"),
    "calls.line.off": ("Телефония выключена", "Telephony is off"),
    # the same, where the status bar is narrow (tablet)
    "calls.line_short.registered": ("АТС", "PBX"),
    "calls.line_short.registering": ("АТС…", "PBX…"),
    "calls.line_short.down": ("Нет АТС с {time}", "No PBX since {time}"),
    "calls.line_short.down_now": ("Нет АТС", "No PBX"),
    "calls.line_short.off": ("АТС выкл.", "PBX off"),
}
i18n.register(STRINGS)

ACTIVE = ("ringing", "dialing", "talking", "transferred")
TERMINAL = ("ended", "missed")
LOOKBACK = timedelta(hours=2)  # a ringing row older than this is a hub that died mid-call
MAX_VISIBLE = 3
SECTION_LINES = 3

Notify = Callable[[str, str], None]
Post = Callable[[Callable[[], Any]], None]


def _post_main(fn: Callable[[], Any]) -> None:
    Clock.schedule_once(lambda _dt: fn(), 0)


def _spawn(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, name="call recording", daemon=True).start()


def _rows(db: Any, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[Row]:
    cur = db.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _mmss(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _parse(instant: str | None) -> datetime | None:
    if not instant:
        return None
    try:
        moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _label(prefix: str, code: str | None) -> str:
    key = f"{prefix}.{code}"
    return i18n.tr(key) if code and i18n.has(key) else str(code or "")


# --- what the popup shows ----------------------------------------------------------------------


def car_text(car: Row) -> str:
    """«Kia Rio 1.6 · Н433АР12»."""
    name = " ".join(x for x in (car.get("make"), car.get("model"), car.get("modification")) if x)
    parts = [name, car.get("plate") or ""]
    return " · ".join(p for p in parts if p) or (car.get("vin") or "")


def document_text(doc: Row) -> str:
    """«ЗН 14029 · 13.01.2017 · Предв.РЗ»."""
    parts = [doc.get("doc_no") or "", i18n.format_date(doc.get("doc_date")), doc.get("status")]
    return " · ".join(str(p) for p in parts if p)


def contact_text(row: Row) -> str:
    """«18.10.2016 16:36 · Звонок · Ремонт · Петухов В.П.»."""
    parts = [
        i18n.format_datetime(row.get("contact_at")),
        _label("calls.type", row.get("contact_type")),
        row.get("purpose_name") or "",
        row.get("responsible_name") or "",
    ]
    return " · ".join(p for p in parts if p)


def _section(title_key: str, lines: list[str]) -> dict[str, str] | None:
    if not lines:
        return None
    shown = lines[:SECTION_LINES]
    if len(lines) > SECTION_LINES:
        shown.append(i18n.tr("calls.more", n=len(lines) - SECTION_LINES))
    return {"title": i18n.tr(title_key), "text": "\n".join(shown)}


def client_of(services: Any, call: Row) -> str | None:
    """The call's client: the hub's find, else (a client created since) by the number here."""
    if call.get("counterparty_id"):
        return str(call["counterparty_id"])
    if call.get("phone_e164"):
        found = services.clients.by_phone_e164(call["phone_e164"], 1)
        if found:
            return str(found[0])
    return None


def client_sections(
    services: Any, counterparty_id: str, skip_traffic: str | None = None
) -> list[dict[str, str]]:
    """Cars, open documents and last contacts of a client, as the popup lists them."""
    clients = services.clients
    cars = clients.cars_of([counterparty_id], brief=True).get(counterparty_id, [])
    docs = clients.open_documents_of([counterparty_id]).get(counterparty_id, [])
    recent, _total = services.reader.journal(
        JournalQuery(counterparty_id=counterparty_id, limit=SECTION_LINES + 1)
    )
    recent = [r for r in recent if r["id"] != skip_traffic][:SECTION_LINES]
    sections = [
        _section("calls.cars", [car_text(c) for c in cars]),
        _section("calls.documents", [document_text(d) for d in docs]),
        _section("calls.contacts", [contact_text(r) for r in recent]),
    ]
    return [s for s in sections if s]


def _reason_key(reason: str) -> str:
    key = f"calls.reason.{reason}"
    return key if i18n.has(key) else "calls.reason.other"


def describe(
    services: Any,
    call: Row,
    me: str,
    now: datetime,
    *,
    talked_here: bool = False,
) -> dict[str, Any]:
    """What the popup shows for a ``calls`` row, seen by employee ``me``: the texts, the tone,
    and the action keys (``card``, ``traffic``, ``create``, ``transfer``, ``hangup``,
    ``call_back``, ``play``) with their button kinds, the main one first (drawn rightmost,
    where the thumb is; «Отбой» last, away from it). ``talked_here``: this popup already
    showed me talking (a call that then leaves me was transferred, not missed)."""
    state = call.get("state") or ""
    out = call.get("direction") == "out"
    mine = call.get("employee_id") == me
    cp = client_of(services, call)
    client = services.clients.counterparty(cp) if cp else None
    number = call.get("caller_number") or call.get("phone_e164") or ""
    shown_name = call.get("caller_name") or ""
    view: dict[str, Any] = {
        "when_text": i18n.format_datetime(call.get("started_at")),
        "client_text": (client or {}).get("full_name") or i18n.tr("calls.unknown"),
        "number_text": " ".join(x for x in (number, shown_name) if x) or i18n.tr("calls.hidden"),
        "known": client is not None,
        "counterparty_id": cp or "",
        "sections": client_sections(services, cp, call.get("traffic_id")) if cp else [],
        "status_text": "",
        "keys": [],
    }
    card = [("card", "flat")] if cp else ([("create", "flat")] if number and not out else [])
    traffic = [("traffic", "flat")] if call.get("traffic_id") else []
    answered = _parse(call.get("answered_at"))
    talked = _mmss(call.get("talk_s") or 0)
    if not mine:
        who = services.reader.employee(call["employee_id"]) if call.get("employee_id") else None
        name = (who or {}).get("short_name") or "—"
        if talked_here:
            title, icon, tone = "calls.ended", "phone-forward", "processed"
            view["status_text"] = i18n.tr("calls.transferred_to", name=name)
        else:
            title, icon, tone = "calls.missed", "phone-missed", "lost"
            view["status_text"] = i18n.tr("calls.moved_to", name=name)
        view["keys"] = card
    elif state in ("ringing", "dialing") and out:
        title, icon, tone = "calls.outgoing", "phone-outgoing", "accent"
        view["status_text"] = i18n.tr("calls.pick_up" if state == "ringing" else "calls.dialing")
        view["keys"] = [("hangup", "danger")]
    elif state in ("ringing", "transferred"):
        title, icon, tone = "calls.incoming", "phone-incoming", "new"
        menu = _label("calls.dept", call.get("department")) if call.get("department") else ""
        handed = i18n.tr("calls.handed") if state == "transferred" else ""
        view["status_text"] = " · ".join(x for x in (menu, handed) if x)
        view["keys"] = card
    elif state == "talking":
        title, icon, tone = "calls.talking", "phone-in-talk", "in_work"
        running = (now - answered).total_seconds() if answered else 0.0
        view["status_text"] = i18n.tr("calls.talk_time", time=_mmss(running))
        view["keys"] = [("transfer", "primary"), *card, ("hangup", "danger")]
    elif state == "ended":
        title, icon, tone = "calls.ended", "phone-hangup", "processed"
        view["status_text"] = i18n.tr("calls.talked", time=talked)
        play = [("play", "flat")] if call.get("recording") else []
        view["keys"] = [*card, *traffic, *play]
    elif state == "missed" and out:
        title, icon, tone = "calls.failed", "phone-off", "lost"
        view["status_text"] = i18n.tr(_reason_key(call.get("end_reason") or ""))
        view["keys"] = [("call_back", "primary")] if number else []
    elif state == "missed":
        title, icon, tone = "calls.missed", "phone-missed", "lost"
        view["status_text"] = i18n.tr(_reason_key(call.get("end_reason") or ""))
        view["keys"] = [*([("call_back", "primary")] if number else []), *card]
    else:  # incoming / menu / queued after ringing here: I missed it, it waits for someone
        title, icon, tone = "calls.missed", "phone-missed", "lost"
        view["status_text"] = i18n.tr("calls.reason.employee_no_answer")
        view["keys"] = card
    view.update(title=i18n.tr(title), icon=icon, tone=tone)
    return view


# --- view-models -------------------------------------------------------------------------------


class CallPopupVM(PopupVM):
    """One call's popup (drawn by ``CallCard``); the watcher keeps it in step with the row.

    ``actions``: ``(label, callback, kind)`` as ``PopupVM``; a callback returns True when the
    popup should go (the card keeps it otherwise: «Перевести» and «Создать нового» stay)."""

    call_id = StringProperty("")
    state = StringProperty("")
    direction = StringProperty("in")
    when_text = StringProperty("")
    client_text = StringProperty("")
    number_text = StringProperty("")
    status_text = StringProperty("")
    sections = ListProperty([])
    known = BooleanProperty(False)
    creating = BooleanProperty(False)  # «Создать нового»: the name field is shown
    name_text = StringProperty("")
    error = StringProperty("")
    on_save: Any = ObjectProperty(None, allownone=True)  # (vm) -> …: the name's «Сохранить»

    def save(self) -> None:
        if self.on_save is not None:
            self.on_save(self)

    def cancel_create(self) -> None:
        self.creating, self.error = False, ""


class PlayerVM(PopupVM):
    """«Воспроизведение записи…»: load, play / pause, stop; the position as «00:04 / 01:10».

    ``loader(path)`` is Kivy's ``SoundLoader.load`` (a fake in tests); a sound that cannot be
    loaded or has no length (no audio device: SDL opens no mixer) is reported, not played."""

    loading = BooleanProperty(True)
    playing = BooleanProperty(False)
    position = NumericProperty(0.0)
    length = NumericProperty(0.0)
    position_text = StringProperty("")
    error = StringProperty("")
    path = StringProperty("")
    sound: Any = ObjectProperty(None, allownone=True)  # Kivy's Sound once loaded

    def __init__(self, loader: Callable[[str], Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loader = loader
        self._ticker: Any = None
        self.title = i18n.tr("calls.player")
        self.icon, self.tone = "play", "accent"
        self.position_text = i18n.tr("calls.loading")

    def load(self, path: Path) -> bool:
        """Load and start playing; False (and ``error`` set) when there is no way to play."""
        self.loading, self.path = False, str(path)
        loader = self.loader
        if loader is None:
            from kivy.core.audio import SoundLoader

            loader = SoundLoader.load
        try:
            sound = loader(str(path))
        except Exception as exc:  # a broken audio provider must not take the app down
            log.warning("audio: %s", exc)
            sound = None
        if sound is None or not (getattr(sound, "length", 0) or 0) > 0:
            self.fail(i18n.tr("calls.no_audio", path=str(path)))
            return False
        self.sound = sound
        self.length = float(sound.length)
        self.play()
        return True

    def fail(self, message: str) -> None:
        self.loading, self.playing = False, False
        self.error = message
        self.position_text = ""
        self.icon, self.tone = "error", "danger"

    def play(self) -> None:
        if self.sound is None:
            return
        self.sound.play()
        if self.position > 0:
            self.sound.seek(self.position)
        self.playing = True
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(self.tick, 0.25)
        self.tick()

    def pause(self) -> None:
        if self.sound is None:
            return
        self.position = float(self.sound.get_pos() or self.position)
        self.sound.stop()
        self.playing = False
        self.tick()

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def stop_ticking(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def stop(self) -> None:
        """■: stop and let the sound go (the popup closes)."""
        self.stop_ticking()
        if self.sound is not None:
            self.sound.stop()
            self.sound.unload()
            self.sound = None
        self.playing = False

    def tick(self, *_: Any) -> None:
        sound = self.sound
        if sound is not None and self.playing:
            self.position = float(sound.get_pos() or 0.0)
            if sound.state != "play":  # reached the end
                self.playing, self.position = False, 0.0
        self.position_text = f"{_mmss(self.position)} / {_mmss(self.length)}"


# --- the watcher -------------------------------------------------------------------------------


class CallWatcher(EventDispatcher):  # type: ignore[misc]
    """The signed-in employee's calls as popups; «Набрать», «Перевести», «Отбой»,
    «Создать нового», «Воспроизвести»; the line's state for the status bar.

    ``services``: the app's ``Services``; ``popups``: the shell's ``PopupStack``;
    ``notify(message, tone)``: a toast; ``status``: the shell's ``StatusVM`` (``line_text``,
    ``line_tone``, ``line_icon``); ``online()``: can the hub be asked now; ``open_client(id)`` /
    ``open_traffic(id)``: the cards, when the app has them (``None``: no such button);
    ``pick_employee(on_pick, department, current)`` and ``confirm(text, ok, fn)``: the dialogs
    (``lsnode.ui.dialogs``, ``theme.widgets.confirm`` by default); ``hub_access()``: (data dir,
    node identity, hub address) for recordings; ``spawn(fn)`` runs a download off the main
    thread and ``post(fn)`` comes back to it; ``loader(path)``: Kivy's ``SoundLoader.load``."""

    employee_id = StringProperty("")
    line_text = StringProperty("")
    line_tone = StringProperty("away")
    line_icon = StringProperty("phone")

    def __init__(
        self,
        services: Any,
        popups: PopupStack,
        *,
        notify: Notify | None = None,
        status: Any = None,
        online: Callable[[], bool] | None = None,
        open_client: Callable[[str], Any] | None = None,
        open_traffic: Callable[[str], Any] | None = None,
        pick_employee: Callable[..., Any] | None = None,
        confirm: Callable[[str, str, Callable[[], Any]], Any] | None = None,
        hub_access: Callable[[], tuple[Path, Any, str | None]] | None = None,
        post: Post = _post_main,
        spawn: Callable[[Callable[[], None]], Any] | None = None,
        loader: Callable[[str], Any] | None = None,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.popups = popups
        self.notify: Notify = notify if notify is not None else (lambda _m, _t: None)
        self.status = status
        self.online = online if online is not None else (lambda: True)
        self.open_client = open_client
        self.open_traffic = open_traffic
        self.pick_employee = pick_employee or _pick_employee
        self.confirm = confirm or _confirm
        self.hub_access = hub_access
        self.post = post
        self.spawn = spawn or _spawn
        self.loader = loader
        self.clock = clock or (lambda: datetime.now(UTC))
        self.monotonic = monotonic
        self.since: datetime | None = None
        self.on_shown: list[Callable[[str, float], None]] = []  # (call id, monotonic)
        self._shown: dict[str, tuple[str, CallPopupVM]] = {}  # call id -> (popup id, vm)
        self._rows: dict[str, Row] = {}
        self._seen: set[str] = set()
        self._talked: set[str] = set()
        self._requests: dict[str, tuple[str, str]] = {}  # request id -> (kind, detail)
        self._ticker: Any = None
        self._line: Row | None = None
        popups.fbind("on_dismiss", self._dismissed)
        i18n.on_lang_change(self._on_lang)

    @property
    def db(self) -> Any:
        return self.services.reader.db

    # -- session --------------------------------------------------------------------------

    def session_changed(self, session: Any) -> None:
        if session is None:
            self.stop()
        else:
            self.start(session.employee_id)

    def start(self, employee_id: str) -> list[str]:
        """Follow ``employee_id``'s calls: those ringing or talking now, and any from now on."""
        self.stop()
        self.employee_id = employee_id
        self.since = self.clock()
        return self.check()

    def stop(self) -> None:
        for call_id in list(self._shown):
            self._withdraw(call_id)
        self._seen.clear()
        self._talked.clear()
        self._rows.clear()
        self.employee_id = ""
        self.since = None

    # -- the look -------------------------------------------------------------------------

    def check(self, *_: Any) -> list[str]:
        """Bring the popups in step with the store; returns the calls announced now."""
        self.check_line()
        self._check_requests()
        me, since = self.employee_id, self.since
        if not me or since is None:
            return []
        shown = list(self._shown)
        marks = ", ".join("?" * len(shown))
        rows = _rows(
            self.db,
            "SELECT * FROM calls WHERE (employee_id = ? AND started_at >= ? "
            "AND (ended_at IS NULL OR ended_at >= ?))"
            + (f" OR id IN ({marks})" if shown else "")
            + " ORDER BY started_at, id",
            [me, _iso(since - LOOKBACK), _iso(since), *shown],
        )
        announced = []
        for row in rows:
            call_id = row["id"]
            if call_id in self._shown:
                self._rows[call_id] = row
                self._refresh(call_id)
            elif call_id in self._seen or row["employee_id"] != me:
                continue
            elif row["state"] in ACTIVE or (
                row["state"] in TERMINAL and (row["ended_at"] or "") >= _iso(since)
            ):
                self._announce(row)
                announced.append(call_id)
        self._schedule_tick()
        return announced

    def _announce(self, row: Row) -> None:
        call_id = row["id"]
        self._seen.add(call_id)
        while len(self._shown) >= MAX_VISIBLE:
            ended = [c for c in self._shown if self._rows[c]["state"] in TERMINAL]
            self._withdraw(ended[0] if ended else next(iter(self._shown)))
        self._rows[call_id] = row
        vm = CallPopupVM(call_id=call_id, on_save=self.save_client)
        self._fill(vm, row)
        popup_id = self.popups.push(vm)
        self._shown[call_id] = (popup_id, vm)
        shown = self.monotonic()
        for callback in list(self.on_shown):
            try:
                callback(call_id, shown)
            except Exception:  # a probe must not break the popup
                log.exception("on_shown callback failed")

    def _refresh(self, call_id: str) -> None:
        entry = self._shown.get(call_id)
        row = self._rows.get(call_id)
        if entry is None or row is None:
            return
        vm = entry[1]
        self._fill(vm, row)
        if row["employee_id"] != self.employee_id:  # gone to a colleague: stop following
            self._rows[call_id] = {**row, "state": "left"}

    def _fill(self, vm: CallPopupVM, row: Row, me: str | None = None) -> None:
        if row.get("state") == "left":
            return
        me = self.employee_id if me is None else me
        if row["state"] == "talking" and row["employee_id"] == me:
            self._talked.add(row["id"])
        view = describe(self.services, row, me, self.clock(), talked_here=row["id"] in self._talked)
        vm.state, vm.direction = row["state"], row["direction"]
        for key in ("title", "icon", "tone", "when_text", "client_text", "number_text"):
            setattr(vm, key, view[key])
        vm.status_text, vm.known, vm.sections = view["status_text"], view["known"], view["sections"]
        if view["known"] and vm.creating:
            vm.creating = False
        vm.text = "\n".join(
            x for x in (view["client_text"], view["number_text"], view["status_text"]) if x
        )
        vm.actions = [self._action(key, kind, row, vm) for key, kind in view["keys"]]
        vm.actions = [a for a in vm.actions if a is not None]

    def _action(
        self, key: str, kind: str, row: Row, vm: CallPopupVM
    ) -> tuple[str, Callable[[], bool], str] | None:
        call_id = row["id"]
        labels = {
            "card": "calls.card",
            "traffic": "calls.traffic",
            "create": "calls.create",
            "transfer": "calls.transfer",
            "hangup": "calls.hangup",
            "call_back": "calls.call_back",
            "play": "calls.play",
        }
        if key == "card":
            if self.open_client is None:
                return None
            callback = lambda: self._open(self.open_client, client_of(self.services, row))  # noqa: E731
        elif key == "traffic":
            if self.open_traffic is None:
                return None
            callback = lambda: self._open(self.open_traffic, row.get("traffic_id"))  # noqa: E731
        elif key == "create":
            callback = lambda: self.begin_create(vm)  # noqa: E731
        elif key == "transfer":
            callback = lambda: self.ask_transfer(call_id)  # noqa: E731
        elif key == "hangup":
            callback = lambda: self.ask_hang_up(call_id)  # noqa: E731
        elif key == "call_back":
            callback = lambda: self.dial(call_id) is not None  # noqa: E731
        else:
            callback = lambda: self.play(call_id) is not None and False  # noqa: E731
        return (i18n.tr(labels[key]), callback, kind)

    @staticmethod
    def _open(opener: Callable[[str], Any] | None, ref: str | None) -> bool:
        if opener is not None and ref:
            opener(ref)
        return False

    def _withdraw(self, call_id: str) -> None:
        popup_id, _vm = self._shown.pop(call_id, ("", None))
        if popup_id:
            self.popups.dismiss(popup_id)

    def _dismissed(self, _stack: PopupStack, entry: PopupEntry) -> None:
        for call_id, (popup_id, _vm) in list(self._shown.items()):
            if popup_id == entry.id:
                del self._shown[call_id]

    def _on_lang(self, _lang: str) -> None:
        for call_id in list(self._shown):
            self._refresh(call_id)
        self._show_line()

    def _schedule_tick(self) -> None:
        talking = any(vm.state == "talking" for _pid, vm in self._shown.values())
        if talking and self._ticker is None:
            self._ticker = Clock.schedule_interval(self.tick, 1.0)
        elif not talking and self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def tick(self, *_: Any) -> None:
        """РАЗГОВОР… counts the talk time every second."""
        for call_id, (_pid, vm) in list(self._shown.items()):
            row = self._rows.get(call_id)
            if row is not None and vm.state == "talking" and row.get("state") == "talking":
                answered = _parse(row.get("answered_at"))
                running = (self.clock() - answered).total_seconds() if answered else 0.0
                vm.status_text = i18n.tr("calls.talk_time", time=_mmss(running))

    # -- the SIP line in the status bar ---------------------------------------------------

    def check_line(self) -> None:
        rows = _rows(
            self.db,
            "SELECT state, state_since, state_detail FROM sip_lines WHERE enabled = 1 "
            "ORDER BY created_at, id LIMIT 1",
        )
        line = rows[0] if rows else None
        if line != self._line:
            self._line = line
            self._show_line()

    def _show_line(self) -> None:
        line = self._line
        state = line["state"] if line is not None else ""
        since = line["state_since"] if line is not None else None
        key = {"registered": "registered", "registering": "registering", "down": "down"}.get(
            state, "off"
        )
        if key == "down" and not since:
            key = "down_now"
        when = i18n.format_time(since) if since else ""
        text = i18n.tr(f"calls.line.{key}", time=when) if line is not None else ""
        short = i18n.tr(f"calls.line_short.{key}", time=when) if line is not None else ""
        tone = {"registered": "available", "registering": "busy", "off": "away"}.get(key, "danger")
        icon = "phone" if key in ("registered", "registering") else "phone-off"
        self.line_text, self.line_tone, self.line_icon = text, tone, icon
        status = self.status
        if status is not None:
            values = {"line_text": text, "line_short": short, "line_tone": tone, "line_icon": icon}
            for name, value in values.items():
                if hasattr(status, name):
                    setattr(status, name, value)

    # -- requests to the hub: Набрать, Перевести, Отбой -----------------------------------

    def _can_ask(self) -> bool:
        line = self._line
        if line is None:
            self.notify(i18n.tr("calls.no_line"), "danger")
            return False
        if line["state"] != "registered":
            self.notify(i18n.tr("calls.line_not_ready"), "danger")
            return False
        if not self.online():
            self.notify(i18n.tr("calls.offline"), "danger")
            return False
        return True

    def _request(self, values: dict[str, Any], detail: str = "") -> str:
        request_id = str(
            self.services.writer.insert("call_requests", {**values, "status": "pending"})
        )
        self._requests[request_id] = (str(values["kind"]), detail)
        return request_id

    def _check_requests(self) -> None:
        if not self._requests:
            return
        ids = list(self._requests)
        marks = ", ".join("?" * len(ids))
        rows = _rows(
            self.db, f"SELECT id, status, result FROM call_requests WHERE id IN ({marks})", ids
        )
        for row in rows:
            if row["status"] in ("pending", "running"):
                continue
            self._requests.pop(row["id"], None)
            if row["status"] == "failed":
                detail = refusal(row["result"])
                self.notify(i18n.tr("calls.request_failed", detail=detail), "danger")

    def dial(self, ref: str) -> str | None:
        """«Набрать» / «Перезвонить»: ``ref`` is a traffic id, a call id, a client id or a
        phone number as typed. Returns the request's id (None: why not is toasted)."""
        session = self.services.session
        if session is None:
            self.notify(i18n.tr("calls.sign_in"), "danger")
            return None
        phone, counterparty_id, returns = self._target(ref)
        if not phone:
            self.notify(i18n.tr("calls.no_phone"), "danger")
            return None
        me = self.services.reader.employee(session.employee_id)
        if not (me or {}).get("extension"):
            self.notify(i18n.tr("calls.no_extension"), "danger")
            return None
        self.check_line()
        if not self._can_ask():
            return None
        values: dict[str, Any] = {
            "kind": "dial",
            "employee_id": session.employee_id,
            "phone": phone,
            "counterparty_id": counterparty_id,
            "call_id": returns,
        }
        request_id = self._request(values, phone)
        client = self.services.clients.counterparty(counterparty_id) if counterparty_id else None
        who = " ".join(x for x in ((client or {}).get("short_name"), phone) if x)
        self.notify(i18n.tr("calls.dial_sent", who=who), "accent")
        return request_id

    def _target(self, ref: str) -> tuple[str, str | None, str | None]:
        """(phone, client, the call it returns) for a traffic, call, client id or a number."""
        ref = (ref or "").strip()
        services = self.services
        traffic = services.reader.traffic(ref) if ref else None
        if traffic is not None:
            cp = traffic["counterparty_id"]
            phone = traffic["phone_e164"] or traffic["phone"] or self._first_phone(cp)
            calls = _rows(
                self.db,
                "SELECT id FROM calls WHERE traffic_id = ? ORDER BY started_at DESC LIMIT 1",
                [ref],
            )
            return phone, cp, calls[0]["id"] if calls else None
        call = _rows(self.db, "SELECT * FROM calls WHERE id = ?", [ref]) if ref else []
        if call:
            row = call[0]
            cp = client_of(services, row)
            return row["phone_e164"] or row["caller_number"] or "", cp, row["id"]
        client = services.clients.counterparty(ref) if ref else None
        if client is not None:
            return self._first_phone(ref), ref, None
        e164 = normalize_phone(ref).e164 if any(ch.isdigit() for ch in ref) else None
        if not e164 and not any(ch.isdigit() for ch in ref):
            return "", None, None
        found = services.clients.by_phone_e164(e164, 1) if e164 else []
        return e164 or ref, (found[0] if found else None), None

    def _first_phone(self, counterparty_id: str | None) -> str:
        if not counterparty_id:
            return ""
        contacts = self.services.clients.contacts_of([counterparty_id]).get(counterparty_id, [])
        phones = [c for c in contacts if c["kind"] == "phone" and c.get("valid", 1)]
        phones = phones or [c for c in contacts if c["kind"] == "phone"]
        return (phones[0]["phone_e164"] or phones[0]["value"]) if phones else ""

    def ask_transfer(self, call_id: str) -> bool:
        """«Перевести»: choose the colleague (the popup stays until the call moves)."""
        row = self._rows.get(call_id) or {}
        self.pick_employee(
            lambda emp_id: self.transfer(call_id, emp_id),
            department=row.get("department"),
            current=self.employee_id,
        )
        return False

    def transfer(self, call_id: str, to_employee: str) -> str | None:
        """Ask the hub to transfer the call; returns why not (None: asked)."""
        session = self.services.session
        if session is None:
            return i18n.tr("calls.sign_in")
        if to_employee == session.employee_id:
            return None
        self.check_line()
        if not self._can_ask():
            return i18n.tr("calls.line_not_ready")
        emp = self.services.reader.employee(to_employee)
        name = (emp or {}).get("short_name") or to_employee
        values = {
            "kind": "transfer",
            "call_id": call_id,
            "to_employee_id": to_employee,
            "employee_id": session.employee_id,
        }
        self._request(values, name)
        self.notify(i18n.tr("calls.transfer_sent", name=name), "accent")
        return None

    def ask_hang_up(self, call_id: str) -> bool:
        self.confirm(
            i18n.tr("calls.hangup_confirm"), i18n.tr("calls.hangup"), lambda: self.hang_up(call_id)
        )
        return False

    def hang_up(self, call_id: str) -> str | None:
        self.check_line()
        if not self._can_ask():
            return None
        return self._request({"kind": "hangup", "call_id": call_id})

    # -- «Создать нового» -----------------------------------------------------------------

    def begin_create(self, vm: CallPopupVM) -> bool:
        row = self._rows.get(vm.call_id) or {}
        name = row.get("caller_name") or ""
        vm.name_text = name if any(ch.isalpha() for ch in name) else ""
        vm.error, vm.creating = "", True
        return False

    def save_client(self, vm: CallPopupVM) -> str | None:
        """Create the caller as a client with the call's number; returns the new client's id."""
        row = self._rows.get(vm.call_id)
        if row is None:
            return None
        name = " ".join(vm.name_text.split())
        if not name:
            vm.error = i18n.tr("calls.name_needed")
            return None
        phone = row.get("phone_e164") or row.get("caller_number") or ""
        try:
            saved = add_client(
                self.services.writer,
                ClientDraft(name=name, phones=[phone] if phone else []),
                today=self.clock().astimezone().date(),
                region=getattr(self.services, "region", "RU"),
            )
        except LsnodeError as exc:
            vm.error = i18n.tr("calls.create_failed", detail=str(exc))
            return None
        vm.error, vm.creating = "", False
        self.notify(i18n.tr("calls.created", name=name), "processed")
        self._refresh(vm.call_id)
        return saved.counterparty_id

    # -- «Воспроизвести» ------------------------------------------------------------------

    def play(self, ref: str) -> PlayerVM | None:
        """Play the recording of a traffic or a call: fetched from the hub in the background
        (once; then from this node's cache), in a player popup."""
        from lsnode.voice.recordings import cached_path, recording_of

        rec = recording_of(self.db, ref)
        if rec is None:
            self.notify(i18n.tr("calls.no_recording"), "danger")
            return None
        player = PlayerVM(loader=self.loader)
        call = _rows(self.db, "SELECT * FROM calls WHERE id = ?", [rec["id"]])
        client = self.services.clients.counterparty(client_of(self.services, call[0]) or "")
        who = (client or {}).get("full_name") or (call[0]["phone_e164"] or call[0]["caller_number"])
        player.text = " · ".join(x for x in (who, i18n.format_datetime(rec["started_at"])) if x)
        self.popups.push(player)
        access = self.hub_access() if self.hub_access else (Path("."), None, None)
        data_dir, identity, address = access
        try:
            cached = cached_path(data_dir, rec["id"])
        except LsnodeError as exc:
            player.fail(str(exc))
            return player
        if cached.is_file():
            player.load(cached)
            return player
        call_id = rec["id"]
        self.spawn(lambda: self._fetch(player, data_dir, identity, address, call_id))
        return player

    def _fetch(
        self, player: PlayerVM, data_dir: Path, identity: Any, address: str | None, call_id: str
    ) -> None:
        from lsnode.voice.recordings import RecordingError, fetch_recording

        try:
            path = fetch_recording(data_dir, identity, call_id, address)
        except RecordingError as exc:
            key = f"calls.rec.{exc.reason}"
            message = i18n.tr(key, detail=str(exc)) if i18n.has(key) else str(exc)
            self.post(lambda: player.fail(message))
            return
        except Exception as exc:  # a disk error: say so, never crash the app
            log.exception("recording %s", call_id)
            message = i18n.tr("calls.rec.failed", detail=f"{type(exc).__name__}: {exc}")
            self.post(lambda: player.fail(message))
            return
        self.post(lambda: player.load(path))


def refusal(result: str | None) -> str:
    """The hub's reason for a refused call request, in the user's language where known."""
    text = (result or "").strip()
    known = {
        "expired": "calls.refused.expired",
        "the call is not being talked on the hub's line": "calls.refused.not_talking",
        "no such live call": "calls.refused.not_talking",
        "the SIP line is off": "calls.refused.line_off",
        "the employee has no extension": "calls.refused.no_extension",
    }
    for needle, key in known.items():
        if needle in text:
            return i18n.tr(key)
    if "not registered" in text:
        return i18n.tr("calls.line_not_ready")
    return text or "—"


def _iso(moment: datetime) -> str:
    """As the store keeps instants (``lsnode.clock.instant``): they compare as text."""
    from lsnode.clock import instant

    return instant(moment)


def _pick_employee(on_pick: Callable[[str], str | None], *, department: Any, current: str) -> Any:
    """«Перевести»: the traffic screens' employee picker, over the running app's services."""
    from kivy.app import App

    from lsnode.ui.dialogs import pick_employee

    app = App.get_running_app()
    return pick_employee(
        app.services,
        on_pick,
        title=i18n.tr("calls.transfer_title"),
        department=department,
        current_id=current,
    )


def _confirm(text: str, ok: str, fn: Callable[[], Any]) -> Any:
    from lsnode.ui.theme.widgets import confirm

    return confirm(text, ok, fn)


# --- the views (layout in calls.kv) ------------------------------------------------------------

KV_FILE = Path(__file__).with_suffix(".kv")
_kv_loaded = False


def load_kv() -> None:
    """Load ``calls.kv`` once (after the theme's kv globals are installed: ``boot.install``)."""
    global _kv_loaded
    if not _kv_loaded:
        from kivy.lang import Builder

        Builder.load_file(str(KV_FILE))
        _kv_loaded = True


class _Card(BoxLayout):  # type: ignore[misc]
    """A popup card in the shell's column: slides in, swallows its touches, closes by ×."""

    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    stack: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    popup_id = StringProperty("")
    offset = NumericProperty(0)

    def close(self) -> None:
        if self.stack is not None:
            self.stack.dismiss(self.popup_id)

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        super().on_touch_down(touch)
        return True  # a tap on the card never falls through to the screen below


class CallSection(BoxLayout):  # type: ignore[misc]
    """«Автомобили» / «Незакрытые документы» / «Последние контакты» and their lines."""

    title = StringProperty("")
    text = StringProperty("")


class CallCard(_Card):
    """How a ``CallPopupVM`` looks: header, who, sections, «Создать нового» form, actions."""

    def on_vm(self, _inst: Any, vm: CallPopupVM) -> None:
        vm.fbind("actions", self._build_actions)
        vm.fbind("sections", self._build_sections)
        self._build_actions()
        self._build_sections()

    def on_kv_post(self, _base: Any) -> None:
        self._build_actions()
        self._build_sections()

    def _build_actions(self, *_: Any) -> None:
        from lsnode.ui.theme.widgets import DangerButton, FlatButton, PrimaryButton

        if "actions" not in self.ids or self.vm is None:
            return
        kinds = {"primary": PrimaryButton, "flat": FlatButton, "danger": DangerButton}
        box = self.ids.actions
        box.clear_widgets()
        for label, callback, kind in self.vm.actions:  # right to left: the main one outermost
            button = kinds.get(kind, FlatButton)(text=label)
            button.bind(on_release=lambda _b, cb=callback: self.act(cb))
            box.add_widget(button)

    def _build_sections(self, *_: Any) -> None:
        if "sections" not in self.ids or self.vm is None:
            return
        box = self.ids.sections
        box.clear_widgets()
        for section in self.vm.sections:
            box.add_widget(CallSection(title=section["title"], text=section["text"]))

    def act(self, callback: Callable[[], Any]) -> None:
        if callback() is True:
            self.close()


class PlayerCard(_Card):
    """How a ``PlayerVM`` looks: who and when, the bar, «00:04 / 01:10», ▶/‖ and ■."""

    def close(self) -> None:
        if self.vm is not None:
            self.vm.stop()
        super().close()


def _call_card(vm: CallPopupVM, stack: PopupStack, popup_id: str) -> CallCard:
    load_kv()
    return CallCard(vm=vm, stack=stack, popup_id=popup_id)


def _player_card(vm: PlayerVM, stack: PopupStack, popup_id: str) -> PlayerCard:
    load_kv()
    return PlayerCard(vm=vm, stack=stack, popup_id=popup_id)


PopupStack.register_view(CallPopupVM, _call_card)
PopupStack.register_view(PlayerVM, _player_card)


# --- the app's side ----------------------------------------------------------------------------


def _registered(name: str) -> bool:
    from lsnode.ui import screens

    try:
        screens.get(name)
    except KeyError:
        return False
    return True


def _opener(app: Any, screen: str) -> Callable[[str], Any] | None:
    """Open a card screen («client_card», «traffic_card») with its ``open(id)``, if registered."""
    if not _registered(screen):
        return None

    def open_it(ref: str) -> None:
        app.go(screen)
        opener = getattr(app.screen(screen), "open", None)
        if callable(opener):
            opener(ref)

    return open_it


def attach(app: Any) -> CallWatcher | None:
    """The app's start: the watcher as ``app.calls``, following sessions and data changes, and
    the line's state in the status bar. The kiosk (a public profile) has no telephone."""
    from lsnode.ui.theme.style import THEME

    existing = getattr(app, "calls", None)
    if isinstance(existing, CallWatcher):
        return existing
    services = getattr(app, "services", None)
    if services is None or THEME.public:
        return None
    load_kv()
    ctx = getattr(app, "ctx", None)

    def online() -> bool:
        return bool(ctx is not None and ctx.paired and ctx.online)

    def hub_access() -> tuple[Path, Any, str | None]:
        if ctx is None:
            return Path(app.data_dir), None, None
        return Path(ctx.data_dir), ctx.identity, (ctx.hub_address or None)

    watcher = CallWatcher(
        services,
        app.popups,
        notify=app.toast,
        status=app.shell.status,
        online=online,
        open_client=_opener(app, "client_card"),
        open_traffic=_opener(app, "traffic_card"),
        hub_access=hub_access,
    )
    app.calls = watcher

    def dial_hook(
        phone: str, counterparty_id: str | None = None, traffic_id: str | None = None
    ) -> str | None:
        return watcher.dial(traffic_id or counterparty_id or phone)

    services.dial = dial_hook  # «Набрать» on the traffic card; the watcher says why it cannot
    services.on_session.append(watcher.session_changed)
    if ctx is not None:
        ctx.bind(on_data_changed=watcher.check)
    if services.session is not None:
        watcher.start(services.session.employee_id)
    else:
        watcher.check_line()
    return watcher


def _watcher(app: Any) -> CallWatcher | None:
    watcher = getattr(app, "calls", None)
    return watcher if isinstance(watcher, CallWatcher) else attach(app)


def dial(app: Any, traffic_id_or_phone: str) -> str | None:
    """«Набрать» from a card: a traffic id, a call id, a client id or a phone number as typed.
    The hub rings the signed-in employee's extension, then the client, and bridges them.
    Returns the request's id; None when it cannot be asked (the reason is toasted)."""
    watcher = _watcher(app)
    return watcher.dial(traffic_id_or_phone) if watcher is not None else None


def play_recording(app: Any, traffic_id: str) -> PlayerVM | None:
    """«Воспроизвести» from the journal or the client card: the recording of a traffic (or of
    a call by its id) in the player popup; None when there is none (toasted)."""
    watcher = _watcher(app)
    return watcher.play(traffic_id) if watcher is not None else None


# --- popup samples for `lsavto screenshots` ----------------------------------------------------


def _sample_client(services: Any) -> str | None:
    """A client of the app's data with cars, open documents and past contacts (the popup's
    three sections), preferring the brochure's «Иванов Иван Иванович»."""
    row = services.reader.db.execute(
        "SELECT d.counterparty_id FROM documents d "
        "JOIN counterparties c ON c.id = d.counterparty_id "
        "WHERE d.is_open = 1 AND EXISTS (SELECT 1 FROM cars WHERE owner_id = c.id) "
        "AND EXISTS (SELECT 1 FROM traffic t WHERE t.counterparty_id = c.id) "
        "ORDER BY c.full_name = 'Иванов Иван Иванович' DESC, d.doc_date DESC LIMIT 1"
    ).fetchone()
    return str(row[0]) if row else None


class _SampleSound:
    """A sound that plays nothing: the player popup as a screenshot shows it."""

    length = 70.0
    state = "play"

    def get_pos(self) -> float:
        return 4.0

    def play(self) -> None: ...

    def stop(self) -> None: ...

    def seek(self, _pos: float) -> None: ...

    def unload(self) -> None: ...


def sample_popup(
    app: Any, state: str, *, direction: str = "in", known: bool = True, reason: str = ""
) -> CallPopupVM:
    """A call popup over the app's data, as a screenshot shows it (not a live call)."""
    watcher = _watcher(app) or CallWatcher(app.services, app.popups)  # the kiosk: not attached
    services = watcher.services
    now = watcher.clock()
    employees = services.reader.employees()
    me = employees[0]["id"] if employees else "sample-employee"
    cp = _sample_client(services) if known else None
    phone = watcher._first_phone(cp) if cp else "+79267770011"
    row: Row = {
        "id": f"sample-{state}-{direction}-{int(known)}",
        "direction": direction,
        "state": state,
        "caller_number": phone,
        "caller_name": "" if known else "Сергей",
        "phone_e164": phone,
        "counterparty_id": cp,
        "department": "service",
        "menu_digits": "1",
        "employee_id": me,
        "traffic_id": None,
        "recording": "recordings/sample.wav" if state == "ended" else "",
        "started_at": _iso(now - timedelta(minutes=3)),
        "answered_at": _iso(now - timedelta(minutes=2, seconds=34)),
        "ended_at": _iso(now) if state in TERMINAL else None,
        "talk_s": 154 if state == "ended" else None,
        "end_reason": reason,
    }
    vm = CallPopupVM(call_id=row["id"], on_save=watcher.save_client)
    watcher._fill(vm, row, me)
    if not known and state == "ringing":
        watcher._rows[row["id"]] = row
        watcher.begin_create(vm)  # the «Создать нового» form, as after the tap
    return vm


def sample_player(app: Any) -> PlayerVM:
    vm = PlayerVM(loader=lambda _path: _SampleSound())
    vm.text = f"Иванов Иван Иванович · {i18n.format_datetime(datetime.now(UTC))}"
    vm.load(Path("sample.wav"))
    vm.stop_ticking()
    return vm


def _register_samples() -> None:
    from lsnode.ui.screens import register_popup_sample

    samples: dict[str, Callable[[Any], Any]] = {
        "call-incoming": lambda app: sample_popup(app, "ringing"),
        "call-new-number": lambda app: sample_popup(app, "ringing", known=False),
        "call-talking": lambda app: sample_popup(app, "talking"),
        "call-missed": lambda app: sample_popup(app, "missed", reason="caller_hangup"),
        "call-ended": lambda app: sample_popup(app, "ended"),
        "call-outgoing": lambda app: sample_popup(app, "ringing", direction="out"),
        "call-recording": sample_player,
    }
    for name, factory in samples.items():
        register_popup_sample(name, factory)


_register_samples()
