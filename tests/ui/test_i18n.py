"""Translations: both languages for every key used, plural forms, runtime switch, formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import lsnode.ui
from lsnode.ui import i18n

UI_DIR = Path(lsnode.ui.__file__).parent
USED = re.compile(r"""(?<![\w.])(?:_|tr|i18n\.tr)\(\s*['"]([A-Za-z0-9_.]+)['"]\s*[,)]""")


def _load_every_ui_module() -> None:
    from lsnode.ui import app, calls, context, inbox, kiosk, screens, shell  # noqa: F401
    from lsnode.ui.theme import widgets  # noqa: F401

    screens.load_all()


def test_every_key_used_in_code_and_kv_has_both_languages() -> None:
    _load_every_ui_module()
    used: dict[str, str] = {}
    for path in sorted([*UI_DIR.rglob("*.py"), *UI_DIR.rglob("*.kv")]):
        if path.name == "i18n.py":  # its docstring shows the syntax with a placeholder key
            continue
        for key in USED.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, str(path.relative_to(UI_DIR)))
    assert len(used) > 20  # the scan finds the keys (guards the regex itself)
    missing = {key: where for key, where in used.items() if not i18n.has(key)}
    assert not missing, f"keys used but not registered: {missing}"
    for key in i18n.keys():  # noqa: SIM118  (a function, not a dict)
        ru, en = i18n.entry(key)
        assert ru.strip() and en.strip(), key
        assert ru.count("|") in (0, 2) and en.count("|") in (0, 1), f"{key}: plural forms"


def test_keys_built_at_runtime_exist_too() -> None:
    _load_every_ui_module()
    from lsnode.ui.shell import PRESENCE_STATES
    from lsnode.ui.theme import DEVICES

    dynamic = [f"presence.{s}" for s in PRESENCE_STATES]
    dynamic += [f"settings.device.{d}" for d in DEVICES]
    dynamic += ["ctx.offline", "ctx.not_paired", "ctx.timeout"]
    assert [k for k in dynamic if not i18n.has(k)] == []


def test_a_missing_key_fails_loudly_under_test() -> None:
    assert i18n.strict
    with pytest.raises(KeyError, match=r"no\.such\.key"):
        i18n.tr("no.such.key")


def test_register_refuses_half_translations_and_clashes() -> None:
    with pytest.raises(ValueError, match="empty"):
        i18n.register({"test.half": ("Только русский", "")})
    with pytest.raises(ValueError, match="tuple"):
        i18n.register({"test.one": ("Один",)})  # type: ignore[dict-item]
    i18n.register({"test.same": ("Да", "Yes")})
    i18n.register({"test.same": ("Да", "Yes")})  # a module reload is fine
    with pytest.raises(ValueError, match="twice"):
        i18n.register({"test.same": ("Нет", "No")})


@pytest.mark.parametrize(
    ("n", "ru", "en"),
    [
        (1, "1 изменение ждёт отправки", "1 change waiting"),
        (2, "2 изменения ждут отправки", "2 changes waiting"),
        (5, "5 изменений ждут отправки", "5 changes waiting"),
        (11, "11 изменений ждут отправки", "11 changes waiting"),
        (21, "21 изменение ждёт отправки", "21 changes waiting"),
        (104, "104 изменения ждут отправки", "104 changes waiting"),
        (112, "112 изменений ждут отправки", "112 changes waiting"),
    ],
)
def test_plural_forms(n: int, ru: str, en: str) -> None:
    from lsnode.ui import shell  # noqa: F401  (registers shell.pending)

    assert i18n.tr("shell.pending", lang="ru", n=n) == ru
    assert i18n.tr("shell.pending", lang="en", n=n) == en


def test_switching_language_reruns_kv_bindings_and_listeners() -> None:
    i18n.register({"test.hello": ("Привет", "Hello")})
    calls: list[Any] = []
    uid = i18n.TR.fbind("_", lambda *a: calls.append(a[-1]))

    class Listener:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def on_lang(self, lang: str) -> None:
            self.seen.append(lang)

    listener = Listener()
    i18n.on_lang_change(listener.on_lang)
    i18n.set_lang("en")
    assert i18n.TR("test.hello") == "Hello"
    assert calls == ["en"] and listener.seen == ["en"]
    i18n.TR.unbind_uid("_", uid)
    del listener  # held weakly: a dropped widget is not kept alive by the catalogue
    i18n.set_lang("ru")
    assert calls == ["en"]
    with pytest.raises(ValueError):
        i18n.set_lang("de")


def test_dates_show_in_the_dealers_zone_as_dd_mm_yyyy_hh_mm() -> None:
    i18n.set_timezone("Europe/Moscow")
    try:
        assert i18n.format_datetime("2026-12-03T11:05:00+00:00") == "03.12.2026 14:05"
        assert i18n.format_datetime("2026-12-03T11:05:00Z") == "03.12.2026 14:05"
        assert i18n.format_datetime("2026-12-31T22:30:00") == "01.01.2027 01:30"  # naive = UTC
        assert i18n.format_date("2026-12-31T22:30:00") == "01.01.2027"
        moment = datetime(2026, 12, 3, 11, 5, tzinfo=UTC)
        assert i18n.format_time(moment.timestamp()) == "14:05"
        assert i18n.format_datetime(None) == "" and i18n.format_datetime("") == ""
    finally:
        i18n.set_timezone(None)


@pytest.mark.parametrize(
    ("seconds", "ru", "en"),
    [
        (0, "< 1 мин", "< 1 min"),
        (59, "< 1 мин", "< 1 min"),
        (12 * 60 + 30, "12 мин", "12 min"),
        (65 * 60, "1 ч 05 мин", "1 h 05 min"),
        (26 * 3600 + 7 * 60, "26 ч 07 мин", "26 h 07 min"),
        (-5, "< 1 мин", "< 1 min"),
    ],
)
def test_waiting_times(seconds: float, ru: str, en: str) -> None:
    assert i18n.format_wait(seconds, "ru") == ru
    assert i18n.format_wait(seconds, "en") == en
