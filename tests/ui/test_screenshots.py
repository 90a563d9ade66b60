"""``lsavto screenshots`` and ``lsavto app``: PNGs of every screen and popup sample; the CLI
module stays free of Kivy until a command runs."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from lsnode.ui import screens
from lsnode.ui.shell import PopupVM

PNG = b"\x89PNG\r\n\x1a\n"


def test_render_all_writes_each_screen_and_popup_sample_per_language(
    window: object, data_dir: Path, tmp_path: Path
) -> None:
    from lsnode.ui.screenshots import render_all

    screens.register_popup_sample(
        "test-contact",
        lambda app: PopupVM(
            title="ВХОДЯЩИЙ КОНТАКТ",
            text="Иванов Василий Алибабаевич · Mercedes-Benz E 220 CDI",
            icon="visit",
            actions=[("Взять себе", None, "primary"), ("Позже", None, "flat")],
        ),
    )
    try:
        written = render_all(data_dir, tmp_path / "shots", "tablet", ("ru", "en"))
    finally:
        screens._popups.pop("test-contact", None)
    names = sorted(p.name for p in written)
    for lang in ("ru", "en"):
        assert f"tablet-{lang}-settings.png" in names
        assert f"tablet-{lang}-popup-test-contact.png" in names
    for path in written:
        assert path.read_bytes()[:8] == PNG


def test_cli_defines_app_and_screenshots() -> None:
    from lsnode.ui.cli import add_commands, cmd_app, cmd_screenshots

    parser = argparse.ArgumentParser(prog="lsavto")
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["app", "--data", "/d", "--device", "kiosk", "--lang", "en"])
    assert (args.func, args.device, args.lang, args.theme) == (cmd_app, "kiosk", "en", "light")
    args = parser.parse_args(["screenshots", "--data", "/d", "--out", "/o", "--device", "all"])
    assert (args.func, args.out, args.device, args.lang) == (cmd_screenshots, "/o", "all", "ru,en")


def test_the_cli_module_imports_no_kivy() -> None:
    code = (
        "import json, sys, argparse\n"
        "import lsnode.ui.cli as c\n"
        "c.add_commands(argparse.ArgumentParser().add_subparsers())\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "kivy" not in json.loads(out.stdout)


def test_app_refuses_a_data_dir_that_is_not_one(tmp_path: Path) -> None:
    from lsnode.errors import DataDirError
    from lsnode.ui.cli import add_commands

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    args = parser.parse_args(["app", "--data", str(tmp_path / "missing")])
    try:
        args.func(args)
    except DataDirError as exc:
        assert "lsavto init" in str(exc)
    else:
        raise AssertionError("a missing data dir must be refused before any window opens")
