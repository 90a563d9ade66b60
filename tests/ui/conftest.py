"""UI tests: Kivy offscreen, configured before anything imports it.

The environment is set at import of this conftest — before any test module here imports
kivy — so no display is needed (SDL's offscreen driver over Mesa), Kivy leaves argv and the
user's ~/.kivy alone, and logs through Python's logging. Tests outside tests/ui never import
kivy. The window is created once per process (``window`` fixture) and shared: each rendering
test mounts its own app on it with ``lsnode.ui.harness.Harness``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "offscreen"
os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_LOG_MODE"] = "PYTHON"
os.environ["KIVY_NO_FILELOG"] = "1"
os.environ["KIVY_USE_DEFAULTCONFIG"] = "1"
os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="lsavto-kivy-test-")
os.environ["LSAVTO_I18N_STRICT"] = "1"  # a missing translation fails the test that shows it

import pytest

from lsnode.store.db import init_store
from lsnode.ui import boot
from lsnode.ui.theme import device

boot.configure(device("tablet"), headless=True)


@pytest.fixture(scope="session")
def window() -> object:
    """The process's one Kivy window (tablet size), with fonts and base widgets installed."""
    from kivy.base import EventLoop

    boot.install()
    EventLoop.ensure_window()
    return EventLoop.window


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A real, initialised node data dir (unpaired)."""
    path = tmp_path / "node"
    init_store(path).close()
    return path


@pytest.fixture(autouse=True)
def _russian_light_tablet() -> Iterator[None]:
    """Every test starts in the defaults and leaves them so (language, theme, profile)."""
    from lsnode.ui import i18n
    from lsnode.ui.theme.style import THEME

    yield
    i18n.set_lang("ru")
    THEME.use_palette("light")
    THEME.use_device("tablet")


# The node's demo data for view-model tests (a module sets DEMO_CLIENTS / DEMO_SEED to choose).
from tests.ui.node_world import demo, services, store  # noqa: E402, F401
