"""«Очередь ожидания»: who is waiting, for how long, for whom — on every node.

Each row is a contact put into the waiting queue (at the desk or by the kiosk) and not yet
taken: arrival time, the waiting time ticking every second (amber past ``WAIT_TARGET_S``, red
past ``WAIT_LIMIT_S``), purpose, client, responsible with the presence dot, note. Actions per
row: «Подробнее» (the traffic card), «Упущенный контакт» (a reason, confirmed), «Назначить»
(an employee) and «Взять себе». Taking and assigning are decided by the hub: of two salesmen
tapping the same visitor one wins, the other reads «Уже взял: Петухов В.П.»; with no hub the
action is refused with the hub's message. Logic in ``QueueVM``; layout in ``queue.kv``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from lsnode.clock import parse_iso
from lsnode.crm.staff import Right
from lsnode.crm.traffic import LOSS_REASONS
from lsnode.store.schema import DEPARTMENTS
from lsnode.ui import i18n
from lsnode.ui.dialogs import TYPE_ICONS, ask_reason, dept_label, pick_employee, run_action
from lsnode.ui.screens import ORDER, LsScreen, load_kv, register

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "queue.title": ("Очередь", "Queue"),
    "queue.heading": ("Очередь ожидания", "Waiting queue"),
    "queue.count": ("Контактов в очереди ожидания: {n}", "Contacts in the waiting queue: {n}"),
    "queue.all": ("ВСЕ", "ALL"),
    "queue.col.time": ("Время", "Time"),
    "queue.col.wait": ("Ожидает", "Waiting"),
    "queue.col.purpose": ("Цель контакта", "Purpose"),
    "queue.col.client": ("Клиент", "Client"),
    "queue.col.responsible": ("Ответственный", "Responsible"),
    "queue.col.note": ("Примечание", "Note"),
    "queue.take": ("Взять себе", "Take"),
    "queue.assign": ("Назначить", "Assign"),
    "queue.lose": ("Упущенный контакт", "Lost contact"),
    "queue.details": ("Подробнее", "Details"),
    "queue.empty": ("Очередь ожидания пуста", "Nobody is waiting"),
    "queue.empty_dept": ("В этом отделе никто не ждёт", "Nobody is waiting in this department"),
    "queue.sign_in": (
        "Войдите по PIN-коду, чтобы брать и назначать контакты",
        "Sign in with your PIN to take and assign contacts",
    ),
    "queue.no_client": ("Клиент не указан", "No client"),
    "queue.unassigned": ("Не назначен", "Unassigned"),
    "queue.assign_title": ("Назначить ответственного", "Assign the responsible employee"),
    "queue.taken": ("Взят в работу: {client}", "Taken into work: {client}"),
    "queue.assigned": ("Назначен: {name}", "Assigned to {name}"),
    "queue.lost": ("Упущенный контакт: {client}", "Marked as lost: {client}"),
    "queue.gone": (
        "Контакт уже не в очереди — список обновлён",
        "The contact is no longer waiting — the list is refreshed",
    ),
}
i18n.register(STRINGS)
load_kv(__file__)

#: Waiting longer than this turns the time amber, longer than the limit red (UI.md).
WAIT_TARGET_S = 10 * 60
WAIT_LIMIT_S = 20 * 60


def wait_tone(seconds: float, target: int = WAIT_TARGET_S, limit: int = WAIT_LIMIT_S) -> str:
    """The tone of a waiting time: neutral, then amber (``new``), then red (``danger``)."""
    if seconds >= limit:
        return "danger"
    if seconds >= target:
        return "new"
    return "neutral"


def wait_clock(seconds: float) -> str:
    """«0:14:38», the brochure's «Ожидает» — it visibly ticks every second."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class QueueVM(EventDispatcher):  # type: ignore[misc]
    """The waiting queue of this node's replica, filtered by department, with its actions.

    ``services`` is ``app.services`` (reader, traffic, session); ``clock`` returns an aware
    instant (a fixed one in tests). Actions return ``None`` on success or the user's error,
    and announce either through ``on_message(text, tone)`` — the screen shows it as a toast."""

    rows = ListProperty([])
    tabs = ListProperty([])
    department = StringProperty("")  # "" = every department
    count = NumericProperty(0)
    total = NumericProperty(0)
    signed_in = BooleanProperty(False)
    can_take = BooleanProperty(False)
    can_assign = BooleanProperty(False)
    can_lose = BooleanProperty(False)
    __events__ = ("on_message",)

    def __init__(
        self, services: Any, clock: Callable[[], datetime] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.clock = clock or services.clock
        self._all: list[dict[str, Any]] = []
        i18n.on_lang_change(self._on_lang)
        self.reload()

    # -- reading ------------------------------------------------------------------------------

    def reload(self, *_: Any) -> None:
        self._all = self.services.reader.queue(None)
        session = self.services.session
        self.signed_in = session is not None
        self.can_take = session is not None and session.may(Right.TAKE)
        self.can_assign = session is not None and session.may(Right.ASSIGN)
        self.can_lose = session is not None
        self._render()

    def _on_lang(self, _lang: str) -> None:
        self._render()

    def tick(self, *_: Any) -> None:
        """Recompute the waiting times (every second while the screen is shown)."""
        self._render()

    def choose_department(self, code: str) -> None:
        if code and code not in DEPARTMENTS:
            raise ValueError(f"unknown department {code!r}")
        self.department = code
        self._render()

    def _render(self) -> None:
        now = self.clock()
        counts = {code: 0 for code in DEPARTMENTS}
        for row in self._all:
            counts[row["department"]] = counts.get(row["department"], 0) + 1
        self.tabs = [{"code": "", "label": i18n.tr("queue.all"), "n": len(self._all)}] + [
            {"code": code, "label": dept_label(code), "n": counts[code]} for code in DEPARTMENTS
        ]
        shown = [r for r in self._all if not self.department or r["department"] == self.department]
        self.total = len(self._all)
        self.count = len(shown)
        self.rows = [self._display(i, row, now) for i, row in enumerate(shown)]

    def _display(self, index: int, row: dict[str, Any], now: datetime) -> dict[str, Any]:
        since = row["queued_at"] or row["contact_at"]
        waited = max(0.0, (now - parse_iso(since)).total_seconds())
        same_day = i18n.local(since).date() == i18n.local(now).date()
        return {
            "index": index,
            "tid": row["id"],
            "department": row["department"],
            "responsible_id": row["responsible_id"] or "",
            "time_text": i18n.format_time(since),
            "date_text": "" if same_day else i18n.format_date(since)[:5],  # «02.12»
            "type_icon": TYPE_ICONS.get(row["contact_type"], "visit"),
            "wait_s": int(waited),
            "wait_text": i18n.format_wait(waited),
            "wait_clock": wait_clock(waited),
            "wait_tone": wait_tone(waited),
            "purpose": row["purpose_name"] or "",
            "client": row["client_name"] or row["phone"] or i18n.tr("queue.no_client"),
            "responsible": row["responsible_name"] or i18n.tr("queue.unassigned"),
            "presence": row["responsible_presence"] or "away",
            "has_responsible": bool(row["responsible_id"]),
            "note": " · ".join(x for x in (row["note"], row["extra_info"]) if x),
            "can_take": self.can_take,
            "can_assign": self.can_assign,
            "can_lose": self.can_lose,
        }

    def row(self, traffic_id: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["tid"] == traffic_id), None)

    def _raw(self, traffic_id: str) -> dict[str, Any] | None:
        return next((r for r in self._all if r["id"] == traffic_id), None)

    def _client(self, traffic_id: str) -> str:
        raw = self._raw(traffic_id)
        if raw is None:
            return ""
        return str(raw["client_name"] or raw["phone"] or i18n.tr("queue.no_client"))

    def _name(self, employee_id: str) -> str | None:
        emp = self.services.reader.employee(employee_id)
        return str(emp["short_name"]) if emp else None

    # -- actions ------------------------------------------------------------------------------

    def _act(self, action: Callable[[], Any], ok: str, *, in_dialog: bool = False) -> str | None:
        """Run it, re-read, announce: a dialog shows its own error and stays open."""
        _, error = run_action(action, self._name)
        self.reload()
        if error is None:
            self.dispatch("on_message", ok, "processed")
        elif not in_dialog:
            self.dispatch("on_message", error, "danger")
        return error

    def _session(self) -> Any:
        return self.services.require_session()

    def take(self, traffic_id: str) -> str | None:
        """«Взять себе» — the hub decides; the loser learns the winner's name."""
        client = self._client(traffic_id)
        return self._act(
            lambda: self.services.traffic.take(traffic_id, self._session()),
            i18n.tr("queue.taken", client=client),
        )

    def assign(self, traffic_id: str, employee_id: str) -> str | None:
        """«Назначить»: the employee gets the popup and takes it."""
        name = self._name(employee_id) or ""
        return self._act(
            lambda: self.services.traffic.assign(traffic_id, employee_id, self._session()),
            i18n.tr("queue.assigned", name=name),
            in_dialog=True,
        )

    def lose(self, traffic_id: str, reason: str) -> str | None:
        """«Упущенный контакт»: the visitor left unserved."""
        client = self._client(traffic_id)
        return self._act(
            lambda: self.services.traffic.lose(traffic_id, reason, self._session()),
            i18n.tr("queue.lost", client=client),
            in_dialog=True,
        )

    def on_message(self, text: str, tone: str) -> None:
        pass


# --- widgets -----------------------------------------------------------------------------------


class QueueRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One waiting contact; a tap on the row (not on a button) opens the card."""

    index = NumericProperty(0)
    tid = StringProperty("")
    department = StringProperty("")
    responsible_id = StringProperty("")
    time_text = StringProperty("")
    date_text = StringProperty("")
    type_icon = StringProperty("visit")
    wait_s = NumericProperty(0)
    wait_text = StringProperty("")
    wait_clock = StringProperty("")
    wait_tone = StringProperty("neutral")
    purpose = StringProperty("")
    client = StringProperty("")
    responsible = StringProperty("")
    presence = StringProperty("away")
    has_responsible = BooleanProperty(False)
    note = StringProperty("")
    can_take = BooleanProperty(False)
    can_assign = BooleanProperty(False)
    can_lose = BooleanProperty(False)
    owner: Any = ObjectProperty(None, allownone=True)
    #: The contact the finger went down on: the list is re-bound every second (waiting
    #: times), so a view may show another row by the time the finger lifts.
    press_tid = StringProperty("")

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos):
            self.press_tid = self.tid
        return bool(super().on_touch_down(touch))

    def on_release(self) -> None:
        if self.owner is not None:
            self.owner.details(self.press_tid or self.tid)


class QueueScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    rv_data = ListProperty([])

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        vm = QueueVM(app.services)
        super().__init__(app, vm=vm, **kwargs)
        vm.fbind("rows", self._rows)
        vm.fbind("tabs", self._tabs)
        vm.bind(on_message=lambda _vm, text, tone: app.toast(text, tone))
        if app.services is not None:
            app.services.on_session.append(lambda _s: self.vm.reload())
        self._ticker: Any = None
        self._rows()
        self._tabs()

    def refresh(self) -> None:
        self.vm.reload()

    def on_enter(self, *_: Any) -> None:
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(self.vm.tick, 1.0)

    def on_leave(self, *_: Any) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _rows(self, *_: Any) -> None:
        self.rv_data = [dict(r, owner=self) for r in self.vm.rows]

    def _tabs(self, *_: Any) -> None:
        from lsnode.ui.theme.widgets import SegmentButton

        box = self.ids.tabs
        if len(box.children) != len(self.vm.tabs):
            box.clear_widgets()
            for tab in self.vm.tabs:
                button = SegmentButton()
                button.code = tab["code"]
                button.bind(on_release=lambda b: self.vm.choose_department(b.code))
                box.add_widget(button)
        for button, tab in zip(reversed(box.children), self.vm.tabs, strict=True):
            button.text = f"{tab['label']}  {tab['n']}" if tab["n"] else tab["label"]
            button.selected = tab["code"] == self.vm.department

    # -- row actions ----------------------------------------------------------------------------

    def details(self, traffic_id: str) -> None:
        self.app.go("traffic_card")
        self.app.screen("traffic_card").open(traffic_id, back="queue")

    def take(self, traffic_id: str) -> None:
        if self.vm.take(traffic_id) is None:
            self.details(traffic_id)

    def assign(self, traffic_id: str) -> Any:
        row = self.vm.row(traffic_id) or {}
        return pick_employee(
            self.app.services,
            lambda emp_id: self.vm.assign(traffic_id, emp_id),
            title=i18n.tr("queue.assign_title"),
            department=row.get("department"),
            current_id=row.get("responsible_id") or None,
        )

    def lose(self, traffic_id: str) -> Any:
        return ask_reason(
            LOSS_REASONS,
            lambda reason: self.vm.lose(traffic_id, reason),
            title=i18n.tr("dlg.reason.lose_title"),
            text=i18n.tr("dlg.reason.lose_text"),
            confirm_text=i18n.tr("queue.lose"),
            confirm_icon="exit-run",
            preselect=LOSS_REASONS[0],
        )


register(
    "queue",
    lambda app: QueueScreen(app),
    label="queue.title",
    icon="queue",
    order=ORDER["queue"],
)
