"""View-models of the workstation shell: navigation, status bar, presence, popups, toasts.

No widgets here (CONVENTIONS.md §11): each class is an ``EventDispatcher`` with properties the
shell's kv binds to and commands it calls, tested without a window. ``ShellVM`` gathers them;
the app exposes it as ``app.shell`` and its popup stack as ``app.popups``.

Hooks for the domain team:

- ``shell.presence.handler = fn(state, note)`` — called when the user picks «Доступен / Занят /
  Нет на месте» or edits «Доп. информация»; it should write and sync the employee's presence.
  It may raise ``LsnodeError``: the choice is reverted and the message shown as a toast.
- ``shell.employee_name`` — set on sign-in («Петухов Сергей»).
- ``app.popups.push(item)`` → id; ``app.popups.dismiss(id)``. ``item`` is a widget, or a
  view-model whose class was registered with ``PopupStack.register_view(cls, factory)``
  (``PopupVM`` is the generic one: title, text, icon, tone and actions).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)

from lsnode.errors import LsnodeError
from lsnode.ui import i18n
from lsnode.ui.screens import ScreenSpec

log = logging.getLogger("lsavto.ui.shell")

STRINGS = {
    "shell.online": ("В сети", "Online"),
    "shell.offline_since": ("Не в сети с {time}", "Offline since {time}"),
    "shell.offline": ("Не в сети", "Offline"),
    "shell.not_paired": ("Хаб не подключён", "No hub paired"),
    "shell.sync_stopped": ("Синхронизация остановлена", "Sync stopped"),
    "shell.pending": (
        "{n} изменение ждёт отправки|{n} изменения ждут отправки|{n} изменений ждут отправки",
        "{n} change waiting|{n} changes waiting",
    ),
    "shell.all_sent": ("Все изменения отправлены", "All changes sent"),
    "shell.not_signed_in": ("Вход не выполнен", "Not signed in"),
    "presence.available": ("Доступен", "Available"),
    "presence.busy": ("Занят", "Busy"),
    "presence.away": ("Нет на месте", "Away"),
    "presence.note": ("Доп. информация", "Note"),
    "presence.note_hint": ("Например: на тест-драйве до 15:00", "E.g. on a test drive until 3 pm"),
    "presence.save": ("Сохранить", "Save"),
    "presence.title": ("Мой статус", "My status"),
}
i18n.register(STRINGS)

PRESENCE_STATES = ("available", "busy", "away")


# --- navigation --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NavItem:
    name: str
    label: str  # i18n key
    icon: str


class NavVM(EventDispatcher):  # type: ignore[misc]
    """The rail's items (from the screen registry) and the current screen.

    ``rights``: the signed-in employee's rights (``Session.rights``); a screen registered with
    ``right=`` is on the rail only while they include it."""

    items = ListProperty([])
    current = StringProperty("")
    rights: Any = ObjectProperty(frozenset())

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._specs: list[ScreenSpec] = []
        self.fbind("rights", self._filter)

    def load(self, specs: list[ScreenSpec]) -> None:
        self._specs = [s for s in specs if s.nav]
        self._filter()
        if not self.current and self.items:
            self.current = self.items[0].name

    def _filter(self, *_: Any) -> None:
        rights = self.rights or frozenset()
        self.items = [
            NavItem(s.name, s.label, s.icon)
            for s in self._specs
            if s.right is None or s.right in rights
        ]

    def go(self, name: str) -> None:
        self.current = name


# --- status bar --------------------------------------------------------------------------------


class StatusVM(EventDispatcher):  # type: ignore[misc]
    """The status bar's texts, derived from the node context's sync properties.

    Inputs are the same properties ``NodeContext`` has (``bind_context`` keeps them in step);
    outputs are ready-to-show strings and the tone of the sync indicator."""

    paired = BooleanProperty(False)
    online = BooleanProperty(False)
    offline_since: Any = ObjectProperty(None, allownone=True)
    pending = NumericProperty(0)
    sync_stopped = BooleanProperty(False)
    last_error = StringProperty("")

    sync_text = StringProperty("")
    sync_icon = StringProperty("offline")
    sync_tone = StringProperty("away")
    pending_text = StringProperty("")
    # «Статус телефонной линии», set by lsnode.ui.calls (CallWatcher); empty: no SIP line
    line_text = StringProperty("")
    line_short = StringProperty("")  # the same for a narrow bar: «Нет АТС с 11:05»
    line_icon = StringProperty("phone")
    line_tone = StringProperty("away")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("paired", "online", "offline_since", "pending", "sync_stopped"):
            self.fbind(name, self._update)
        i18n.on_lang_change(self._on_lang)
        self._update()

    def _on_lang(self, _lang: str) -> None:
        self._update()

    def bind_context(self, ctx: EventDispatcher) -> None:
        """Follow a ``NodeContext`` (or anything with the same properties)."""
        names = ("paired", "online", "offline_since", "pending", "sync_stopped", "last_error")
        for name in names:
            setattr(self, name, getattr(ctx, name))
            ctx.fbind(name, self._copy, name)

    def _copy(self, name: str, _ctx: Any, value: Any) -> None:
        setattr(self, name, value)

    def _update(self, *_: Any) -> None:
        if not self.paired:
            self.sync_text, self.sync_icon, self.sync_tone = (
                i18n.tr("shell.not_paired"),
                "offline",
                "away",
            )
        elif self.sync_stopped:
            self.sync_text, self.sync_icon, self.sync_tone = (
                i18n.tr("shell.sync_stopped"),
                "error",
                "danger",
            )
        elif self.online:
            self.sync_text, self.sync_icon, self.sync_tone = (
                i18n.tr("shell.online"),
                "online",
                "available",
            )
        else:
            text = (
                i18n.tr("shell.offline_since", time=i18n.format_time(self.offline_since))
                if self.offline_since
                else i18n.tr("shell.offline")
            )
            self.sync_text, self.sync_icon, self.sync_tone = text, "offline", "busy"
        n = int(self.pending)
        self.pending_text = i18n.tr("shell.pending", n=n) if n else i18n.tr("shell.all_sent")


# --- presence ----------------------------------------------------------------------------------

PresenceHandler = Callable[[str, str], None]


class PresenceVM(EventDispatcher):  # type: ignore[misc]
    """The signed-in employee's presence; ``choose`` calls the domain's pluggable ``handler``."""

    state = OptionProperty("available", options=list(PRESENCE_STATES))
    note = StringProperty("")
    handler: Any = ObjectProperty(None, allownone=True)
    __events__ = ("on_error",)

    def choose(self, state: str, note: str | None = None) -> bool:
        """Set presence (and optionally the note); returns False if the handler refused."""
        if state not in PRESENCE_STATES:
            raise ValueError(f"unknown presence {state!r}")
        before = (self.state, self.note)
        new_note = self.note if note is None else note.strip()
        self.state, self.note = state, new_note
        if self.handler is None:
            return True
        try:
            self.handler(state, new_note)
        except LsnodeError as exc:
            self.state, self.note = before
            self.dispatch("on_error", str(exc))
            return False
        return True

    def on_error(self, message: str) -> None:
        pass


# --- popups ------------------------------------------------------------------------------------


class PopupVM(EventDispatcher):  # type: ignore[misc]
    """A generic popup: ВХОДЯЩИЙ КОНТАКТ, ВХОДЯЩИЙ ВЫЗОВ … ``actions`` is a list of
    ``(label, callback, kind)`` with kind ``primary`` / ``flat`` / ``danger``; any action
    dismisses the popup after its callback."""

    title = StringProperty("")
    text = StringProperty("")
    icon = StringProperty("info")
    tone = StringProperty("accent")
    actions = ListProperty([])


@dataclass(slots=True)
class PopupEntry:
    id: str
    item: Any  # the widget or view-model pushed


class PopupStack(EventDispatcher):  # type: ignore[misc]
    """Popups that stay until acted on, newest on top; the layer widget draws ``entries``."""

    entries = ListProperty([])
    __events__ = ("on_push", "on_dismiss")
    _views: ClassVar[dict[type, Callable[[Any, PopupStack, str], Any]]] = {}
    _ids: ClassVar[Iterator[int]] = itertools.count(1)

    @classmethod
    def register_view(cls, vm_class: type, factory: Callable[[Any, PopupStack, str], Any]) -> None:
        """How to draw a popup view-model: ``factory(vm, stack, popup_id) -> widget``."""
        cls._views[vm_class] = factory

    def view_factory(self, item: Any) -> Callable[[Any, PopupStack, str], Any] | None:
        for klass in type(item).__mro__:
            if klass in self._views:
                return self._views[klass]
        return None

    def push(self, item: Any) -> str:
        """Show a popup; returns its id for ``dismiss``."""
        popup_id = f"popup-{next(self._ids)}"
        entry = PopupEntry(popup_id, item)
        self.entries = [entry, *self.entries]
        self.dispatch("on_push", entry)
        return popup_id

    def dismiss(self, popup_id: str) -> bool:
        kept = [e for e in self.entries if e.id != popup_id]
        if len(kept) == len(self.entries):
            return False
        gone = next(e for e in self.entries if e.id == popup_id)
        self.entries = kept
        self.dispatch("on_dismiss", gone)
        return True

    def clear(self) -> None:
        for entry in list(self.entries):
            self.dismiss(entry.id)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    def on_push(self, entry: PopupEntry) -> None:
        pass

    def on_dismiss(self, entry: PopupEntry) -> None:
        pass


# --- the shell ---------------------------------------------------------------------------------


class ToastVM(EventDispatcher):  # type: ignore[misc]
    """The last error or notice to show at the bottom (the shell's ``Toast`` draws it)."""

    message = StringProperty("")
    tone = StringProperty("danger")
    serial = NumericProperty(0)  # bumps on every show, even of the same text

    def show(self, message: str, tone: str = "danger") -> None:
        self.message, self.tone = message, tone
        self.serial += 1


class ShellVM(EventDispatcher):  # type: ignore[misc]
    """Everything the shell shows around the screens."""

    employee_name = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.nav = NavVM()
        self.status = StatusVM()
        self.presence = PresenceVM()
        self.popups = PopupStack()
        self.toast = ToastVM()
        self.presence.fbind("on_error", self._presence_error)

    def _presence_error(self, _vm: Any, message: str) -> None:
        self.toast.show(message)

    def show_error(self, error: BaseException | str) -> None:
        """Show an error as the user should see it: an ``HubUnavailable`` by its translated
        message, any ``LsnodeError`` by its one-line text."""
        key = getattr(error, "message_key", None)
        self.toast.show(i18n.tr(key) if key else str(error))
