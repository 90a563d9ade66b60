"""The call popup in the real shell, offscreen: a call row arriving pops the card up in the popup
column, taps work on it, and the status bar shows the SIP line. No timing asserts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from lsnode.cli import seed_demo
from lsnode.clock import instant
from lsnode.store.changes import Writer
from lsnode.ui.app import WorkstationApp
from lsnode.ui.calls import CallCard, CallWatcher
from lsnode.ui.harness import Harness
from lsnode.ui.screens.signin import sign_in_first_admin


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "node"
    seed_demo(path, clients=20, seed=7, today=date(2026, 12, 3))
    return path


@pytest.fixture
def app(window: object, demo: Path, tmp_path: Path) -> Iterator[Harness]:
    data = tmp_path / "node"
    shutil.copytree(demo, data)
    harness = Harness(WorkstationApp(data, sync=False)).start()
    yield harness
    harness.stop()


def _cards(h: Harness) -> list[CallCard]:
    column = h.app.root.ids.popups.ids.column
    return [c for c in column.children if isinstance(c, CallCard)]


def _button(card: Any, text: str) -> Any:
    def walk(widget: Any) -> Iterator[Any]:
        yield widget
        for child in widget.children:
            yield from walk(child)

    return next(w for w in walk(card) if getattr(w, "text", None) == text and hasattr(w, "icon"))


def test_a_ringing_call_pops_up_and_its_buttons_work(app: Harness) -> None:
    session = sign_in_first_admin(app.app)
    assert session is not None
    watcher = app.app.calls
    assert isinstance(watcher, CallWatcher) and watcher.employee_id == session.employee_id
    ctx = app.app.ctx
    assert ctx is not None and ctx.db is not None
    hub = Writer(ctx.db)
    hub.insert(
        "sip_lines",
        {"server": "127.0.0.1", "username": "hub", "mode": "bridge", "state": "registered"},
    )
    now = instant(datetime.now(UTC))
    hub.insert(
        "calls",
        {
            "direction": "in",
            "state": "ringing",
            "caller_number": "89267770011",
            "caller_name": "Сергей",
            "phone_e164": "+79267770011",
            "employee_id": session.employee_id,
            "started_at": now,
        },
    )
    ctx.notify_local_change()  # what a batch from the hub does
    app.settle()
    (card,) = _cards(app)
    assert card.vm.title == "ВХОДЯЩИЙ ВЫЗОВ"
    assert app.app.shell.status.line_text == "Телефония: подключена"
    bar = app.app.root.ids.status
    assert bar.ids.line_text.text == "АТС"  # the tablet's short form
    app.tap(_button(card, "Создать нового"))
    assert card.vm.creating and card.ids.name.text == "Сергей"
    assert card.ids.name.height > 0 and not card.ids.name.focus  # it never grabs the keyboard
    card.ids.name.text = "Сергеев Сергей"
    app.tap(_button(card, "Сохранить"))
    assert not card.vm.creating and card.vm.client_text == "Сергеев Сергей"
    header = card.children[-1]
    app.tap(header.children[0])  # the header's ×
    assert _cards(app) == []
