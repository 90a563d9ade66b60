"""The real shell, rendered offscreen on the process's one window, driven by taps.

Each test mounts a fresh ``WorkstationApp`` on a real, unpaired data dir (sync off) with
``Harness`` and looks at widgets after rendering frames — no timing asserts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lsnode.sync.client import SyncStatus
from lsnode.ui import i18n, screens
from lsnode.ui.app import WorkstationApp
from lsnode.ui.harness import Harness
from lsnode.ui.shell import PopupVM

i18n.register({"test.probe": ("Проба", "Probe"), "test.probe_text": ("Экран-проба", "A probe")})


def _probe_screen(app: Any) -> Any:
    from kivy.lang import Builder

    screen = Builder.load_string(
        "LsScreen:\n"
        "    Field:\n"
        "        id: field\n"
        "        size_hint: 0.5, None\n"
        "        pos_hint: {'x': 0.1, 'center_y': 0.5}\n"
        "    BodyLabel:\n"
        "        id: label\n"
        "        text: _('test.probe_text')\n",
        rulesonly=False,
    )
    return screen


@pytest.fixture
def probe() -> Iterator[None]:
    """A second screen in the registry, so navigation has somewhere to go."""
    from lsnode.ui.screens import LsScreen

    def factory(app: Any) -> Any:
        screen = _probe_screen(app)
        assert isinstance(screen, LsScreen)
        return screen

    screens.load_all()
    screens.register("probe", factory, label="test.probe", icon="queue", order=20)
    yield
    screens._screens.pop("probe", None)


@pytest.fixture
def shell(window: object, data_dir: Path, probe: None) -> Iterator[Harness]:
    app = WorkstationApp(data_dir, sync=False, start_screen="settings")
    harness = Harness(app).start()
    yield harness
    harness.stop()


def _rail_item(h: Harness, name: str) -> Any:
    rail = h.app.root.ids.rail
    return next(c for c in rail.ids["rail_items"].children if c.name == name)


def test_the_rail_shows_registered_screens_in_order_and_switches_on_tap(shell: Harness) -> None:
    rail = shell.app.root.ids.rail
    names = [c.name for c in reversed(rail.ids["rail_items"].children)]
    orders = {spec.name: spec.order for spec in screens.specs()}
    assert {"probe", "settings"} <= set(names)  # and whatever screens the product has
    assert names == sorted(names, key=orders.__getitem__)  # in the registry's order
    manager = shell.app.root.ids.screens
    assert manager.current == "settings" and _rail_item(shell, "settings").selected
    shell.tap(_rail_item(shell, "probe"))
    assert manager.current == "probe"
    assert _rail_item(shell, "probe").selected and not _rail_item(shell, "settings").selected


def test_status_bar_shows_offline_online_and_pending_from_the_context(shell: Harness) -> None:
    ctx, bar = shell.app.ctx, shell.app.root.ids.status
    assert ctx is not None
    ctx.paired = True  # as if paired: the status now comes from the agent
    ctx.apply_status(SyncStatus(online=False, offline_since=1_800_000_000.0, pending=3))
    shell.pump()
    expected = "Не в сети с " + i18n.format_time(1_800_000_000.0)
    assert bar.ids.sync_text.text == expected
    assert bar.ids.pending_text.text == "3 изменения ждут отправки"
    ctx.apply_status(SyncStatus(online=True, pending=0))
    shell.pump()
    assert bar.ids.sync_text.text == "В сети"
    assert bar.ids.pending_text.text == "Все изменения отправлены"


def test_tapping_english_rerenders_every_label(shell: Harness) -> None:
    settings = shell.app.screen("settings")
    bar = shell.app.root.ids.status
    assert bar.ids.employee.text == "Вход не выполнен"
    shell.tap(settings.ids.lang_en)
    assert shell.app.lang == "en" and i18n.current_lang() == "en"
    assert bar.ids.employee.text == "Not signed in"
    assert bar.ids.sync_text.text == "No hub paired"
    assert settings.ids.sync_state.label == "State"
    rail_label = _rail_item(shell, "settings").children[0]
    assert rail_label.text == "Settings"
    shell.tap(_rail_item(shell, "probe"))
    assert shell.app.screen("probe").ids.label.text == "A probe"


def test_tapping_dark_switches_the_theme(shell: Harness) -> None:
    from lsnode.ui.theme import THEMES, hex_to_rgba
    from lsnode.ui.theme.style import THEME

    settings = shell.app.screen("settings")
    shell.tap(settings.ids.theme_dark)
    assert shell.app.theme_name == "dark" and THEME.palette_name == "dark"
    assert list(THEME.bg) == hex_to_rgba(THEMES["dark"].bg)
    assert settings.ids.theme_dark.selected and not settings.ids.theme_light.selected


def test_popups_stack_top_right_stay_and_never_take_focus(shell: Harness) -> None:
    shell.app.go("probe")
    field = shell.app.screen("probe").ids.field
    shell.tap(field)
    assert field.focus
    acted: list[str] = []
    first = shell.app.popups.push(PopupVM(title="ВХОДЯЩИЙ КОНТАКТ", text="Иванов В. А."))
    second = shell.app.popups.push(
        PopupVM(
            title="ВХОДЯЩИЙ ВЫЗОВ",
            text="+7 916 123-45-67",
            actions=[("Взять себе", lambda: acted.append("take"), "primary")],
        )
    )
    shell.pump(30)  # the slide-in finishes
    column = shell.app.root.ids.popups.ids.column
    cards = list(reversed(column.children))  # top to bottom
    assert [c.popup_id for c in cards] == [second, first]
    window = shell.window
    assert cards[0].right <= window.width and cards[0].top <= window.height
    assert cards[0].y > cards[1].top  # stacked, not overlapping
    assert field.focus  # typing continues where it was
    take = next(b for b in cards[0].ids.actions.children if getattr(b, "text", "") == "Взять себе")
    shell.tap(take)
    assert acted == ["take"] and shell.app.popups.ids == [first]
    shell.pump(2)
    assert [c.popup_id for c in column.children] == [first]


def test_an_error_toast_shows_the_users_message(shell: Harness) -> None:
    from lsnode.ui.context import HubUnavailable

    shell.app.shell.show_error(HubUnavailable("offline"))
    shell.pump()
    toast = shell.app.root.ids.toast
    assert toast.shown and toast.text.startswith("Нет связи с хабом")
    shell.tap(toast)
    assert not toast.shown


def test_a_data_change_refreshes_the_visible_screen(shell: Harness) -> None:
    settings = shell.app.screen("settings")
    ctx = shell.app.ctx
    assert ctx is not None and ctx.db is not None
    from lsnode.store.changes import Writer

    before = settings.vm.pending_text
    Writer(ctx.db).insert("regions", {"name": "Казань"})
    ctx.notify_local_change()
    shell.pump()
    assert settings.vm.pending_text != before
