"""Translations (Russian default, English switchable at runtime) and display formats.

Each screen module owns its strings and registers them at import::

    STRINGS = {
        "traffic.register": ("Зарегистрировать", "Register"),
        "traffic.count": ("{n} из {total}", "{n} of {total}"),
        "sync.pending": (
            "{n} изменение ждёт отправки|{n} изменения ждут отправки|{n} изменений ждут отправки",
            "{n} change waiting|{n} changes waiting",
        ),
    }
    i18n.register(STRINGS)

Keys are ``<screen>.<name>``; the tuple is (ru, en). A text with ``|`` is a plural entry: three
Russian forms (1 / 2–4 / 5+) and two English ones, chosen by the ``n`` argument.

In kv, ``_('key')`` is the translation *and* a binding: kv's parser watches any ``_(`` call, and
``_`` here is an ``Observable`` (Kivy's i18n idiom) that re-evaluates every such rule when the
language changes — ``text: _('settings.title')`` re-renders on switch with no extra code. ``_``
is put into kv's global namespace by ``lsnode.ui.boot.install()``. In Python, ``tr(key, **fmt)``.

A missing key is a bug: with ``strict`` (tests: ``LSAVTO_I18N_STRICT=1``) it raises
``KeyError``; in the running app it is logged and shown as ``⟨key⟩`` rather than crashing a
frame. ``tests/ui/test_i18n.py`` scans every ``_('…')`` / ``tr('…')`` in ``lsnode/ui`` and checks
each key exists in both languages.

Instants are stored in UTC ISO-8601 and shown in the dealer's time zone (``set_timezone``;
the machine's zone by default) as ``ДД.ММ.ГГГГ ЧЧ:ММ`` (the brochure's format, in both
languages); waiting times as «12 мин» / «1 ч 05 мин».
"""

from __future__ import annotations

import inspect
import logging
import os
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from kivy.event import Observable

log = logging.getLogger("lsavto.ui.i18n")

LANGS = ("ru", "en")
DEFAULT_LANG = "ru"
LANG_NAMES = {"ru": "Русский", "en": "English"}

_catalogue: dict[str, tuple[str, str]] = {}
_lang = DEFAULT_LANG
_tz: tzinfo | None = None
strict = os.environ.get("LSAVTO_I18N_STRICT") == "1"


def register(strings: Mapping[str, tuple[str, str]]) -> None:
    """Add a screen's strings; re-registering the same text is fine (module reloads), a clash
    with different text is a bug and raises."""
    for key, pair in strings.items():
        if not isinstance(pair, tuple) or len(pair) != len(LANGS):
            raise ValueError(f"translation {key!r} must be a (ru, en) tuple, got {pair!r}")
        if not all(isinstance(text, str) and text for text in pair):
            raise ValueError(f"translation {key!r} has an empty language: {pair!r}")
        old = _catalogue.get(key)
        if old is not None and old != pair:
            raise ValueError(f"translation {key!r} registered twice with different text")
        _catalogue[key] = pair


def keys() -> list[str]:
    return sorted(_catalogue)


def has(key: str) -> bool:
    return key in _catalogue


def entry(key: str) -> tuple[str, str]:
    """The raw (ru, en) texts of a key, placeholders unformatted."""
    return _catalogue[key]


def current_lang() -> str:
    return _lang


def _ru_form(n: int) -> int:
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def _pick_plural(text: str, lang: str, n: int) -> str:
    forms = text.split("|")
    index = _ru_form(n) if lang == "ru" else (0 if abs(n) == 1 else 1)
    return forms[min(index, len(forms) - 1)]


def tr(key: str, lang: str | None = None, **fmt: Any) -> str:
    """The text of ``key`` in ``lang`` (the current language by default), formatted with
    ``fmt``; a plural entry picks its form by ``n``."""
    lang = lang or _lang
    pair = _catalogue.get(key)
    if pair is None:
        if strict:
            raise KeyError(f"no translation for {key!r}: register it in its screen's STRINGS")
        log.error("missing translation %r", key)
        return f"⟨{key}⟩"
    text = pair[LANGS.index(lang)]
    if "|" in text:
        text = _pick_plural(text, lang, int(fmt.get("n", 0)))
    return text.format(**fmt) if fmt else text


class Translator(Observable):  # type: ignore[misc]
    """``_`` in kv: call it to translate; kv binds to it and re-runs rules on ``set_lang``.

    kv's parser turns every ``_(`` in a rule into a binding on the name ``_`` (``fbind('_',
    …)``); we keep those observers and call them when the language changes."""

    def __init__(self) -> None:
        super().__init__()
        self._observers: list[tuple[int, Callable[..., Any], tuple[Any, ...], dict[str, Any]]]
        self._observers = []
        self._next_uid = 1

    def __call__(self, key: str, **fmt: Any) -> str:
        return tr(key, **fmt)

    def fbind(self, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
        if name != "_":
            return int(super().fbind(name, func, *args, **kwargs))
        uid = self._next_uid
        self._next_uid += 1
        self._observers.append((uid, func, args, kwargs))
        return uid

    def funbind(self, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if name != "_":
            super().funbind(name, func, *args, **kwargs)
            return
        for i, (_uid, f, a, kw) in enumerate(self._observers):
            if f == func and a == args and kw == kwargs:
                del self._observers[i]
                return

    def unbind_uid(self, name: str, uid: int) -> None:
        if name != "_":
            super().unbind_uid(name, uid)
            return
        self._observers = [o for o in self._observers if o[0] != uid]

    @property
    def observer_count(self) -> int:
        return len(self._observers)

    def notify(self) -> None:
        """Re-run every kv rule that used ``_(…)`` (main thread only). A rule of a widget that
        is gone (a dismissed dialog or popup) raises ``ReferenceError``: it is dropped. Any
        other failure of one rule is logged and the others still switch (a missing key still
        raises with ``strict``)."""
        dead = []
        for uid, func, args, kwargs in list(self._observers):
            try:
                func(*args, self, _lang, **kwargs)
            except ReferenceError:
                dead.append(uid)
            except KeyError:
                if strict:
                    raise
                log.exception("a kv rule failed to switch language")
            except Exception:  # e.g. a rule of an app that has stopped (``app`` is gone)
                log.exception("a kv rule failed to switch language")
        if dead:
            self._observers = [o for o in self._observers if o[0] not in dead]


TR = Translator()
_lang_listeners: list[Callable[[], Callable[[str], None] | None]] = []


def on_lang_change(listener: Callable[[str], None]) -> None:
    """Call ``listener(lang)`` after each switch (view-models and widgets that build strings
    in Python). A bound method is held weakly, so a dropped widget is not kept alive."""
    if inspect.ismethod(listener):
        ref: Callable[[], Callable[[str], None] | None] = weakref.WeakMethod(listener)
    else:
        ref = lambda: listener  # noqa: E731
    _lang_listeners.append(ref)


def set_lang(lang: str) -> None:
    """Switch the language for the whole app and re-render every bound label (main thread)."""
    global _lang
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: one of {', '.join(LANGS)}")
    if lang == _lang:
        return
    _lang = lang
    TR.notify()
    for ref in list(_lang_listeners):
        listener = ref()
        if listener is None:
            _lang_listeners.remove(ref)
        else:
            listener(lang)


# --- time ------------------------------------------------------------------------------------


def set_timezone(tz: tzinfo | str | None) -> None:
    """The dealer's time zone for display (an IANA name or tzinfo); None = this machine's."""
    global _tz
    _tz = ZoneInfo(tz) if isinstance(tz, str) else tz


def parse_utc(iso: str) -> datetime:
    """A stored instant (ISO-8601, UTC; a naive one is taken as UTC)."""
    moment = datetime.fromisoformat(iso)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def local(moment: datetime | str | float) -> datetime:
    """An instant (aware datetime, ISO string or epoch seconds) in the dealer's zone."""
    if isinstance(moment, str):
        moment = parse_utc(moment)
    elif isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_tz) if _tz is not None else moment.astimezone()


def format_datetime(moment: datetime | str | float | None) -> str:
    """``ДД.ММ.ГГГГ ЧЧ:ММ`` in the dealer's zone; empty for no value."""
    if moment is None or moment == "":
        return ""
    return local(moment).strftime("%d.%m.%Y %H:%M")


def format_date(moment: datetime | str | float | None) -> str:
    if moment is None or moment == "":
        return ""
    return local(moment).strftime("%d.%m.%Y")


def format_time(moment: datetime | str | float | None) -> str:
    """``ЧЧ:ММ`` in the dealer's zone (e.g. «не в сети с 14:05»)."""
    if moment is None or moment == "":
        return ""
    return local(moment).strftime("%H:%M")


def format_wait(seconds: float, lang: str | None = None) -> str:
    """A waiting time: «< 1 мин», «12 мин», «1 ч 05 мин» (en: "< 1 min", "1 h 05 min")."""
    lang = lang or _lang
    minutes = max(0, int(seconds)) // 60
    if lang == "ru":
        less, m_unit, h_unit = "< 1 мин", "мин", "ч"
    else:
        less, m_unit, h_unit = "< 1 min", "min", "h"
    if minutes == 0:
        return less
    if minutes < 60:
        return f"{minutes} {m_unit}"
    hours, rest = divmod(minutes, 60)
    return f"{hours} {h_unit} {rest:02d} {m_unit}"
