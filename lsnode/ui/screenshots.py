"""``lsavto screenshots``: every registered screen and popup sample as PNGs, offscreen.

``render_all(data_dir, out_dir, device, langs)`` starts the app at the device's baseline size
with SDL's offscreen driver (no display needed), shows each screen of the registry and each
popup sample in each language, and writes ``<device>-<lang>-<screen>.png`` (popups as
``<device>-<lang>-popup-<name>.png``; with ``themes=("light", "dark")`` the dark ones get a
``-dark`` suffix). Sync stays off, so pictures show the data dir as it is.

Kivy has one window per process and its size is fixed at creation, so ``render_devices``
runs one subprocess per device (``python -m lsnode.ui.screenshots``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from lsnode.ui.theme import DEVICES, device


def render_all(
    data_dir: Path,
    out_dir: Path,
    device_name: str = "tablet",
    langs: Sequence[str] = ("ru", "en"),
    themes: Sequence[str] = ("light",),
) -> list[Path]:
    """Render in this process (configures Kivy if it is not imported yet)."""
    from lsnode.ui import boot

    profile = device(device_name)
    out_dir = Path(out_dir)
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")  # stdout lists the PNGs, nothing else
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    boot.configure(profile, headless=True, kivy_home=Path(tempfile.mkdtemp(prefix="lsavto-kivy-")))

    from lsnode.ui import screens
    from lsnode.ui.app import WorkstationApp
    from lsnode.ui.harness import Harness

    app = WorkstationApp(Path(data_dir), device=device_name, lang=langs[0], sync=False)
    written: list[Path] = []
    harness = Harness(app).start(size=profile.size)
    try:
        from lsnode.ui.screens.signin import sign_in_first_admin

        if sign_in_first_admin(app) is not None:  # screens as an administrator sees them
            app.popups.clear()  # their incoming contacts would cover every picture
        specs = screens.specs()
        base = next((s.name for s in specs if s.nav), specs[0].name if specs else "")
        for theme in themes:
            app.set_theme(theme)
            suffix = "" if theme == "light" else f"-{theme}"
            for lang in langs:
                app.set_lang(lang)
                for spec in specs:
                    app.go(spec.name)
                    sample = getattr(app.screen(spec.name), "screenshot_sample", None)
                    if sample is not None:  # a card reachable only from a row: show one
                        sample()
                    name = f"{device_name}-{lang}-{spec.name}{suffix}.png"
                    written.append(harness.screenshot(out_dir / name))
                for sample in screens.popup_samples():
                    if base:
                        app.go(base)
                    popup_id = app.popups.push(sample.factory(app))
                    harness.pump(20)  # let the slide-in finish
                    name = f"{device_name}-{lang}-popup-{sample.name}{suffix}.png"
                    written.append(harness.screenshot(out_dir / name))
                    app.popups.dismiss(popup_id)
    finally:
        harness.stop()
    return written


def render_devices(
    data_dir: Path,
    out_dir: Path,
    devices: Sequence[str],
    langs: Sequence[str] = ("ru", "en"),
    themes: Sequence[str] = ("light",),
) -> list[Path]:
    """One subprocess per device (each needs its own window size)."""
    written: list[Path] = []
    for name in devices:
        device(name)  # fail early on a typo
        cmd = [
            sys.executable,
            "-m",
            "lsnode.ui.screenshots",
            "--data",
            str(data_dir),
            "--out",
            str(out_dir),
            "--device",
            name,
            "--lang",
            ",".join(langs),
            "--theme",
            ",".join(themes),
        ]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        written += [Path(line) for line in out.splitlines() if line.endswith(".png")]
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lsnode.ui.screenshots")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", choices=sorted(DEVICES), default="tablet")
    parser.add_argument("--lang", default="ru,en")
    parser.add_argument("--theme", default="light")
    args = parser.parse_args(argv)
    paths = render_all(
        args.data, args.out, args.device, args.lang.split(","), args.theme.split(",")
    )
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
