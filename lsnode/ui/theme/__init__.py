"""The design system as data: device profiles, type scale, spacing, colours (UI.md).

Screens never type a colour or a size: they read them from the running ``Theme`` (``style.py``,
bound in kv as ``theme.<name>``), which is built from the constants here. This module is plain
Python (no Kivy) so the palette can be checked for contrast without a window, and the hub's
reports can reuse the colours.

- ``DEVICES``: desk 1920×1080, tablet 1280×800 (default), kiosk 1080×1920; each with its touch
  target and body size. Sizes are in dp / sp (Kivy scales them to pixels).
- ``TYPE_SCALE``: caption 13, body 16, title 20, headline 28, display 40 sp at tablet size;
  a profile scales the whole ladder so that its body size holds (kiosk body 28 sp).
- ``GRID`` 8 dp spacing; ``DENSE`` 4 dp inside tables.
- ``LIGHT`` (default, showrooms are bright) and ``DARK`` palettes with the same fields.
- Tones: ``Tone`` names the coloured states the product shows — presence (Доступен /
  Занят / Нет на месте) and traffic state (new, in work, processed, ignored, lost) — each a
  (background, text) pair per palette, used by chips and dots alike.
- ``text_pairs(palette)`` lists every (text, background) pair the widgets draw; a test checks
  each against WCAG's 4.5:1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

GRID = 8  # dp: every margin, padding and gap is a multiple of this
DENSE = 4  # dp: inside dense tables
RADIUS = 8  # dp: corners of buttons, cards, chips
BASE_BODY_SP = 16

TYPE_SCALE: dict[str, int] = {
    "caption": 13,
    "body": 16,
    "title": 20,
    "headline": 28,
    "display": 40,
}
"""Font sizes (sp) at the tablet profile; other profiles scale them by ``body_sp / 16``."""


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """One kind of screen the app runs on; chosen at start with ``--device``."""

    name: str
    width: int  # baseline window, px
    height: int
    touch: int  # dp: minimum height of anything tappable
    body_sp: int
    nav_rail: bool  # the kiosk has no navigation
    rail_width: int  # dp
    public: bool = False  # faces visitors: no employee, no presence, nobody's data

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def font_sp(self, role: str) -> int:
        """The type-scale size of ``role`` for this device (sp)."""
        if role == "body":
            return self.body_sp
        return round(TYPE_SCALE[role] * self.body_sp / BASE_BODY_SP)


DEVICES: dict[str, DeviceProfile] = {
    "desk": DeviceProfile("desk", 1920, 1080, 40, 15, True, 96),
    "tablet": DeviceProfile("tablet", 1280, 800, 48, 16, True, 104),
    "kiosk": DeviceProfile("kiosk", 1080, 1920, 96, 28, False, 0, public=True),
}
DEFAULT_DEVICE = "tablet"


def device(name: str) -> DeviceProfile:
    try:
        return DEVICES[name]
    except KeyError:
        raise ValueError(f"unknown device {name!r}: one of {', '.join(DEVICES)}") from None


class Tone(StrEnum):
    """A coloured state; chips, dots and row markers take their colours from it."""

    NEUTRAL = "neutral"
    ACCENT = "accent"
    DANGER = "danger"
    AVAILABLE = "available"  # Доступен
    BUSY = "busy"  # Занят
    AWAY = "away"  # Нет на месте
    NEW = "new"  # new / unprocessed traffic
    IN_WORK = "in_work"
    PROCESSED = "processed"
    IGNORED = "ignored"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of one theme, as ``#rrggbb``. Field names are the names kv uses."""

    name: str
    bg: str  # the window behind everything
    surface: str  # cards, tables, rail
    surface_alt: str  # zebra rows, section headers
    overlay: str  # the status bar, table headers
    divider: str
    text: str
    text_muted: str  # captions, secondary facts
    accent: str  # primary actions, the selected nav item
    accent_ink: str
    accent_soft: str  # selected nav background, focused field outline
    accent_soft_ink: str
    danger: str  # destructive actions, error toasts
    danger_ink: str
    scrim: str  # behind modal dialogs (drawn with alpha)
    tones: tuple[tuple[str, str, str], ...]  # (tone, background, text)

    def tone(self, tone: str) -> tuple[str, str]:
        """(background, text) of a tone; an unknown tone is a bug, so it raises."""
        for name, bg, fg in self.tones:
            if name == tone:
                return bg, fg
        raise KeyError(f"no tone {tone!r} in the {self.name} palette")

    def colour_fields(self) -> list[str]:
        return [f.name for f in fields(self) if f.name not in ("name", "tones")]


LIGHT = Palette(
    name="light",
    bg="#f3f5f8",
    surface="#ffffff",
    surface_alt="#eef1f5",
    overlay="#e6eaf0",
    divider="#d3d9e1",
    text="#1a1f26",
    text_muted="#55606d",
    accent="#1659b8",
    accent_ink="#ffffff",
    accent_soft="#dce8f8",
    accent_soft_ink="#0f468f",
    danger="#c0282d",
    danger_ink="#ffffff",
    scrim="#0b0f14",
    tones=(
        ("neutral", "#e1e6ed", "#1a1f26"),
        ("accent", "#1659b8", "#ffffff"),
        ("danger", "#c0282d", "#ffffff"),
        ("available", "#1f7a3a", "#ffffff"),
        ("busy", "#c0282d", "#ffffff"),
        ("away", "#6b7480", "#ffffff"),
        ("new", "#f2a900", "#1a1f26"),
        ("in_work", "#1f6fd1", "#ffffff"),
        ("processed", "#1f7a3a", "#ffffff"),
        ("ignored", "#6b7480", "#ffffff"),
        ("lost", "#c0282d", "#ffffff"),
    ),
)

DARK = Palette(
    name="dark",
    bg="#0f1216",
    surface="#181c22",
    surface_alt="#1f242b",
    overlay="#232931",
    divider="#333b46",
    text="#e7eaee",
    text_muted="#a3acb8",
    accent="#6aa8f7",
    accent_ink="#0b1522",
    accent_soft="#1c3253",
    accent_soft_ink="#cfe2fd",
    danger="#f07178",
    danger_ink="#1e0709",
    scrim="#000000",
    tones=(
        ("neutral", "#2e353f", "#e7eaee"),
        ("accent", "#6aa8f7", "#0b1522"),
        ("danger", "#f07178", "#1e0709"),
        ("available", "#4cc07a", "#08160d"),
        ("busy", "#f07178", "#1e0709"),
        ("away", "#8d96a3", "#0f1216"),
        ("new", "#f5b83d", "#1a1303"),
        ("in_work", "#6aa8f7", "#0b1522"),
        ("processed", "#4cc07a", "#08160d"),
        ("ignored", "#8d96a3", "#0f1216"),
        ("lost", "#f07178", "#1e0709"),
    ),
)

THEMES: dict[str, Palette] = {"light": LIGHT, "dark": DARK}
DEFAULT_THEME = "light"

MIN_CONTRAST = 4.5  # WCAG 2.x AA for body text


def text_pairs(p: Palette) -> list[tuple[str, str, str]]:
    """Every (what, text colour, background) the base widgets draw; all must reach 4.5:1."""
    pairs = []
    for surface in ("bg", "surface", "surface_alt", "overlay"):
        pairs.append((f"text on {surface}", p.text, getattr(p, surface)))
        pairs.append((f"text_muted on {surface}", p.text_muted, getattr(p, surface)))
    pairs += [
        ("flat button (accent) on surface", p.accent, p.surface),
        ("flat button (accent) on bg", p.accent, p.bg),
        ("flat danger on surface", p.danger, p.surface),
        ("primary button", p.accent_ink, p.accent),
        ("danger button", p.danger_ink, p.danger),
        ("selected nav item", p.accent_soft_ink, p.accent_soft),
    ]
    for name, bg, fg in p.tones:
        pairs.append((f"chip {name}", fg, bg))
    return pairs


def hex_to_rgba(colour: str, alpha: float = 1.0) -> list[float]:
    """``#rrggbb`` → Kivy's [r, g, b, a] in 0..1."""
    c = colour.lstrip("#")
    if len(c) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    return [int(c[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [alpha]


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b, _ = hex_to_rgba(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG contrast ratio (1..21) between two opaque colours."""
    a, b = relative_luminance(fg), relative_luminance(bg)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)
