"""Driving the real app frame by frame, without Kivy's blocking main loop.

Screenshots and rendering tests need the app exactly as users get it (same build, same kv,
same shell), but under their own control: show a screen, render, look, tap, switch language,
render again. ``Harness`` does what ``App.run()`` does up to ``on_start``, then lets the caller
advance frames (``pump``), capture PNGs (``screenshot``) and tap widgets (``tap``). Kivy allows
one window per process; a harness reuses it, so several apps can run one after another.

Kivy must have been configured first (``lsnode.ui.boot.configure`` or the test conftest).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.base import EventLoop
from kivy.tests.common import UnitTestTouch

from lsnode.ui.app import WorkstationApp


class Harness:
    """One app, mounted on the process's window, advanced by hand."""

    def __init__(self, app: WorkstationApp) -> None:
        self.app = app
        self.started = False

    @property
    def window(self) -> Any:
        EventLoop.ensure_window()
        return EventLoop.window

    def start(self, size: tuple[int, int] | None = None) -> Harness:
        window = self.window
        if size is not None and tuple(window.size) != tuple(size):
            window.size = size
        self.app._run_prepare()  # build, add root to the window, on_start (App.run's first half)
        self.started = True
        self.pump(3)
        return self

    def pump(self, frames: int = 2) -> None:
        """Advance ``frames`` frames: Clock callbacks, layout, canvas, input."""
        for _ in range(frames):
            EventLoop.idle()

    def settle(self, frames: int = 6) -> None:
        """Enough frames for layouts that depend on texture sizes to converge."""
        self.pump(frames)

    def screenshot(self, path: Path) -> Path:
        """Write the window to ``path`` (PNG)."""
        self.settle()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            written = self.window.screenshot(name=str(Path(tmp) / "shot.png"))
            os.replace(written, path)
        return path

    def tap(self, widget: Any) -> None:
        """A finger down and up on the middle of ``widget`` (after layout has settled)."""
        self.settle()
        x, y = widget.to_window(widget.center_x, widget.center_y)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.pump(1)
        touch.touch_up()
        self.pump(2)

    def stop(self) -> None:
        """``on_stop`` (closes the store and the runtime) and take the root off the window."""
        if not self.started:
            return
        self.started = False
        app = self.app
        app.dispatch("on_stop")
        window = self.window
        for child in list(window.children):
            window.remove_widget(child)
        if App._running_app is app:
            App._running_app = None
        self.pump(1)

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
