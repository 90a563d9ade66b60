"""«Вход»: the employee taps their name and types their PIN on the on-screen keypad.

Two parts:

- ``SignInVM`` — the screen's logic (tested without a window): the employees as big buttons
  (name «Петухов В.П.», department, presence), a department filter, the masked PIN, and the
  messages of ``lsnode.crm.staff.SignIn`` in the user's language: a wrong PIN with the tries
  left, the lock after too many with its countdown (``SignInError.retry_after_s``).
- ``SessionGate`` — what a session changes in the shell. ``attach_sign_in(app, first)`` (the
  app's start-screen logic) returns the screen to show first: «Вход» while nobody is signed in
  on a node that has employees with PINs. On sign-in: the status bar's name and presence
  (``shell.presence.handler`` → ``services.set_presence``), the incoming-contact watcher
  (``lsnode.ui.inbox``), and «Трафик» (or the ``--screen`` asked for); the rail follows the
  employee's rights by itself (``ScreenSpec.right``). On sign-out: back to «Вход». The kiosk
  (a public profile) has no sign-in; a node with no employee to sign in (a fresh one, before
  pairing) opens as before, and asks for sign-in as soon as employees arrive from the hub.

``sign_in_first_admin(app)`` is for screenshots, benchmarks and tests only: it starts the first
administrator's session without a PIN. Nothing the user can reach calls it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
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
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from lsnode.crm.staff import (
    LOCK_S,
    MAX_TRIES,
    PIN_MAX,
    PIN_MIN,
    Session,
    SignInError,
    session_of,
)
from lsnode.store.ports import Row
from lsnode.store.schema import DEPARTMENTS
from lsnode.ui import i18n, screens
from lsnode.ui.inbox import InboxWatcher, contact_popup
from lsnode.ui.screens import LsScreen, load_kv, register, register_popup_sample

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "signin.title": ("Вход", "Sign in"),
    "signin.hint": (
        "Найдите себя в списке и введите PIN-код",
        "Find yourself in the list and type your PIN",
    ),
    "signin.all": ("Все", "All"),
    "signin.dept.service": ("Сервис", "Service"),
    "signin.dept.salon": ("Автосалон", "Showroom"),
    "signin.dept.shop": ("Магазин", "Shop"),
    "signin.dept.feedback": ("Обратная связь", "Feedback"),
    "signin.dept.other": ("Прочее", "Other"),
    "signin.ext": ("доб. {ext}", "ext. {ext}"),
    "signin.pin": ("PIN-код", "PIN"),
    "signin.choose": ("Выберите себя в списке слева", "Choose yourself in the list on the left"),
    "signin.enter": ("Войти", "Sign in"),
    "signin.clear": ("Стереть", "Clear"),
    "signin.wrong": (
        "Неверный PIN-код. Осталось попыток: {n}",
        "Wrong PIN. Tries left: {n}",
    ),
    "signin.locked": (
        "Слишком много неверных попыток. Повторите через {s} с",
        "Too many wrong PINs. Try again in {s} s",
    ),
    "signin.short": (
        "PIN-код — от {lo} до {hi} цифр",
        "A PIN has {lo} to {hi} digits",
    ),
    "signin.no_pin": (
        "У вас ещё нет PIN-кода: его задаёт администратор",
        "You have no PIN yet: an administrator sets it",
    ),
    "signin.unknown": (
        "Сотрудник не найден или отключён. Обратитесь к администратору",
        "Employee not found or switched off. Ask an administrator",
    ),
    "signin.empty": (
        "На этом устройстве пока нет сотрудников. Подключите его к хабу в «Настройках» "
        "или задайте PIN сотруднику командой «lsavto employee set-pin»",
        "There are no employees on this device yet. Pair it with the hub in Settings "
        "or give an employee a PIN with “lsavto employee set-pin”",
    ),
    "signin.nobody": ("В этом отделе никого нет", "Nobody in this department"),
    "signin.sign_out": ("Выйти", "Sign out"),
}
i18n.register(STRINGS)
load_kv(__file__)

SIGNIN = "signin"
HOME = "traffic"


def allowed(spec: screens.ScreenSpec, session: Session | None) -> bool:
    """The employee may open the screen (``ScreenSpec.right``, as the rail filters it)."""
    right = getattr(spec, "right", None)
    return right is None or (session is not None and right in session.rights)


def can_sign_in(reader: Any) -> bool:
    """Someone can sign in on this node: an active employee with a PIN."""
    return any(e["pin_hash"] for e in reader.employees())


def _departments(emp: Row) -> list[str]:
    try:
        got = json.loads(emp.get("departments") or "[]")
    except ValueError:
        return []
    return [d for d in DEPARTMENTS if d in got]


# --- the screen's logic ----------------------------------------------------------------------


class SignInVM(EventDispatcher):  # type: ignore[misc]
    """Who is signing in and the PIN typed so far; ``submit`` asks ``services.sign_in``."""

    employees = ListProperty([])  # tiles: {emp_id, name, caption, presence, selected}
    departments = ListProperty([])  # the filter's departments present on this node
    department = StringProperty("")  # the filter; "" = everybody
    selected_id = StringProperty("")
    selected_name = StringProperty("")
    selected_caption = StringProperty("")
    pin = StringProperty("")
    pin_mask = StringProperty("")
    message = StringProperty("")
    locked_s = NumericProperty(0)  # seconds until the next try is allowed
    can_submit = BooleanProperty(False)
    empty = BooleanProperty(False)  # nobody can sign in on this node

    def __init__(
        self,
        services: Any,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.monotonic = monotonic
        self._rows: list[Row] = []
        self._fails: dict[str, list[float]] = {}
        self._lock_until: dict[str, float] = {}
        for name in ("pin", "selected_id", "locked_s"):
            self.fbind(name, self._update_state)
        i18n.on_lang_change(self._on_lang)

    def _on_lang(self, _lang: str) -> None:
        self._tiles()
        self._select_texts()
        self.tick()

    # -- the list -------------------------------------------------------------------------

    def reload(self) -> None:
        reader = self.services.reader if self.services is not None else None
        rows = reader.employees() if reader is not None else []
        self._rows = [r for r in rows if r["pin_hash"]]
        self.empty = not self._rows
        present = {d for r in self._rows for d in _departments(r)}
        self.departments = [d for d in DEPARTMENTS if d in present]
        if self.department and self.department not in present:
            self.department = ""
        if self.selected_id and not any(r["id"] == self.selected_id for r in self._rows):
            self.choose("")
        self._tiles()
        self._select_texts()

    def filter(self, department: str) -> None:
        self.department = department
        self._tiles()

    def _tiles(self) -> None:
        tiles = []
        for row in self._rows:
            depts = _departments(row)
            if self.department and self.department not in depts:
                continue
            tiles.append(
                {
                    "emp_id": row["id"],
                    "name": row["short_name"],
                    "caption": self._caption(row),
                    "presence": row["presence"] or "away",
                    "selected": row["id"] == self.selected_id,
                }
            )
        self.employees = tiles

    def _caption(self, row: Row) -> str:
        text = ", ".join(i18n.tr(f"signin.dept.{d}") for d in _departments(row))
        if row.get("extension"):
            ext = i18n.tr("signin.ext", ext=row["extension"])
            text = f"{text} · {ext}" if text else ext
        return text

    def choose(self, employee_id: str) -> None:
        """Tap on a name: the keypad is for them now (the PIN typed so far is dropped)."""
        self.selected_id = employee_id
        self.pin = ""
        self.message = ""
        self._select_texts()
        self.employees = [dict(t, selected=t["emp_id"] == employee_id) for t in self.employees]
        self.tick()

    def _select_texts(self) -> None:
        row = next((r for r in self._rows if r["id"] == self.selected_id), None)
        self.selected_name = row["short_name"] if row else ""
        self.selected_caption = self._caption(row) if row else i18n.tr("signin.choose")

    # -- the keypad -----------------------------------------------------------------------

    def press(self, digit: str) -> None:
        if not (digit.isascii() and digit.isdigit() and len(digit) == 1):
            raise ValueError(f"not a keypad digit: {digit!r}")
        if self.locked_s or len(self.pin) >= PIN_MAX:
            return
        if not self.pin:
            self.message = ""  # a new try: the last one's message goes
        self.pin += digit

    def backspace(self) -> None:
        self.pin = self.pin[:-1]

    def clear(self) -> None:
        self.pin = ""

    def _update_state(self, *_: Any) -> None:
        self.pin_mask = "●" * len(self.pin)
        self.can_submit = bool(self.selected_id) and len(self.pin) >= PIN_MIN and not self.locked_s

    def submit(self) -> Session | None:
        """Sign in; on failure the PIN is cleared and ``message`` says why."""
        if not self.selected_id:
            self.message = i18n.tr("signin.choose")
            return None
        self.tick()
        if self.locked_s:
            return None
        if not PIN_MIN <= len(self.pin) <= PIN_MAX:
            self.message = i18n.tr("signin.short", lo=PIN_MIN, hi=PIN_MAX)
            return None
        emp_id, pin = self.selected_id, self.pin
        self.pin = ""
        try:
            session: Session = self.services.sign_in(emp_id, pin)
        except SignInError as exc:
            self._failed(emp_id, exc)
            return None
        self._fails.pop(emp_id, None)
        self._lock_until.pop(emp_id, None)
        self.message = ""
        self.choose("")
        return session

    def _failed(self, emp_id: str, exc: SignInError) -> None:
        now = self.monotonic()
        text = str(exc)
        if exc.retry_after_s > 0:
            self._lock_until[emp_id] = now + exc.retry_after_s
        elif text == "wrong PIN":
            # The same window as lsnode.crm.staff.SignIn: MAX_TRIES wrong PINs within LOCK_S.
            fails = [t for t in self._fails.get(emp_id, []) if now - t < LOCK_S] + [now]
            self._fails[emp_id] = fails
            left = MAX_TRIES - len(fails)
            if left <= 0:
                self._lock_until[emp_id] = fails[0] + LOCK_S
            else:
                self.message = i18n.tr("signin.wrong", n=left)
        elif "no PIN" in text:
            self.message = i18n.tr("signin.no_pin")
        else:
            self.message = i18n.tr("signin.unknown")
        self.tick()

    def tick(self, *_: Any) -> None:
        """Count the lock down (the screen calls this every half second while locked)."""
        until = self._lock_until.get(self.selected_id)
        left = (until - self.monotonic()) if until is not None else 0.0
        if left > 0:
            self.locked_s = math.ceil(left)
            self.message = i18n.tr("signin.locked", s=self.locked_s)
        elif self.locked_s:
            self.locked_s = 0
            self._lock_until.pop(self.selected_id, None)
            self._fails.pop(self.selected_id, None)
            self.message = ""


# --- widgets ---------------------------------------------------------------------------------


class SignInTile(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One employee as a big button: presence dot, name, department and extension."""

    emp_id = StringProperty("")
    name = StringProperty("")
    caption = StringProperty("")
    presence = StringProperty("away")
    selected = BooleanProperty(False)

    def on_release(self) -> None:
        screen = self.parent
        while screen is not None and not isinstance(screen, SignInScreen):
            screen = screen.parent
        if screen is not None:
            screen.vm.choose(self.emp_id)


class SignInKey(ButtonBehavior, AnchorLayout):  # type: ignore[misc]
    """A keypad key: a digit, or an icon (erase)."""

    text = StringProperty("")
    icon = StringProperty("")


class SignInScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        vm = SignInVM(app.services)
        super().__init__(app, vm=vm, **kwargs)
        self._ticker: Any = None
        vm.fbind("locked_s", self._lock_changed)

    def refresh(self) -> None:
        self.vm.reload()

    def on_leave(self, *_: Any) -> None:
        self.vm.choose("")
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _lock_changed(self, _vm: Any, locked: float) -> None:
        if locked and self._ticker is None:
            self._ticker = Clock.schedule_interval(self.vm.tick, 0.5)
        elif not locked and self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def press(self, key: str) -> None:
        if key == "back":
            self.vm.backspace()
        elif key == "enter":
            self.vm.submit()
        else:
            self.vm.press(key)


register(
    SIGNIN,
    lambda app: SignInScreen(app),
    label="signin.title",
    icon="login",
    order=0,
    nav=False,
)


# --- what a session changes in the shell -----------------------------------------------------


class SessionGate:
    """Follows ``services.on_session``: name, presence, rail, inbox and screen of the shell."""

    def __init__(self, app: WorkstationApp, after: str | None) -> None:
        self.app = app
        self.after = after  # the screen asked for with --screen: shown after sign-in
        self.required = False  # this node has someone to sign in: no work without it
        services = app.services
        assert services is not None
        self.services = services
        self.inbox = InboxWatcher(
            services,
            app.popups,
            notify=app.toast,
            open_card=self.open_card,
            can_open=self.has_card,
        )
        services.on_session.append(self.session_changed)
        if app.ctx is not None:
            app.ctx.bind(on_data_changed=self.data_changed)

    # -- the start --------------------------------------------------------------------------

    def first_screen(self, wanted: str) -> str:
        self.required = can_sign_in(self.services.reader)
        if self.services.session is not None:
            return self.home(self.services.session)
        return SIGNIN if self.required else wanted

    def home(self, session: Session) -> str:
        """Where a signed-in employee starts: the screen asked for, «Трафик», or the first
        one the rail offers them."""
        for name in (self.after, HOME):
            ok = name and name != SIGNIN and _registered(name)
            if ok and allowed(screens.get(str(name)), session):
                return str(name)
        names = [item.name for item in self.app.shell.nav.items]
        return names[0] if names else SIGNIN

    # -- session ----------------------------------------------------------------------------

    def session_changed(self, session: Session | None) -> None:
        app, shell = self.app, self.app.shell  # the rail follows the rights by itself (NavVM)
        if session is None:
            shell.presence.handler = None
            shell.employee_name = ""
            self.inbox.stop()
            self.required = can_sign_in(self.services.reader)
            if self.required:
                app.go(SIGNIN)
            return
        shell.employee_name = session.short_name
        self._presence_from_store(session)
        shell.presence.handler = self.services.set_presence
        self.inbox.start(session.employee_id)
        target = self.home(session)
        self.after = None
        app.go(target)

    def _presence_from_store(self, session: Session) -> None:
        emp = self.services.reader.employee(session.employee_id)
        if emp is None:
            return
        presence = self.app.shell.presence
        state = emp["presence"] if emp["presence"] in ("available", "busy", "away") else "away"
        if (presence.state, presence.note) != (state, emp["presence_note"] or ""):
            handler, presence.handler = presence.handler, None  # showing, not choosing
            presence.state, presence.note = state, emp["presence_note"] or ""
            presence.handler = handler

    def data_changed(self, *_: Any) -> None:
        session = self.services.session
        if session is not None:
            self._presence_from_store(session)
            self.inbox.check()
            return
        if not self.required:
            self.required = can_sign_in(self.services.reader)
            if self.required:  # employees arrived from the hub: from now on, sign in first
                self.app.go(SIGNIN)

    # -- the traffic card ---------------------------------------------------------------------

    @staticmethod
    def has_card() -> bool:
        return _registered("traffic_card")

    def open_card(self, traffic_id: str) -> None:
        if not self.has_card():
            return
        self.app.go("traffic_card")
        opener = getattr(self.app.screen("traffic_card"), "open", None)
        if callable(opener):
            opener(traffic_id)


def _registered(name: str) -> bool:
    try:
        screens.get(name)
    except KeyError:
        return False
    return True


def attach_sign_in(app: WorkstationApp, first: str) -> str:
    """The app's start: wire sessions to the shell; returns the screen to show first."""
    from lsnode.ui.theme.style import THEME

    if THEME.public or app.services is None:
        return first  # the kiosk: visitors never sign in
    gate = SessionGate(app, app.start_screen)
    app.inbox = gate.inbox
    app.fbind("on_stop", lambda *_: gate.inbox.stop())  # a stopped app shows no more popups
    return gate.first_screen(first)


def sign_in_first_admin(app: WorkstationApp) -> Session | None:
    """Screenshots, benchmarks and tests: the first administrator's session, without a PIN."""
    services = app.services
    if services is None:
        return None
    admins = [e for e in services.reader.employees() if e["role"] == "admin"]
    if not admins:
        return None
    session = session_of(admins[0])
    services.session = session
    for hook in list(services.on_session):
        hook(session)
    return session


def _contact_sample(app: WorkstationApp) -> Any:
    """ВХОДЯЩИЙ КОНТАКТ for screenshots: the newest contact with a client and a car, or the
    brochure's own example on an empty node."""
    row: Row = {
        "purpose_name": "Ремонт автомобиля",
        "client_full_name": "Иванов Василий Алибабаевич",
        "make_model": "Mercedes-Benz C 220 CDI",
        "contact_type": "call",
        "contact_at": "2017-12-18T17:52:00Z",
    }
    services = app.services
    if services is not None:
        db = services.reader.db
        found = db.execute(
            "SELECT id FROM traffic WHERE counterparty_id IS NOT NULL AND make_model != '' "
            "ORDER BY contact_at DESC LIMIT 1"
        ).fetchone()
        got = services.reader.traffic(found[0]) if found else None
        if got is not None:
            purpose = services.reader.purpose(got["purpose_id"]) if got["purpose_id"] else None
            row = dict(got, purpose_full_name=purpose["full_name"] if purpose else "")
    return contact_popup(row, take=lambda: None, open_card=lambda: None)


register_popup_sample("incoming-contact", _contact_sample)
