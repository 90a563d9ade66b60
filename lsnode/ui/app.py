"""The workstation app: the shell around the screens (``lsavto app --data DIR``).

::

    ┌──────┬──────────────────────────────────────────────┐
    │ rail │  ScreenManager (screens from the registry)   │  popups slide in top-right,
    │      │                                              │  stack, stay until acted on
    ├──────┴──────────────────────────────────────────────┤
    │ ☁ Не в сети с 14:05 · 3 изменения ждут · Петухов С. · ● Доступен ▾  (status bar) │
    └─────────────────────────────────────────────────────┘

``WorkstationApp`` wires the parts: the runtime loop (``lsnode.runtime``), the node context
(store + sync, ``lsnode.ui.context``), the shell's view-models (``lsnode.ui.shell``), the
screen registry (``lsnode.ui.screens``) and the theme. Screens reach them as ``app.ctx``,
``app.shell``, ``app.popups``; kv reaches them as ``app.…``. Widgets here only draw what the
view-models hold. The kiosk profile has no rail.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kivy.animation import Animation
from kivy.app import App
from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.dropdown import DropDown
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.uix.widget import Widget

from lsnode.runtime import Runtime
from lsnode.ui import boot, i18n, screens
from lsnode.ui.context import NodeContext
from lsnode.ui.services import Services
from lsnode.ui.shell import PopupEntry, PopupStack, PopupVM, ShellVM
from lsnode.ui.theme import DEFAULT_DEVICE, DEFAULT_THEME, THEMES
from lsnode.ui.theme import device as device_profile
from lsnode.ui.theme.style import THEME

log = logging.getLogger("lsavto.ui.app")

KV_FILE = Path(__file__).with_name("app.kv")

STRINGS = {
    "app.title": ("LSAvto — учёт клиентского трафика", "LSAvto — client traffic"),
    "popup.close": ("Закрыть", "Close"),
}
i18n.register(STRINGS)


def kivy_poster(fn: Any) -> None:
    """The runtime's way back to the main thread: Kivy's Clock is thread-safe."""
    Clock.schedule_once(lambda _dt: fn(), 0)


# --- shell widgets -----------------------------------------------------------------------------


class RailItem(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """One navigation destination: icon over label; the current one is highlighted."""

    name = StringProperty("")
    label = StringProperty("")  # i18n key
    icon = StringProperty("")
    selected = BooleanProperty(False)
    nav: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def on_release(self) -> None:
        if self.nav is not None:
            self.nav.go(self.name)


class NavRail(BoxLayout):  # type: ignore[misc]
    """The rail, rebuilt from ``NavVM.items`` (the screen registry)."""

    nav: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def on_nav(self, _inst: Any, nav: Any) -> None:
        nav.fbind("items", self._rebuild)
        nav.fbind("current", self._select)
        self._rebuild()

    def _rebuild(self, *_: Any) -> None:
        if "rail_items" not in self.ids or self.nav is None:
            return  # the rule is still being applied; on_kv_post rebuilds
        box = self.ids["rail_items"]
        box.clear_widgets()
        for item in self.nav.items:
            box.add_widget(RailItem(name=item.name, label=item.label, icon=item.icon, nav=self.nav))
        self._select()

    def on_kv_post(self, _base: Any) -> None:
        self._rebuild()

    def _select(self, *_: Any) -> None:
        if "rail_items" not in self.ids or self.nav is None:
            return
        for child in self.ids["rail_items"].children:
            child.selected = child.name == self.nav.current


class PresenceMenu(DropDown):  # type: ignore[misc]
    """Доступен / Занят / Нет на месте and the «Доп. информация» note."""

    presence: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def pick(self, state: str) -> None:
        self.presence.choose(state)
        self.dismiss()

    def save_note(self, note: str) -> None:
        self.presence.choose(self.presence.state, note)
        self.dismiss()


class PresenceButton(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """The status bar's presence selector; opens ``PresenceMenu``."""

    presence: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def on_release(self) -> None:
        PresenceMenu(presence=self.presence).open(self)


class StatusBar(BoxLayout):  # type: ignore[misc]
    shell: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    # The app's InboxWatcher, handed down by ShellRoot: kv's global ``app`` is gone once an app
    # stopped, and a rule reading it would fail on the next theme change in the same process.
    inbox: Any = ObjectProperty(None, allownone=True, rebind=True)


class PopupCard(BoxLayout):  # type: ignore[misc]
    """How a ``PopupVM`` looks: tone stripe, icon, title, text, actions. Takes no focus."""

    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    stack: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    popup_id = StringProperty("")
    offset = NumericProperty(0)  # slides from the right on arrival

    def on_vm(self, _inst: Any, vm: PopupVM) -> None:
        vm.fbind("actions", self._build_actions)
        self._build_actions()

    def _build_actions(self, *_: Any) -> None:
        from lsnode.ui.theme.widgets import DangerButton, FlatButton, PrimaryButton

        if "actions" not in self.ids or self.vm is None:
            return  # vm arrived before the rule was applied; on_kv_post builds them
        kinds = {"primary": PrimaryButton, "flat": FlatButton, "danger": DangerButton}
        box = self.ids.actions
        for child in [c for c in box.children if type(c) is not Widget]:
            box.remove_widget(child)
        for label, callback, kind in self.vm.actions:
            button = kinds.get(kind, FlatButton)(text=label)
            button.bind(on_release=lambda _b, cb=callback: self.act(cb))
            box.add_widget(button)

    def on_kv_post(self, _base: Any) -> None:
        self._build_actions()

    def act(self, callback: Any) -> None:
        try:
            if callback is not None:
                callback()
        finally:
            self.stack.dismiss(self.popup_id)

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        super().on_touch_down(touch)
        return True  # a tap on the card never falls through to the screen below


def _popup_card(vm: PopupVM, stack: PopupStack, popup_id: str) -> PopupCard:
    return PopupCard(vm=vm, stack=stack, popup_id=popup_id)


PopupStack.register_view(PopupVM, _popup_card)


class PopupLayer(FloatLayout):  # type: ignore[misc]
    """Top-right column of popups, newest on top; touches outside them pass through."""

    stack: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    cards = ListProperty([])

    def on_stack(self, _inst: Any, stack: PopupStack) -> None:
        stack.fbind("on_push", self._pushed)
        stack.fbind("on_dismiss", self._dismissed)
        self._widgets: dict[str, Widget] = {}

    def _pushed(self, stack: PopupStack, entry: PopupEntry) -> None:
        item = entry.item
        if isinstance(item, Widget):
            widget = item
        else:
            factory = stack.view_factory(item)
            if factory is None:
                raise TypeError(f"no popup view registered for {type(item).__name__}")
            widget = factory(item, stack, entry.id)
        self._widgets[entry.id] = widget
        column = self.ids.column
        column.add_widget(widget, index=len(column.children))  # on top
        if hasattr(widget, "offset"):
            widget.offset = widget.width or THEME.touch * 9
            Animation(offset=0, d=0.18, t="out_cubic").start(widget)

    def _dismissed(self, _stack: PopupStack, entry: PopupEntry) -> None:
        widget = self._widgets.pop(entry.id, None)
        if widget is not None and widget.parent is not None:
            widget.parent.remove_widget(widget)

    def on_touch_down(self, touch: Any) -> bool:
        return any(child.on_touch_down(touch) for child in self.ids.column.children)

    def on_touch_move(self, touch: Any) -> bool:
        return bool(touch.grab_current is not None and super().on_touch_move(touch))

    def on_touch_up(self, touch: Any) -> bool:
        return bool(super().on_touch_up(touch))


class ShellRoot(FloatLayout):  # type: ignore[misc]
    """The app's root: content + status bar, with the popup and toast layers above."""

    app: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    shell: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def on_shell(self, _inst: Any, shell: ShellVM) -> None:
        shell.toast.fbind("serial", self._show_toast)

    def _show_toast(self, vm: Any, _serial: int) -> None:
        self.ids.toast.show(vm.message, vm.tone)


# --- the app -----------------------------------------------------------------------------------


class WorkstationApp(App):  # type: ignore[misc]
    """``lsavto app``: the workstation (tablet, desk; kiosk profile without the rail).

    ``lang`` / ``theme_name`` are Kivy properties mirroring the switchable settings; change
    them with ``set_lang`` / ``set_theme`` (which re-render everything bound)."""

    lang = StringProperty(i18n.DEFAULT_LANG)
    theme_name = StringProperty(DEFAULT_THEME)
    device = StringProperty(DEFAULT_DEVICE)
    data_dir = StringProperty("")
    inbox: Any = ObjectProperty(None, allownone=True, rebind=True)  # lsnode.ui.inbox.InboxWatcher

    def __init__(
        self,
        data_dir: Path,
        *,
        device: str = DEFAULT_DEVICE,
        lang: str = i18n.DEFAULT_LANG,
        theme: str = DEFAULT_THEME,
        runtime: Runtime | None = None,
        sync: bool = True,
        start_screen: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data_dir = str(data_dir)
        self.device = device
        self._initial_lang = lang
        self._initial_theme = theme
        self._own_runtime = runtime is None
        self.runtime = runtime or Runtime(poster=kivy_poster)
        self.sync = sync
        self.start_screen = start_screen
        self.ctx: NodeContext | None = None
        self.services: Services | None = None  # the domain for screens (lsnode.ui.services)
        self.shell = ShellVM()
        self.title = "LSAvto"

    @property
    def popups(self) -> PopupStack:
        return self.shell.popups

    # --- lifecycle -------------------------------------------------------------------------

    def build(self) -> ShellRoot:
        boot.install()
        THEME.use_device(device_profile(self.device))
        self.set_theme(self._initial_theme)
        self.set_lang(self._initial_lang)
        screens.load_kv(str(KV_FILE))
        if self.runtime._poster is None:  # a runtime handed in without a way back
            self.runtime.set_poster(kivy_poster)
        self.runtime.start()
        ctx = NodeContext(Path(self.data_dir), self.runtime)
        ctx.open()
        self.ctx = ctx
        self.services = Services(ctx)
        self.services.on_session.append(self._session_rights)
        self.shell.status.bind_context(ctx)
        specs = screens.load_all()
        self.shell.nav.load(specs)
        root = ShellRoot(app=self, shell=self.shell)
        self._manager: ScreenManager = root.ids.screens
        self._manager.transition = NoTransition()
        self.shell.nav.fbind("current", self._show_current)
        first = self.start_screen or self.shell.nav.current or (specs[0].name if specs else "")
        from lsnode.ui.screens.signin import attach_sign_in  # «Вход» first, until signed in

        first = attach_sign_in(self, first)
        from lsnode.ui import calls  # the telephone: call popups, the SIP line in the status bar

        calls.attach(self)
        if first:
            self.go(first)
        return root

    def on_start(self) -> None:
        if self.sync and self.ctx is not None:
            self.ctx.start_sync()

    def on_stop(self) -> None:
        if self.ctx is not None:
            self.ctx.close()
        if self._own_runtime:
            self.runtime.stop()

    # --- commands --------------------------------------------------------------------------

    def go(self, name: str) -> None:
        """Show a registered screen (nav or not), creating it on first use."""
        self.shell.nav.current = name
        self._show_current()

    def _show_current(self, *_: Any) -> None:
        name = self.shell.nav.current
        manager = getattr(self, "_manager", None)
        if manager is None or not name:
            return
        if not manager.has_screen(name):
            screen = screens.get(name).factory(self)
            screen.name = name
            manager.add_widget(screen)
        manager.current = name

    def screen(self, name: str) -> Any:
        self._show_current()
        return self._manager.get_screen(name)

    def _session_rights(self, session: Any) -> None:
        """The rail shows what the signed-in employee may open (``ScreenSpec.right``)."""
        self.shell.nav.rights = session.rights if session is not None else frozenset()

    def sign_out(self) -> None:
        """The status bar's «Выйти»: back to «Вход» (``lsnode.ui.screens.signin``)."""
        if self.services is not None:
            self.services.sign_out()

    def set_lang(self, lang: str) -> None:
        i18n.set_lang(lang)
        self.lang = lang

    def set_theme(self, name: str) -> None:
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}")
        THEME.use_palette(name)
        self.theme_name = name

    def toast(self, message: str, tone: str = "danger") -> None:
        self.shell.toast.show(message, tone)
