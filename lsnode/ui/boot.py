"""Starting Kivy the way the app needs it: two steps, in this order.

1. ``configure(device, headless=…, kivy_home=…)`` — *before the first import of kivy*: sets the
   environment Kivy reads at import (no argv parsing, no user config file, its home dir, the
   offscreen SDL driver for screenshots and tests) and the window size of the device profile.
2. ``install()`` — once per process, before any widget: registers Roboto (with Cyrillic) as
   the default font and the Material Design Icons font as ``Icons``, puts ``theme`` (the running
   ``Theme``), ``_`` (the translator) and ``glyph`` into kv's global namespace, and loads the
   shared ``theme/base.kv``.

Tests do step 1 in ``tests/ui/conftest.py`` (environment only) and step 2 through the app.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lsnode.ui.theme import DeviceProfile

_installed = False


def configure(
    profile: DeviceProfile, *, headless: bool = False, kivy_home: Path | None = None
) -> None:
    """Environment and window config for a run; call before Kivy creates its window."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # The product's look must not depend on a config.ini someone left in ~/.kivy.
    os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")  # not xsel/xclip, absent on kiosks
    if kivy_home is not None:
        kivy_home.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("KIVY_HOME", str(kivy_home))
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    if "kivy.core.window" in sys.modules:
        return  # the window exists: its size is set by resizing it, not by Config
    from kivy.config import Config

    Config.set("graphics", "width", str(profile.width))
    Config.set("graphics", "height", str(profile.height))
    Config.set("graphics", "minimum_width", "800")
    Config.set("graphics", "minimum_height", "600")
    Config.set("kivy", "exit_on_escape", "0")  # Esc closes a dialog, never the app
    Config.set("kivy", "log_level", os.environ.get("LSAVTO_KIVY_LOG", "warning"))
    # No red multitouch-emulation dots on right-click; touch screens give real multitouch.
    Config.set("input", "mouse", "mouse,multitouch_on_demand")


def install() -> None:
    """Fonts, kv globals and the base widgets' kv; idempotent."""
    global _installed
    if _installed:
        return
    from kivy.core.text import LabelBase
    from kivy.lang import Builder, global_idmap

    from lsnode.assets import asset
    from lsnode.ui import i18n
    from lsnode.ui.theme import icons
    from lsnode.ui.theme.style import THEME

    fonts = ("fonts",)
    LabelBase.register(
        "Roboto",
        str(asset(*fonts, "Roboto-Regular.ttf")),
        str(asset(*fonts, "Roboto-Italic.ttf")),
        str(asset(*fonts, "Roboto-Bold.ttf")),
        str(asset(*fonts, "Roboto-BoldItalic.ttf")),
    )
    LabelBase.register("Icons", str(asset(*fonts, icons.FONT_FILE)))
    global_idmap["theme"] = THEME
    global_idmap["_"] = i18n.TR
    global_idmap["glyph"] = icons.glyph

    from lsnode.ui.theme import widgets

    Builder.load_file(str(widgets.KV_FILE))
    _installed = True
