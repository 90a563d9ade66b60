"""The UI's subcommands of ``lsavto``: ``app``, ``kiosk`` and ``screenshots``.

``lsnode.cli`` calls ``add_commands(subparsers)``; nothing here imports Kivy until a command
runs, so ``lsavto --help`` and every other command stay free of it (``tests/test_layering``).

    lsavto app --data DIR [--device desk|tablet|kiosk] [--lang ru|en] [--theme light|dark]
    lsavto kiosk --data DIR [--device kiosk] [--pair] [--windowed] [--screenshots DIR]
    lsavto screenshots --data DIR --out DIR [--device tablet|desk|kiosk|all] [--lang ru,en]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lsnode.ui.theme import DEFAULT_DEVICE, DEFAULT_THEME, DEVICES, THEMES, device

LANGS = ("ru", "en")


def _data_dir(args: argparse.Namespace) -> Path:
    from lsnode.paths import default_data_dir

    return Path(args.data).expanduser() if args.data else default_data_dir()


def cmd_app(args: argparse.Namespace) -> int:
    """Start the workstation app (a real window; ``--headless`` for an offscreen run)."""
    from lsnode.store.db import open_store
    from lsnode.ui import boot

    data = _data_dir(args)
    open_store(data).close()  # a missing or foreign data dir is a one-line error, not a window
    boot.configure(device(args.device), headless=args.headless, kivy_home=data / "kivy")

    from lsnode.ui.app import WorkstationApp

    WorkstationApp(
        data, device=args.device, lang=args.lang, theme=args.theme, start_screen=args.screen
    ).run()
    return 0


def cmd_kiosk(args: argparse.Namespace) -> int:
    """Start the reception kiosk: full screen, no navigation, nobody's data
    (``lsnode.ui.kiosk``); ``--screenshots DIR`` renders its steps offscreen instead."""
    from lsnode.store.db import open_store
    from lsnode.ui import boot

    data = _data_dir(args)
    open_store(data).close()
    interfaces = [v.strip() for v in (args.mdns_interface or "").split(",") if v.strip()]
    langs = [x for x in args.lang.split(",") if x]
    for lang in langs:
        if lang not in LANGS:
            from lsnode.errors import InputError

            raise InputError(f"unknown language {lang!r}: one of {', '.join(LANGS)}")
    if args.screenshots:
        import os

        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")  # stdout lists the PNGs, nothing else
        boot.configure(device(args.device), headless=True, kivy_home=data / "kivy")
        from lsnode.ui.kiosk import render_screenshots

        for path in render_screenshots(data, Path(args.screenshots), langs, args.device):
            print(path)
        return 0
    boot.configure(device(args.device), headless=args.headless, kivy_home=data / "kivy")
    if not args.windowed and not args.headless:
        from kivy.config import Config

        Config.set("graphics", "fullscreen", "auto")  # the whole screen, whatever its size

    from lsnode.ui.kiosk import KioskApp

    KioskApp(
        data,
        device=args.device,
        lang=langs[0] if langs else "ru",
        theme=args.theme,
        pair=args.pair,
        mdns_interfaces=interfaces or None,
    ).run()
    return 0


def cmd_screenshots(args: argparse.Namespace) -> int:
    from lsnode.store.db import open_store
    from lsnode.ui.screenshots import render_devices

    data = _data_dir(args)
    open_store(data).close()
    devices = sorted(DEVICES) if args.device == "all" else [args.device]
    langs = [x for x in args.lang.split(",") if x]
    for lang in langs:
        if lang not in LANGS:
            from lsnode.errors import InputError

            raise InputError(f"unknown language {lang!r}: one of {', '.join(LANGS)}")
    themes = sorted(THEMES) if args.theme == "all" else [args.theme]
    written = render_devices(data, Path(args.out), devices, langs, themes)
    for path in written:
        print(path)
    return 0


def add_commands(sub: Any) -> None:
    """Add ``app``, ``kiosk`` and ``screenshots`` to ``lsavto``'s subparsers."""
    p = sub.add_parser("app", help="start the workstation app (Kivy)")
    p.add_argument("--data", help="the node's data dir (default $LSAVTO_DATA)")
    p.add_argument("--device", choices=sorted(DEVICES), default=DEFAULT_DEVICE)
    p.add_argument("--lang", choices=LANGS, default="ru")
    p.add_argument("--theme", choices=sorted(THEMES), default=DEFAULT_THEME)
    p.add_argument("--screen", help="open this screen first (e.g. settings)")
    p.add_argument("--headless", action="store_true", help="offscreen SDL (no display)")
    p.set_defaults(func=cmd_app)

    p = sub.add_parser("kiosk", help="start the reception kiosk (Kivy, full screen)")
    p.add_argument("--data", help="the node's data dir (default $LSAVTO_DATA)")
    p.add_argument("--device", choices=sorted(DEVICES), default="kiosk")
    p.add_argument("--lang", default="ru", help="ru or en (with --screenshots: ru,en)")
    p.add_argument("--theme", choices=sorted(THEMES), default=DEFAULT_THEME)
    p.add_argument("--pair", action="store_true", help="open the pairing screen first")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument("--headless", action="store_true", help="offscreen SDL (no display)")
    p.add_argument("--mdns-interface", help="find the hub by zeroconf on these IPs")
    p.add_argument("--screenshots", metavar="DIR", help="render the kiosk's steps to PNGs here")
    p.set_defaults(func=cmd_kiosk)

    p = sub.add_parser("screenshots", help="render every screen and popup to PNGs (offscreen)")
    p.add_argument("--data", help="the node's data dir (default $LSAVTO_DATA)")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    p.add_argument("--device", choices=[*sorted(DEVICES), "all"], default=DEFAULT_DEVICE)
    p.add_argument("--lang", default="ru,en", help="comma-separated: ru,en")
    p.add_argument("--theme", choices=[*sorted(THEMES), "all"], default=DEFAULT_THEME)
    p.set_defaults(func=cmd_screenshots)
