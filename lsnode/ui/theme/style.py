"""The running theme: the design system's constants as Kivy properties kv can bind to.

``THEME`` is the one instance; ``lsnode.ui.boot.install()`` puts it into kv's global namespace
as ``theme``, so any kv rule writes ``color: theme.text`` or ``height: theme.touch`` and follows
a switch of palette (``THEME.use_palette("dark")``) or device profile (``THEME.use_device(…)``)
with no code in the screen. Colours are RGBA lists (``ColorProperty``); sizes are pixels,
already scaled from dp/sp, so kv never calls ``dp()`` on a theme value.

Tones (presence, traffic states, chips) are looked up in Python with ``THEME.tone_rgba(tone)``
by widgets that bind to ``palette_name`` — see ``widgets.Chip``.
"""

from __future__ import annotations

from typing import Any

from kivy.event import EventDispatcher
from kivy.metrics import dp, sp
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from lsnode.ui.theme import (
    DEFAULT_DEVICE,
    DEFAULT_THEME,
    DENSE,
    GRID,
    RADIUS,
    THEMES,
    DeviceProfile,
    Palette,
    device,
    hex_to_rgba,
)


class Theme(EventDispatcher):  # type: ignore[misc]
    """Colours and sizes of the running app; switch with ``use_palette`` / ``use_device``."""

    palette_name = StringProperty(DEFAULT_THEME)
    device_name = StringProperty(DEFAULT_DEVICE)
    profile: Any = ObjectProperty(None)
    nav_rail = BooleanProperty(True)
    public = BooleanProperty(False)  # the kiosk: hide who is signed in and their presence

    # colours (see theme.Palette for what each is for)
    bg = ColorProperty()
    surface = ColorProperty()
    surface_alt = ColorProperty()
    overlay = ColorProperty()
    divider = ColorProperty()
    text = ColorProperty()
    text_muted = ColorProperty()
    accent = ColorProperty()
    accent_ink = ColorProperty()
    accent_soft = ColorProperty()
    accent_soft_ink = ColorProperty()
    danger = ColorProperty()
    danger_ink = ColorProperty()
    scrim = ColorProperty()

    # sizes in px
    touch = NumericProperty(0)  # the minimum height of anything tappable
    row_height = NumericProperty(0)  # a table row: the touch target
    gap_xs = NumericProperty(0)  # DENSE: inside table cells
    gap = NumericProperty(0)  # GRID
    gap_m = NumericProperty(0)  # 2 × GRID
    gap_l = NumericProperty(0)  # 3 × GRID
    gap_xl = NumericProperty(0)  # 4 × GRID
    radius = NumericProperty(0)
    rail_width = NumericProperty(0)
    icon_size = NumericProperty(0)
    dot_size = NumericProperty(0)  # the presence dot
    fs_caption = NumericProperty(0)
    fs_body = NumericProperty(0)
    fs_title = NumericProperty(0)
    fs_headline = NumericProperty(0)
    fs_display = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._palette: Palette = THEMES[DEFAULT_THEME]
        self.use_palette(DEFAULT_THEME)
        self.use_device(DEFAULT_DEVICE)

    @property
    def palette(self) -> Palette:
        return self._palette

    def use_palette(self, name: str) -> None:
        """Switch light/dark at runtime; every bound colour follows."""
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}: one of {', '.join(THEMES)}")
        palette = THEMES[name]
        self._palette = palette
        for field in palette.colour_fields():
            setattr(self, field, hex_to_rgba(getattr(palette, field)))
        self.palette_name = name  # last: listeners of the name see the new colours

    def use_device(self, name_or_profile: str | DeviceProfile) -> None:
        """Set the device profile (chosen at start with ``--device``)."""
        profile = device(name_or_profile) if isinstance(name_or_profile, str) else name_or_profile
        self.touch = dp(profile.touch)
        self.row_height = dp(profile.touch)
        self.gap_xs = dp(DENSE)
        self.gap = dp(GRID)
        self.gap_m = dp(2 * GRID)
        self.gap_l = dp(3 * GRID)
        self.gap_xl = dp(4 * GRID)
        self.radius = dp(RADIUS)
        self.rail_width = dp(profile.rail_width)
        self.icon_size = sp(round(24 * profile.body_sp / 16))
        self.dot_size = dp(round(12 * profile.body_sp / 16))
        for role in ("caption", "body", "title", "headline", "display"):
            setattr(self, f"fs_{role}", sp(profile.font_sp(role)))
        self.nav_rail = profile.nav_rail
        self.public = profile.public
        self.profile = profile
        self.device_name = profile.name

    def tone_rgba(self, tone: str) -> tuple[list[float], list[float]]:
        """(background, text) RGBA of a tone in the current palette."""
        bg, fg = self._palette.tone(str(tone))
        return hex_to_rgba(bg), hex_to_rgba(fg)

    def rgba(self, field: str, alpha: float = 1.0) -> list[float]:
        """A palette colour with a different alpha (the scrim behind dialogs)."""
        return hex_to_rgba(getattr(self._palette, field), alpha)


THEME = Theme()
