"""«Клиенты» and «Карточка клиента» rendered offscreen: search, tap a result, the card opens with
its sections; a consent is changed with one tap, the tabs switch, «Назад» returns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from lsnode.cli import seed_demo
from lsnode.ui.harness import Harness
from tests.ui.test_journal_render import copy_of, mount


@pytest.fixture(scope="module")
def harness(window: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    base = tmp_path_factory.mktemp("clients-render") / "demo"
    seed_demo(base, 60, 7, date.today())
    h = mount(copy_of(base, base.parent), "clients", "Перязева Н.")
    yield h
    h.app.set_lang("ru")
    h.stop()


def test_search_then_tap_opens_the_card_with_its_sections(harness: Harness) -> None:
    screen = harness.app.screen("clients")
    assert screen.vm.caption == "Клиенты последних контактов" and screen.vm.rows
    screen.ids.query.text = "Иванов Василий"
    harness.tap(screen.ids.search)
    assert screen.vm.rows[0]["name"] == "Иванов Василий Алибабаевич"
    table = screen.ids.table
    first = max(table.ids.rv.layout_manager.children, key=lambda w: w.y)
    harness.tap(first)
    assert harness.app.shell.nav.current == "client_card"
    card = harness.app.screen("client_card")
    assert card.ids.heading.text == "Иванов Василий Алибабаевич"
    facts = {row.label: row.value for row in card.ids.facts.children}
    assert facts["Зарегистрирован"] == "28.08.2014"
    assert [c.value for c in card.ids.contacts.children] == ["8(925)111-22-33"]
    assert len(card.ids.lines.children) == 3 and len(card.ids.head_chips.children) == 3

    sms = next(c for c in card.ids.consents.children if c.field == "consent_sms")
    yes = sms.children[1]  # Не опрошен / Да / Нет, right to left
    harness.tap(yes)
    services = harness.app.services
    assert services is not None
    ivanov = services.clients.counterparty_by_number(1)
    assert ivanov["consent_sms"] == "yes"
    sms = next(c for c in card.ids.consents.children if c.field == "consent_sms")
    assert sms.value == "yes"

    harness.tap(card.ids.tab_documents)
    assert card.vm.tab == "documents" and card.ids.documents.opacity == 1
    assert card.ids.documents.rows[0]["no"] == "ЗН 14029"
    harness.tap(card.ids.tab_events)
    assert card.ids.events.rows
    harness.tap(card.ids.back)
    assert harness.app.shell.nav.current == "clients"


def test_the_edit_dialog_changes_main_data(harness: Harness) -> None:
    from kivy.core.window import Window

    services = harness.app.services
    assert services is not None
    ivanov = services.clients.counterparty_by_number(1)
    from lsnode.ui.screens.clients import open_client

    assert open_client(harness.app, ivanov["id"])
    harness.settle()
    card = harness.app.screen("client_card")
    harness.tap(card.ids.edit)
    dialog = next(w for w in Window.children if type(w).__name__ == "ClientEditDialog")
    dialog.ids.inn.text = "123"
    harness.tap(dialog.ids.save)
    assert dialog.error_text == "ИНН: 10 цифр у юрлица или 12 у физлица"
    dialog.ids.inn.text = "500100732259"
    dialog.ids.note.text = "Предпочитает звонки после 18:00"
    closed: list[bool] = []
    dialog.bind(on_dismiss=lambda *_: closed.append(True))
    harness.tap(dialog.ids.save)
    assert closed, dialog.error_text  # (it leaves the window after its closing animation)
    harness.settle()
    facts = {row.label: row.value for row in card.ids.facts.children}
    assert facts["ИНН"] == "500100732259"
    assert facts["Примечание"] == "Предпочитает звонки после 18:00"
