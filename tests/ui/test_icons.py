"""Every icon name the app uses is a glyph the shipped Material Design Icons font has."""

from __future__ import annotations

import struct

from lsnode.assets import asset
from lsnode.ui.theme import icons


def _cmap_codepoints(ttf: bytes) -> set[int]:
    """Codepoints of a TrueType font's format-12 (full Unicode) cmap subtable."""
    num_tables = struct.unpack(">H", ttf[4:6])[0]
    tables = {
        ttf[12 + 16 * i : 16 + 16 * i]: struct.unpack(">I", ttf[20 + 16 * i : 24 + 16 * i])[0]
        for i in range(num_tables)
    }
    cmap = tables[b"cmap"]
    count = struct.unpack(">H", ttf[cmap + 2 : cmap + 4])[0]
    found: set[int] = set()
    for i in range(count):
        _platform, _encoding, offset = struct.unpack(
            ">HHI", ttf[cmap + 4 + 8 * i : cmap + 12 + 8 * i]
        )
        sub = cmap + offset
        if struct.unpack(">H", ttf[sub : sub + 2])[0] != 12:
            continue
        groups = struct.unpack(">I", ttf[sub + 12 : sub + 16])[0]
        for g in range(groups):
            start, end, _glyph = struct.unpack(">III", ttf[sub + 16 + 12 * g : sub + 28 + 12 * g])
            found.update(range(start, end + 1))
    return found


def test_every_mapped_codepoint_is_in_the_font() -> None:
    have = _cmap_codepoints(asset("fonts", icons.FONT_FILE).read_bytes())
    missing = {name: hex(cp) for name, cp in icons.CODEPOINTS.items() if cp not in have}
    assert not missing


def test_aliases_name_real_icons_and_unknown_names_fail_loudly() -> None:
    for alias in icons.ALIASES:
        assert icons.glyph(alias)
    assert icons.glyph("") == ""
    try:
        icons.codepoint("no-such-icon")
    except KeyError as exc:
        assert "no-such-icon" in str(exc)
    else:
        raise AssertionError("an unknown icon must raise")


def test_fonts_and_their_licences_are_shipped() -> None:
    for name in ("Roboto-Regular.ttf", "Roboto-Bold.ttf", icons.FONT_FILE):
        assert asset("fonts", name).stat().st_size > 10_000
    assert "Apache" in asset("fonts", "LICENSE-Roboto.txt").read_text()
    assert "Apache" in asset("fonts", "LICENSE-materialdesignicons.txt").read_text()
