"""The screen registry: what the shell shows, and in which order on the navigation rail.

One screen = one module here + one ``.kv`` beside it (CONVENTIONS.md §10). A module registers
itself at import; the shell imports every module of this package (``load_all``), so adding a
screen is adding its two files — the rail never shows an item for a module that does not exist.

A screen module looks like::

    from lsnode.ui import i18n
    from lsnode.ui.screens import LsScreen, load_kv, register

    STRINGS = {"queue.title": ("Очередь", "Queue"), ...}
    i18n.register(STRINGS)
    load_kv(__file__)                      # queue.kv: layout and bindings only

    class QueueScreen(LsScreen):
        def refresh(self) -> None:         # data changed (locally, from the hub, another app)
            self.vm.reload()

    register("queue", lambda app: QueueScreen(app), label="queue.title", icon="queue",
             order=ORDER["queue"])

``factory(app)`` gets the running ``WorkstationApp`` (its ``ctx``, ``shell``, ``popups``).
``nav=False`` registers a screen reachable only from code (a card opened from a row).
``right="admin_purposes"`` (a ``lsnode.crm.staff.Right`` value) shows its rail item only while
the signed-in employee has that right (``NavVM.rights``).

Popup samples (``register_popup_sample``) let ``lsavto screenshots`` show each popup kind with
demo content.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty
from kivy.uix.screenmanager import Screen

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

ORDER: dict[str, int] = {
    "traffic": 10,
    "queue": 20,
    "journal": 30,
    "clients": 40,
    "appointments": 45,  # Запись: service appointments (lsnode.notify)
    "campaigns": 50,
    "tasks": 60,
    "appeals": 70,
    "reports": 80,
    "notify_journal": 85,  # Уведомления: the message journal, templates, channels
    "settings": 90,
}
"""Rail positions of the brochure's modules (UI.md): Трафик … Отчёты, then Настройки."""

ScreenFactory = Callable[["WorkstationApp"], Screen]
PopupFactory = Callable[["WorkstationApp"], Any]


@dataclass(frozen=True, slots=True)
class ScreenSpec:
    name: str
    factory: ScreenFactory
    label: str  # i18n key of the rail label
    icon: str  # icon name or alias (lsnode.ui.theme.icons)
    order: int
    nav: bool = True
    right: str | None = None  # the rail shows it only to an employee with this right


@dataclass(frozen=True, slots=True)
class PopupSample:
    name: str
    factory: PopupFactory  # returns a widget or a popup view-model for app.popups.push


_screens: dict[str, ScreenSpec] = {}
_popups: dict[str, PopupSample] = {}
_loaded_kv: set[str] = set()


def register(
    name: str,
    factory: ScreenFactory,
    *,
    label: str,
    icon: str,
    order: int,
    nav: bool = True,
    right: str | None = None,
) -> ScreenSpec:
    """Add (or, on a module reload, replace) a screen."""
    spec = ScreenSpec(name, factory, label, icon, order, nav, right)
    _screens[name] = spec
    return spec


def register_popup_sample(name: str, factory: PopupFactory) -> None:
    _popups[name] = PopupSample(name, factory)


def specs() -> list[ScreenSpec]:
    return sorted(_screens.values(), key=lambda s: (s.order, s.name))


def nav_specs() -> list[ScreenSpec]:
    return [s for s in specs() if s.nav]


def popup_samples() -> list[PopupSample]:
    return sorted(_popups.values(), key=lambda p: p.name)


def get(name: str) -> ScreenSpec:
    try:
        return _screens[name]
    except KeyError:
        raise KeyError(f"no screen {name!r}: registered are {', '.join(_screens)}") from None


def load_all() -> list[ScreenSpec]:
    """Import every screen module of this package (each registers itself)."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return specs()


def load_kv(module_file: str) -> None:
    """Load the ``.kv`` beside a screen module, once per process."""
    path = str(Path(module_file).with_suffix(".kv"))
    if path not in _loaded_kv:
        Builder.load_file(path)
        _loaded_kv.add(path)


class LsScreen(Screen):  # type: ignore[misc]
    """Base of every screen: knows the app, and refreshes when the data changes.

    ``refresh()`` runs when the screen is shown and whenever the store changed while it is
    shown (a local write, a change from the hub, another process); a screen that was hidden
    during a change refreshes on its next entry, not before — hidden screens cost nothing."""

    app: Any = ObjectProperty(None, rebind=True)  # kv chains through it
    stale = BooleanProperty(True)

    def __init__(self, app: WorkstationApp | None = None, **kwargs: Any) -> None:
        # Properties the kv rule reads (app, vm) must arrive as kwargs: rules apply inside
        # Widget.__init__, before the subclass's own __init__ body runs. A screen written
        # entirely in kv gets the running app.
        if app is None:
            from kivy.app import App

            app = App.get_running_app()
        super().__init__(app=app, **kwargs)
        ctx = getattr(app, "ctx", None)
        if ctx is not None:
            ctx.bind(on_data_changed=self._data_changed)  # weak: screens may be dropped

    def _data_changed(self, *_: Any) -> None:
        if self.manager is not None and self.manager.current == self.name:
            self.refresh()
        else:
            self.stale = True

    def on_pre_enter(self, *_: Any) -> None:
        if self.stale:
            self.stale = False
            self.refresh()

    def refresh(self) -> None:
        """Re-read what the screen shows (view-model reload); override."""
