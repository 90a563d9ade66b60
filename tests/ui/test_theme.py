"""The design system as data: profiles, type scale, and WCAG contrast of every text pair."""

from __future__ import annotations

import pytest

from lsnode.ui.theme import (
    DEVICES,
    GRID,
    MIN_CONTRAST,
    THEMES,
    TYPE_SCALE,
    Tone,
    contrast_ratio,
    device,
    text_pairs,
)


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_every_text_pair_reaches_wcag_aa(theme: str) -> None:
    low = [
        (what, round(contrast_ratio(fg, bg), 2))
        for what, fg, bg in text_pairs(THEMES[theme])
        if contrast_ratio(fg, bg) < MIN_CONTRAST
    ]
    assert not low, f"{theme}: below {MIN_CONTRAST}:1: {low}"


def test_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)


def test_both_themes_define_every_tone() -> None:
    for palette in THEMES.values():
        for tone in Tone:
            palette.tone(tone.value)


def test_device_profiles_follow_the_design_card() -> None:
    assert {n: (p.size, p.touch, p.body_sp) for n, p in DEVICES.items()} == {
        "desk": ((1920, 1080), 40, 15),
        "tablet": ((1280, 800), 48, 16),
        "kiosk": ((1080, 1920), 96, 28),
    }
    assert not DEVICES["kiosk"].nav_rail and DEVICES["kiosk"].public
    tablet = device("tablet")
    assert [tablet.font_sp(r) for r in TYPE_SCALE] == [13, 16, 20, 28, 40]
    assert device("kiosk").font_sp("body") == 28
    assert all(p.rail_width % GRID == 0 for p in DEVICES.values())
    with pytest.raises(ValueError, match="unknown device"):
        device("phone")


def test_the_running_theme_switches_palette_and_profile(window: object) -> None:
    from kivy.metrics import dp

    from lsnode.ui.theme import hex_to_rgba
    from lsnode.ui.theme.style import THEME

    THEME.use_palette("dark")
    assert list(THEME.bg) == hex_to_rgba(THEMES["dark"].bg)
    THEME.use_device("kiosk")
    assert THEME.touch == dp(96) and not THEME.nav_rail
    with pytest.raises(ValueError):
        THEME.use_palette("sepia")
