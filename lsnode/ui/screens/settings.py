"""«Настройки»: language, theme, this device, and the node's sync state.

The first real screen of the shell and the model for the others: strings registered here,
layout in ``settings.kv``, logic in ``SettingsVM`` (tested without a window).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kivy.event import EventDispatcher
from kivy.properties import ObjectProperty, StringProperty

from lsnode.ui import i18n
from lsnode.ui.screens import ORDER, LsScreen, load_kv, register
from lsnode.ui.theme import DeviceProfile

if TYPE_CHECKING:
    from lsnode.ui.app import WorkstationApp

STRINGS = {
    "settings.title": ("Настройки", "Settings"),
    "settings.language": ("Язык", "Language"),
    "settings.language_hint": (
        "Интерфейс переключается сразу, без перезапуска",
        "The interface switches at once, no restart needed",
    ),
    "settings.theme": ("Оформление", "Appearance"),
    "settings.theme_hint": (
        "Светлая тема — для ярких салонов, тёмная — для вечерних смен",
        "Light for bright showrooms, dark for evening shifts",
    ),
    "settings.theme.light": ("Светлая", "Light"),
    "settings.theme.dark": ("Тёмная", "Dark"),
    "settings.device": ("Устройство", "Device"),
    "settings.device.profile": ("Профиль", "Profile"),
    "settings.device.window": ("Окно", "Window"),
    "settings.device.touch": ("Размер касания", "Touch target"),
    "settings.device.font": ("Основной текст", "Body text"),
    "settings.device.desk": ("Рабочее место", "Desk"),
    "settings.device.tablet": ("Планшет", "Tablet"),
    "settings.device.kiosk": ("Киоск", "Kiosk"),
    "settings.sync": ("Синхронизация", "Sync"),
    "settings.sync.hub": ("Хаб", "Hub"),
    "settings.sync.state": ("Состояние", "State"),
    "settings.sync.pending": ("Ожидают отправки", "Waiting to send"),
    "settings.sync.error": ("Последняя ошибка", "Last error"),
    "settings.sync.data": ("Папка данных", "Data folder"),
    "settings.sync.none": ("—", "—"),
    "settings.sync.not_paired_hint": (
        "Работает автономно. Подключите хаб кнопкой «Подключить к хабу» ниже",
        "Working alone. Pair with the hub with “Pair with a hub” below",
    ),
}
i18n.register(STRINGS)
load_kv(__file__)


class SettingsVM(EventDispatcher):  # type: ignore[misc]
    """What the settings screen shows and does, from the app's services.

    ``ctx`` is the ``NodeContext`` (or anything with its sync properties); ``set_lang`` /
    ``set_theme`` are the app's commands, so switching here switches the whole app."""

    lang = StringProperty(i18n.DEFAULT_LANG)
    theme_name = StringProperty("light")
    profile_text = StringProperty("")
    window_text = StringProperty("")
    touch_text = StringProperty("")
    font_text = StringProperty("")
    hub_text = StringProperty("")
    state_text = StringProperty("")
    pending_text = StringProperty("")
    error_text = StringProperty("")
    data_dir = StringProperty("")
    paired = StringProperty("")  # "yes" / "" (a string keeps kv conditions simple)
    ctx: Any = ObjectProperty(None, allownone=True, rebind=True)

    def __init__(
        self,
        *,
        ctx: Any,
        profile: DeviceProfile,
        data_dir: str,
        set_lang: Callable[[str], None],
        set_theme: Callable[[str], None],
        lang: str,
        theme_name: str,
        window_size: tuple[int, int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_lang, self._set_theme = set_lang, set_theme
        self.profile = profile
        self.window_size = window_size or profile.size
        self.lang, self.theme_name, self.data_dir = lang, theme_name, data_dir
        self.ctx = ctx
        if ctx is not None:
            names = ("paired", "online", "offline_since", "pending", "last_error", "hub_address")
            for name in names:
                ctx.fbind(name, self.update)
        i18n.on_lang_change(self._on_lang)
        self.update()

    def _on_lang(self, lang: str) -> None:
        self.lang = lang
        self.update()

    def choose_lang(self, lang: str) -> None:
        self._set_lang(lang)
        self.lang = lang
        self.update()

    def choose_theme(self, name: str) -> None:
        self._set_theme(name)
        self.theme_name = name

    def update(self, *_: Any) -> None:
        p = self.profile
        self.profile_text = i18n.tr(f"settings.device.{p.name}")
        w, h = self.window_size
        self.window_text = f"{w} × {h}"
        self.touch_text = f"{p.touch} dp"
        self.font_text = f"{p.body_sp} sp"
        ctx = self.ctx
        none = i18n.tr("settings.sync.none")
        if ctx is None or not ctx.paired:
            self.paired = ""
            self.hub_text = i18n.tr("shell.not_paired")
            self.state_text = i18n.tr("settings.sync.not_paired_hint")
        else:
            self.paired = "yes"
            self.hub_text = ctx.hub_address or none
            if ctx.sync_stopped:
                self.state_text = i18n.tr("shell.sync_stopped")
            elif ctx.online:
                self.state_text = i18n.tr("shell.online")
            elif ctx.offline_since:
                since = i18n.format_datetime(ctx.offline_since)
                self.state_text = i18n.tr("shell.offline_since", time=since)
            else:
                self.state_text = i18n.tr("shell.offline")
        pending = int(ctx.pending) if ctx is not None else 0
        self.pending_text = i18n.tr("shell.pending", n=pending) if pending else "0"
        self.error_text = (ctx.last_error if ctx is not None else "") or none


class SettingsScreen(LsScreen):
    vm: Any = ObjectProperty(None, rebind=True)  # kv chains through it

    def __init__(self, app: WorkstationApp, **kwargs: Any) -> None:
        from kivy.core.window import Window  # here, not at import: VM tests have no window

        from lsnode.ui.theme.style import THEME

        vm = SettingsVM(
            ctx=app.ctx,
            profile=THEME.profile,
            data_dir=app.data_dir,
            set_lang=app.set_lang,
            set_theme=app.set_theme,
            lang=app.lang,
            theme_name=app.theme_name,
            window_size=tuple(Window.size),
        )
        super().__init__(app, vm=vm, **kwargs)

    def refresh(self) -> None:
        self.vm.update()


register(
    "settings",
    lambda app: SettingsScreen(app),
    label="settings.title",
    icon="settings",
    order=ORDER["settings"],
)
