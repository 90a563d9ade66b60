"""ВХОДЯЩИЙ КОНТАКТ and the «НЕОБРАБОТАННЫЙ ВХОДЯЩИЙ ТРАФИК: N» counter, without a window.

The watcher runs over a real demo store; contacts are registered with the domain as the
reception's node would, and ``check()`` is what a data change of the node calls.
"""

from __future__ import annotations

from typing import Any

import pytest

from lsnode.crm.staff import session_of
from lsnode.crm.traffic import Action, TrafficDraft
from lsnode.ui import i18n
from lsnode.ui.inbox import MAX_VISIBLE, InboxWatcher
from lsnode.ui.services import Services
from lsnode.ui.shell import PopupStack, PopupVM

DEMO_CLIENTS, DEMO_SEED = 30, 5  # the base tests/ui/node_world.py builds


class Toasts(list[tuple[str, str]]):
    def __call__(self, message: str, tone: str) -> None:
        self.append((message, tone))


class Node:
    """The salesman's node: his session, his popups, his watcher; and the reception's pen."""

    def __init__(self, services: Services, name: str) -> None:
        self.services = services
        by_name = {e["short_name"]: e for e in services.reader.employees()}
        self.me = by_name[name]
        self.secretary = session_of(by_name["Перязева Н."])
        services.session = session_of(self.me)
        self.popups = PopupStack()
        self.toasts = Toasts()
        self.opened: list[str] = []
        self.clock = [100.0]
        self.watcher = InboxWatcher(
            services,
            self.popups,
            notify=self.toasts,
            open_card=self.opened.append,
            can_open=lambda: True,
            monotonic=lambda: self.clock[0],
        )
        self.purpose = next(
            p["id"] for p in services.reader.purposes() if p["full_name"] == "Ремонт автомобиля"
        )

    def register(self, responsible: str | None = None, **kw: Any) -> str:
        draft = TrafficDraft(
            contact_type=kw.pop("contact_type", "visit"),
            department="service",
            purpose_id=self.purpose,
            phone=kw.pop("phone", "+7 916 555-44-33"),
            responsible_id=responsible or self.me["id"],
            **kw,
        )
        done = self.services.traffic.register(draft, self.secretary, Action.REGISTER)
        return done.traffic_id

    def shown(self) -> list[PopupVM]:
        return [e.item for e in self.popups.entries]


@pytest.fixture
def node(services: Services) -> Node:
    return Node(services, "Поляков И.С.")


def test_each_new_contact_is_announced_once_and_counted(node: Node) -> None:
    start = node.watcher.start(node.me["id"])
    inbox = node.services.reader.inbox(node.me["id"])
    today = node.services.day_start()
    assert sorted(start) == sorted(r["id"] for r in inbox if r["contact_at"] >= today)
    node.popups.clear()
    before = node.watcher.unprocessed
    tid = node.register(make_model="Kia Rio", note="ждёт у стойки")
    assert node.watcher.check() == [tid]
    assert node.watcher.check() == []  # nothing new: no second popup
    (popup,) = node.shown()
    assert popup.title == "ВХОДЯЩИЙ КОНТАКТ" and popup.tone == "new" and popup.icon == "visit"
    lines = popup.text.splitlines()
    assert lines[0] == "Цель: Ремонт автомобиля"
    assert lines[1] == "Клиент: +7 916 555-44-33"  # no client picked: the phone stands in
    assert lines[2] == "Автомобиль: Kia Rio"
    assert lines[3].startswith("Визит · ")
    assert [a[0] for a in popup.actions] == ["Открыть", "Взять себе"]
    assert node.watcher.unprocessed == before + 1
    assert node.watcher.counter_text == f"НЕОБРАБОТАННЫЙ ВХОДЯЩИЙ ТРАФИК: {before + 1}"
    i18n.set_lang("en")
    assert popup.title == "INCOMING CONTACT" and popup.text.startswith("Purpose: ")
    assert node.watcher.counter_text.startswith("UNPROCESSED INCOMING TRAFFIC: ")


def test_a_contact_for_someone_else_is_not_announced_here(node: Node) -> None:
    node.watcher.start(node.me["id"])
    node.popups.clear()
    other = next(e for e in node.services.reader.employees() if e["id"] != node.me["id"])
    node.register(responsible=other["id"])
    assert node.watcher.check() == [] and node.shown() == []


def test_the_popup_goes_when_the_contact_leaves_the_inbox_elsewhere(node: Node) -> None:
    node.watcher.start(node.me["id"])
    node.popups.clear()
    tid = node.register()
    node.watcher.check()
    assert len(node.shown()) == 1
    other = next(e for e in node.services.reader.employees() if e["short_name"] == "Валуйский В.М.")
    node.services.traffic.take(tid, session_of(other))  # a colleague took it on his tablet
    node.watcher.check()
    assert node.shown() == []
    node.services.traffic.assign(tid, node.me["id"], node.secretary)  # and it came back
    assert node.watcher.check() == [tid]


def test_a_closed_popup_is_not_announced_again(node: Node) -> None:
    node.watcher.start(node.me["id"])
    node.popups.clear()
    node.register()
    node.watcher.check()
    node.popups.dismiss(node.popups.ids[0])
    assert node.watcher.check() == [] and node.shown() == []


def test_take_from_the_popup_makes_it_mine(node: Node) -> None:
    node.watcher.start(node.me["id"])
    node.popups.clear()
    tid = node.register()
    node.watcher.check()
    take = node.shown()[0].actions[1][1]
    take()
    row = node.services.reader.traffic(tid)
    assert row is not None and row["status"] == "in_work"
    assert node.toasts[-1] == ("Контакт ваш: +7 916 555-44-33", "processed")
    assert node.shown() == []  # it left the inbox, so the popup went


def test_a_take_that_loses_names_the_winner(node: Node) -> None:
    node.watcher.start(node.me["id"])
    node.popups.clear()
    tid = node.register()
    node.watcher.check()
    winner = next(e for e in node.services.reader.employees() if e["short_name"] == "Карамов Р.Н.")
    node.services.ctx.winner = winner["id"]  # the hub had his tap first
    assert node.watcher.take(tid) is False
    assert node.toasts[-1] == ("Этот контакт уже взял Карамов Р.Н.", "danger")
    row = node.services.reader.traffic(tid)
    assert row is not None and row["status"] == "new"  # nothing changed here


def test_a_take_while_the_hub_is_away_keeps_the_popup(node: Node) -> None:
    node.watcher.start(node.me["id"])
    node.popups.clear()
    tid = node.register()
    node.watcher.check()
    first = node.popups.ids[0]
    node.services.ctx.offline = True
    assert node.watcher.take(tid) is False
    assert node.toasts[-1][0].startswith("Нет связи с хабом")
    node.popups.dismiss(first)  # the card dismisses the popup that was tapped …
    assert len(node.shown()) == 1  # … and the contact's popup is back


def test_open_hands_the_contact_to_the_traffic_card(node: Node) -> None:
    node.watcher.start(node.me["id"])
    node.popups.clear()
    tid = node.register()
    node.watcher.check()
    node.shown()[0].actions[0][1]()
    assert node.opened == [tid]


def test_a_benchmark_hears_when_each_popup_was_shown(node: Node) -> None:
    heard: list[tuple[str, float]] = []
    node.watcher.on_shown.append(lambda tid, at: heard.append((tid, at)))
    node.watcher.start(node.me["id"])
    heard.clear()
    tid = node.register()
    node.clock[0] = 250.5
    node.watcher.check()
    assert heard == [(tid, 250.5)] and node.watcher.shown_at[tid] == 250.5


def test_popups_stack_but_only_the_newest_few_stay(node: Node) -> None:
    node.watcher.start(node.me["id"])
    node.popups.clear()
    ids = [node.register(phone=f"+7 916 555-44-{n:02d}") for n in range(MAX_VISIBLE + 2)]
    node.watcher.check()
    shown = node.shown()
    assert len(shown) == MAX_VISIBLE
    assert shown[0].text.splitlines()[1].endswith(f"{MAX_VISIBLE + 1:02d}")  # newest on top
    assert node.watcher.unprocessed >= len(ids)


def test_signing_out_takes_the_popups_and_the_counter(node: Node) -> None:
    node.watcher.start(node.me["id"])
    node.register()
    node.watcher.check()
    assert node.shown() and node.watcher.unprocessed
    node.watcher.stop()
    assert node.shown() == [] and node.watcher.unprocessed == 0
    assert node.watcher.check() == []
