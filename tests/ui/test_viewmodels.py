"""The shell's view-models without a window: status texts, presence, popups, nav, settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from lsnode.errors import InputError
from lsnode.ui import i18n
from lsnode.ui.screens import ScreenSpec
from lsnode.ui.shell import NavVM, PopupStack, PopupVM, PresenceVM, ShellVM, StatusVM
from lsnode.ui.theme import device


class FakeContext(EventDispatcher):  # type: ignore[misc]
    """The sync properties of NodeContext, set by hand."""

    paired = BooleanProperty(True)
    online = BooleanProperty(False)
    offline_since: Any = ObjectProperty(None, allownone=True)
    pending = NumericProperty(0)
    sync_stopped = BooleanProperty(False)
    last_error = StringProperty("")
    hub_address = StringProperty("192.168.1.10:8765")


def _at(hh: int, mm: int) -> float:
    return datetime(2026, 12, 3, hh, mm).timestamp()  # local time, as the bar shows it


def test_status_bar_texts_follow_the_context_and_the_language() -> None:
    ctx = FakeContext(offline_since=_at(14, 5), pending=3)
    status = StatusVM()
    status.bind_context(ctx)
    assert status.sync_text == "Не в сети с 14:05"
    assert status.pending_text == "3 изменения ждут отправки"
    assert status.sync_tone == "busy"
    ctx.online, ctx.offline_since, ctx.pending = True, None, 0
    assert status.sync_text == "В сети" and status.sync_tone == "available"
    assert status.pending_text == "Все изменения отправлены"
    i18n.set_lang("en")
    assert status.sync_text == "Online"
    ctx.paired = False
    assert status.sync_text == "No hub paired"
    ctx.paired, ctx.sync_stopped = True, True
    assert status.sync_text == "Sync stopped" and status.sync_tone == "danger"


def test_presence_calls_the_domains_handler_and_reverts_when_it_refuses() -> None:
    presence = PresenceVM()
    assert presence.choose("busy")  # no handler yet: the choice just shows
    calls: list[tuple[str, str]] = []
    presence.handler = lambda state, note: calls.append((state, note))
    assert presence.choose("away", "  на тест-драйве до 15:00 ")
    assert calls == [("away", "на тест-драйве до 15:00")]
    assert (presence.state, presence.note) == ("away", "на тест-драйве до 15:00")

    def refuse(state: str, note: str) -> None:
        raise InputError("статус не сохранён: нет связи")

    errors: list[str] = []
    presence.handler = refuse
    presence.bind(on_error=lambda _vm, msg: errors.append(msg))
    assert not presence.choose("available")
    assert presence.state == "away" and errors == ["статус не сохранён: нет связи"]
    with pytest.raises(ValueError):
        presence.choose("sleeping")


def test_a_refused_presence_shows_as_a_toast() -> None:
    shell = ShellVM()

    def refuse(state: str, note: str) -> None:
        raise InputError("нет связи")

    shell.presence.handler = refuse
    shell.presence.choose("busy")
    assert shell.toast.message == "нет связи" and shell.toast.serial == 1


def test_popups_stack_newest_first_and_stay_until_dismissed() -> None:
    stack = PopupStack()
    pushed: list[str] = []
    stack.bind(on_push=lambda _s, e: pushed.append(e.id))
    first = stack.push(PopupVM(title="ВХОДЯЩИЙ КОНТАКТ"))
    second = stack.push(PopupVM(title="ВХОДЯЩИЙ ВЫЗОВ"))
    assert stack.ids == [second, first] and pushed == [first, second]
    assert stack.dismiss(first) and stack.ids == [second]
    assert not stack.dismiss(first)  # twice is harmless
    stack.clear()
    assert stack.ids == []


def test_nav_lists_registered_screens_in_order_and_skips_hidden_ones() -> None:
    def factory(_app: Any) -> Any:
        raise AssertionError("not built by the view-model")

    nav = NavVM()
    nav.load(
        [
            ScreenSpec("settings", factory, "settings.title", "settings", 90),
            ScreenSpec("queue", factory, "queue.title", "queue", 20),
            ScreenSpec("card", factory, "card.title", "info", 5, nav=False),
        ]
    )
    assert [i.name for i in nav.items] == ["settings", "queue"]  # as given: load keeps order
    assert nav.current == "settings"
    nav.go("queue")
    assert nav.current == "queue"


def test_the_registry_sorts_by_rail_order(window: object) -> None:
    from lsnode.ui import screens

    names = [s.name for s in screens.load_all()]
    assert "settings" in names
    orders = [s.order for s in screens.specs()]
    assert orders == sorted(orders)


def test_settings_vm_switches_language_and_theme_and_shows_sync_state() -> None:
    from lsnode.ui.screens.settings import SettingsVM

    switched: list[tuple[str, str]] = []
    ctx = FakeContext(online=True, pending=0)
    vm = SettingsVM(
        ctx=ctx,
        profile=device("tablet"),
        data_dir="/srv/lsavto",
        set_lang=lambda lang: (switched.append(("lang", lang)), i18n.set_lang(lang)),
        set_theme=lambda name: switched.append(("theme", name)),
        lang="ru",
        theme_name="light",
    )
    assert vm.profile_text == "Планшет" and vm.window_text == "1280 × 800"
    assert vm.hub_text == "192.168.1.10:8765" and vm.state_text == "В сети"
    vm.choose_lang("en")
    vm.choose_theme("dark")
    assert switched == [("lang", "en"), ("theme", "dark")]
    assert vm.lang == "en" and vm.theme_name == "dark" and vm.profile_text == "Tablet"
    ctx.online, ctx.offline_since, ctx.pending = False, _at(9, 30), 12
    assert vm.state_text == "Offline since 03.12.2026 09:30"
    assert vm.pending_text == "12 changes waiting"
    ctx.paired = False
    assert vm.paired == "" and vm.hub_text == "No hub paired"
