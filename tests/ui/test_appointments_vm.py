"""«Предварительная запись» without a window: find the client with the one search box, pick the
car, date-time, adviser (service department) and kind; validation in the user's language;
booking for tomorrow makes the confirmation at once (the hub sends it) and the card shows it;
moving the visit confirms again; statuses follow the appointment's state machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsnode.crm.staff import session_of
from lsnode.ui import i18n
from lsnode.ui.screens.appointments import AppointmentsVM, parse_time
from tests.ui.notify_world import World, build


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("appointments") / "demo")


@pytest.fixture
def world(base: Path, tmp_path: Path) -> Iterator[World]:
    w = World(base, tmp_path / "node")
    yield w
    w.close()


def _picked(world: World, vm: AppointmentsVM, number: int = 0, sms: str = "yes") -> dict:
    party = world.person(number, sms=sms)
    surname = party["full_name"].split()[0]
    vm.search(surname)
    hit = next(h for h in vm.client_hits if h["id"] == party["id"])
    assert surname in hit["name"]
    vm.pick_client(hit["id"])
    return party


def test_a_new_card_starts_tomorrow_at_ten_with_service_advisers(world: World) -> None:
    vm = AppointmentsVM(world.services)
    assert vm.is_new and vm.title == "Карточка предварительной записи на сервис (Новая запись)"
    assert (vm.date_text, vm.time_text) == ("04.12.2026", "10:00")
    names = [o[1] for o in vm.adviser_options]
    assert names[0] == "Не назначен"
    for option in vm.adviser_options[1:]:
        row = world.db.execute(
            "SELECT departments FROM employees WHERE id = ?", [option[0]]
        ).fetchone()
        assert "service" in json.loads(row[0])
    assert any(n.startswith("Аверкин А.Г. — ") for n in names)
    adviser = world.adviser()
    world.services.session = session_of(world.services.reader.employee(adviser["id"]))
    assert AppointmentsVM(world.services).adviser_id == adviser["id"]


def test_the_client_comes_from_the_search_box_with_consents_and_cars(world: World) -> None:
    vm = AppointmentsVM(world.services)
    vm.search("а")
    assert vm.client_hits == []  # one letter is not a search yet
    vm.search("Щщщщщ")
    assert vm.client_hits == [] and vm.hits_note == "Никого не нашли"
    party = _picked(world, vm, sms="no")
    assert vm.client_id == party["id"] and vm.client_hits == [] and vm.dirty
    facts = dict(vm.client_facts)
    assert facts["Наименование"] == party["full_name"]
    assert facts["Рассылка СМС"] == "Нет" and facts["Обработка ПД"] in ("Да", "Нет", "Не опрошен")
    assert vm.sms_warning.startswith("Подтверждение по СМС не уйдёт")
    cars = world.services.clients.cars_of([party["id"]])[party["id"]]
    assert len(vm.car_options) == len(cars) + 1 and vm.car_options[0][1] == "Без автомобиля"
    if len(cars) == 1:
        assert vm.car_id == cars[0]["id"]
    vm.change_client()
    assert vm.client_id == "" and vm.client_facts == []
    i18n.set_lang("en")
    _picked(world, vm, 1)
    assert dict(vm.client_facts)["SMS mailing"] == "Yes" and vm.sms_warning == ""


def test_validation_says_what_to_fix(world: World) -> None:
    vm = AppointmentsVM(world.services)
    assert not vm.save() and vm.error == "Выберите клиента"
    _picked(world, vm)
    vm.set_value("date_text", "32.12.2026")
    assert not vm.save() and vm.error == "Дата — ДД.ММ.ГГГГ, например 20.12.2026"
    vm.set_value("date_text", "03.12.2026")
    vm.set_value("time_text", "25:00")
    assert not vm.save() and vm.error == "Время — ЧЧ:ММ, например 12:20"
    vm.set_value("time_text", "11:30")  # today, 11:30 Moscow: already past at 12:00
    assert not vm.save() and vm.error == "Время визита уже прошло: выберите будущее"
    vm.set_value("note", "x" * 2001)
    vm.set_value("time_text", "18:00")
    assert not vm.save() and vm.error == "Текст слишком длинный"
    count = "SELECT count(*) FROM documents WHERE doc_type = 'appointment'"
    assert world.db.execute(count).fetchone()[0] == 0  # nothing was written
    assert [parse_time(t).isoformat() for t in ("1220", "9.05", "09:05")] == [
        "12:20:00", "09:05:00", "09:05:00",
    ]  # fmt: skip


def test_booking_for_tomorrow_sends_the_confirmation_at_once(world: World) -> None:
    vm = AppointmentsVM(world.services)
    party = _picked(world, vm)
    adviser = world.adviser()
    vm.pick_day(1)
    vm.set_value("time_text", "12:20")
    vm.set_value("adviser_id", adviser["id"])
    vm.set_value("kind", "ТО")
    assert vm.save(), vm.error
    assert vm.notice == "Клиент записан. Подтверждение отправит хаб"
    assert (
        not vm.is_new and vm.status_text == "Записан" and vm.title == "Запись на 04.12.2026 12:20"
    )
    doc = world.store.document(vm.document_id)
    assert doc["visit_at"] == "2026-12-04T09:20:00.000Z" and doc["employee_id"] == adviser["id"]
    assert world.ctx.changes > 0  # the app heard: the sync agent pushes at once
    assert vm.messages == []  # not made yet: the hub makes it
    vm.set_period("tomorrow")
    assert [r["client"] for r in vm.rows] == [party["full_name"]]
    assert vm.rows[0]["visit"] == "04.12.2026 12:20" and vm.rows[0]["status"] == "Записан"
    world.hub_tick()  # the hub's next poll (every 15 s)
    vm.reload()
    titles = {m["title"]: m["state"] for m in vm.messages}
    assert titles == {
        "Подтверждение П/З": "Отправлено",
        "Новая запись (консультанту)": "Доставлено",
    }
    sms = next(o for o in world.transport.sent if o.channel_kind == "sms")
    assert f"ваш сервисный консультант {adviser['short_name']}" in sms.body
    assert "04.12.2026 12:20" in sms.body


def test_editing_keeps_the_confirmation_and_moving_confirms_again(world: World) -> None:
    vm = AppointmentsVM(world.services)
    _picked(world, vm)
    vm.pick_day(1)
    assert vm.save(), vm.error
    world.hub_tick()
    sent = len(world.transport.sent)
    vm.set_value("kind", "Диагностика")
    assert vm.dirty and vm.save() and vm.notice == "Сохранено"
    world.clock.advance(minutes=5)
    world.hub_tick()
    assert len(world.transport.sent) == sent  # nothing moved: no second confirmation
    vm.set_value("time_text", "15:00")
    assert vm.save() and vm.notice == "Время перенесено: клиенту уйдёт новое подтверждение"
    world.clock.advance(minutes=1)
    world.hub_tick()
    vm.reload()
    moved = [o for o in world.transport.sent[sent:] if o.channel_kind == "sms"]
    assert len(moved) == 1 and "04.12.2026 15:00" in moved[0].body
    assert world.store.document(vm.document_id)["appointment_kind"] == "Диагностика"


def test_statuses_follow_the_appointment_and_refusals_show_in_the_card(world: World) -> None:
    vm = AppointmentsVM(world.services)
    _picked(world, vm, sms="no")
    vm.pick_day(2)
    assert vm.save()
    assert [a[0] for a in vm.actions] == ["confirmed", "arrived", "no_show", "cancelled"]
    assert [a[2] for a in vm.actions] == [False, False, False, True]  # cancel: danger
    world.hub_tick()
    vm.reload()
    sms = next(m for m in vm.messages if m["title"] == "Подтверждение П/З")
    assert sms["state"] == "Отказ: нет согласия клиента на рассылку СМС"
    assert vm.set_status("confirmed") and vm.status_text == "Подтверждена"
    assert vm.set_status("cancelled") and vm.status_text == "Отменена"
    assert [a[0] for a in vm.actions] == ["booked"]
    assert not vm.set_status("done")
    assert vm.error == "Нельзя: запись в статусе «Отменена»"
    assert "на " in vm.cancel_question()
