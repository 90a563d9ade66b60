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
    # the reception kiosk and pairing (codepoints from the font's own glyph names, MDI 7.4.47)
    "car-wrench": 0xF1814,
    "car-cog": 0xF13CC,
    "car-key": 0xF0B6D,
    "car-multiple": 0xF0B6E,
    "cash-multiple": 0xF0116,
    "comment-quote-outline": 0xF1022,
    "help-circle-outline": 0xF0625,
    "hand-wave-outline": 0xF1822,
    "backspace-outline": 0xF0B5C,
    "check-circle": 0xF05E0,
    "keyboard-outline": 0xF097B,
    "lan-connect": 0xF0318,
    "key-outline": 0xF0DD6,
    # the waiting queue, the traffic card and its dialogs
    "account-check-outline": 0xF0BE2,
    "account-switch": 0xF0019,
    "exit-run": 0xF0A48,
    "file-document-edit-outline": 0xF0DC9,
    "cancel": 0xF073A,
    "undo-variant": 0xF054D,
    "note-edit-outline": 0xF1782,
    "card-account-details-outline": 0xF0DAB,
    "text-box-outline": 0xF09ED,
    "radiobox-marked": 0xF043E,
    "radiobox-blank": 0xF043D,
    # journal, contact purposes, client card
    "arrow-right": 0xF0054,
    "play": 0xF040A,
    "eye-off-outline": 0xF06D1,
    "eye-outline": 0xF06D0,
    "account-arrow-right": 0xF0B53,
    "hand-back-right-outline": 0xF182D,
    "target": 0xF04FE,
    "email-outline": 0xF01F0,
    "file-document-outline": 0xF09EE,
    "shield-check-outline": 0xF0CC8,
    "phone-forward": 0xF03F4,
    "chevron-up": 0xF0143,
    "map-marker-outline": 0xF07D9,
    "account-tie": 0xF0CE3,
    "calendar-range": 0xF0679,
    "history": 0xF02DA,
    "toggle-switch": 0xF0521,
    "toggle-switch-off-outline": 0xF0A19,
    "check-circle-outline": 0xF05E1,
    "close-circle-outline": 0xF015A,
    "filter-remove-outline": 0xF0235,
    "minus-box-outline": 0xF06F2,
    "chart-box-outline": 0xF154E,
    # notifications (channels, templates, message journal) and service appointments
    "bell-outline": 0xF009C,
    "lightning-bolt": 0xF140B,
    "message-text-outline": 0xF036A,
    "lan": 0xF0317,
    "folder-outline": 0xF0256,
    "server-network": 0xF048D,
    "send-outline": 0xF1165,
    "content-save-outline": 0xF0818,
    "calendar-plus": 0xF00F3,
    "calendar-check": 0xF00EF,
    "refresh": 0xF0450,
    "code-braces": 0xF0169,
    "account-search-outline": 0xF0935,
    "wrench-outline": 0xF0BE0,
    # sign-in and the registration of incoming traffic (MDI 7.4.47 scss/_variables.scss)
    "login": 0xF0342,
    "account-plus-outline": 0xF0801,
    "phone-plus": 0xF0659,
    "flag-checkered": 0xF023C,
    "car-side": 0xF07AB,
    "cart-outline": 0xF0111,
    "message-reply-text-outline": 0xF173E,
    "dots-horizontal": 0xF01D8,
    # telephony: the call popup and the recording player (lsnode.ui.calls)
    "phone-outgoing": 0xF03FB,
    "phone-hangup": 0xF03F5,
    "phone-in-talk": 0xF03F6,
    "phone-off": 0xF0DEF,
    "stop": 0xF04DB,
    "pause": 0xF03E4,
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
