"""Material Design Icons by name: the codepoints of the icons the app uses.

The font is ``assets/fonts/materialdesignicons-webfont.ttf`` from the npm package ``@mdi/font``
7.4.47 (Apache-2.0, licence beside it). Codepoints are copied from that package's
``scss/_variables.scss`` — never guessed; ``tests/ui/test_icons.py`` checks each one is in the
font's character map. To add an icon: look its name up on pictogrammers.com (or in the scss of
the same version), add the line here, and the test proves it. ``ALIASES`` names what an icon
means in the product (``"queue"``), so screens do not repeat the MDI name.

Plain Python: the ``Icon`` widget (``lsnode.ui.theme.widgets``) turns a name into its glyph.
"""

from __future__ import annotations

MDI_VERSION = "7.4.47"
FONT_FILE = "materialdesignicons-webfont.ttf"

CODEPOINTS: dict[str, int] = {
    "phone": 0xF03F2,
    "phone-incoming": 0xF03F7,
    "phone-missed": 0xF03FA,
    "walk": 0xF0583,
    "web": 0xF059F,
    "account": 0xF0004,
    "account-circle": 0xF0009,
    "account-outline": 0xF0013,
    "account-clock": 0xF0B56,
    "account-group": 0xF0849,
    "account-multiple": 0xF000E,
    "clock-outline": 0xF0150,
    "timer-sand": 0xF051F,
    "calendar-clock": 0xF00F0,
    "human-queue": 0xF1571,
    "notebook-outline": 0xF0EBF,
    "cog": 0xF0493,
    "magnify": 0xF0349,
    "filter-variant": 0xF0236,
    "check": 0xF012C,
    "close": 0xF0156,
    "plus": 0xF0415,
    "pencil-outline": 0xF0CB6,
    "delete-outline": 0xF09E7,
    "swap-horizontal": 0xF04E1,
    "sync": 0xF04E6,
    "cloud-outline": 0xF0163,
    "cloud-off-outline": 0xF0164,
    "cloud-check-outline": 0xF1BEC,
    "cloud-upload-outline": 0xF0B7E,
    "upload-outline": 0xF0E07,
    "translate": 0xF05CA,
    "theme-light-dark": 0xF050E,
    "weather-night": 0xF0594,
    "white-balance-sunny": 0xF05A8,
    "monitor": 0xF0379,
    "tablet": 0xF04F6,
    "cellphone": 0xF011C,
    "alert-circle-outline": 0xF05D6,
    "information-outline": 0xF02FD,
    "chevron-right": 0xF0142,
    "chevron-down": 0xF0140,
    "chevron-left": 0xF0141,
    "menu-down": 0xF035D,
    "arrow-left": 0xF004D,
    "bullhorn-outline": 0xF0B23,
    "clipboard-check-outline": 0xF08A8,
    "message-alert-outline": 0xF0A04,
    "chart-bar": 0xF0128,
    "car": 0xF010B,
    "circle": 0xF0765,
    "checkbox-marked": 0xF0132,
    "checkbox-blank-outline": 0xF0131,
    "logout": 0xF0343,
    "lock-outline": 0xF0341,
}

ALIASES: dict[str, str] = {
    # navigation
    "traffic": "walk",
    "queue": "human-queue",
    "journal": "notebook-outline",
    "clients": "account-group",
    "campaigns": "bullhorn-outline",
    "tasks": "clipboard-check-outline",
    "appeals": "message-alert-outline",
    "reports": "chart-bar",
    "settings": "cog",
    # traffic types
    "call": "phone",
    "visit": "walk",
    "internet": "web",
    # sync state
    "online": "cloud-check-outline",
    "offline": "cloud-off-outline",
    "pending": "cloud-upload-outline",
    "clock": "clock-outline",
    "search": "magnify",
    "error": "alert-circle-outline",
    "info": "information-outline",
}


def codepoint(name: str) -> int:
    """The codepoint of an MDI name or a product alias; an unknown name is a bug: KeyError."""
    key = ALIASES.get(name, name)
    try:
        return CODEPOINTS[key]
    except KeyError:
        raise KeyError(f"icon {name!r} is not in lsnode.ui.theme.icons.CODEPOINTS") from None


def glyph(name: str) -> str:
    """The one-character string to show with the icon font (empty name → empty string)."""
    return chr(codepoint(name)) if name else ""
