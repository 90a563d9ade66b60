"""The UI's subcommands of ``lsavto``: ``app`` and ``screenshots``.

``lsnode.cli`` calls ``add_commands(subparsers)``; nothing here imports Kivy until a command
runs, so ``lsavto --help`` and every other command stay free of it (``tests/test_layering``).

    lsavto app --data DIR [--device desk|tablet|kiosk] [--lang ru|en] [--theme light|dark]
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
    """Add ``app`` and ``screenshots`` to ``lsavto``'s subparsers."""
    p = sub.add_parser("app", help="start the workstation app (Kivy)")
    p.add_argument("--data", help="the node's data dir (default $LSAVTO_DATA)")
    p.add_argument("--device", choices=sorted(DEVICES), default=DEFAULT_DEVICE)
    p.add_argument("--lang", choices=LANGS, default="ru")
    p.add_argument("--theme", choices=sorted(THEMES), default=DEFAULT_THEME)
    p.add_argument("--screen", help="open this screen first (e.g. settings)")
    p.add_argument("--headless", action="store_true", help="offscreen SDL (no display)")
    p.set_defaults(func=cmd_app)

    p = sub.add_parser("screenshots", help="render every screen and popup to PNGs (offscreen)")
    p.add_argument("--data", help="the node's data dir (default $LSAVTO_DATA)")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    p.add_argument("--device", choices=[*sorted(DEVICES), "all"], default=DEFAULT_DEVICE)
    p.add_argument("--lang", default="ru,en", help="comma-separated: ru,en")
    p.add_argument("--theme", choices=[*sorted(THEMES), "all"], default=DEFAULT_THEME)
    p.set_defaults(func=cmd_screenshots)
