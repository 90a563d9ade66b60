"""Регистрация входящего трафика: the view-model over a real demo store, without a window.

The demo dealership is built once per module (``seed_demo``, a few dozen clients) and copied
for each test; ``Services`` runs over the copy with a fixed clock and a stand-in for the hub.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lsnode.crm.staff import session_of
from lsnode.crm.traffic import Action
from lsnode.store.changes import Writer
from lsnode.ui import i18n
from lsnode.ui.screens.traffic import RegistrationVM
from lsnode.ui.services import Services

PIN = "1234"


DEMO_CLIENTS, DEMO_SEED = 40, 11  # the base tests/ui/node_world.py builds


def employee(services: Services, name: str) -> dict[str, Any]:
    return next(e for e in services.reader.employees() if e["short_name"] == name)


class Toasts(list[tuple[str, str]]):
    def __call__(self, message: str, tone: str) -> None:
        self.append((message, tone))


@pytest.fixture
def toasts() -> Toasts:
    return Toasts()


@pytest.fixture
def vm(services: Services, toasts: Toasts) -> RegistrationVM:
    """The form at the reception: the secretary Перязева Н. is signed in."""
    services.sign_in(employee(services, "Перязева Н.")["id"], PIN)
    form = RegistrationVM(services, notify=toasts, debounce_s=0)
    form.reload()
    return form


def purpose_named(vm: RegistrationVM, name: str) -> str:
    return next(p["id"] for p in vm.purposes if p["name"] == name)


def a_client_with_a_car(services: Services) -> str:
    row = services.ctx.db.execute(
        "SELECT c.id FROM counterparties c JOIN cars ON cars.owner_id = c.id "
        "JOIN documents d ON d.counterparty_id = c.id AND d.is_open = 1 "
        "JOIN traffic t ON t.counterparty_id = c.id ORDER BY c.number LIMIT 1"
    ).fetchone()
    return str(row[0])


def traffic_rows(services: Services) -> list[dict[str, Any]]:
    cur = services.ctx.db.execute("SELECT * FROM traffic ORDER BY created_at, id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# -- what the form offers -----------------------------------------------------------------------


def test_each_department_offers_its_incoming_purposes(vm: RegistrationVM) -> None:
    assert vm.department == "feedback"  # the secretary's first department (brochure's order)
    assert [p["name"] for p in vm.purposes] == ["Отзыв/претензия"]
    vm.set_department("service")
    assert [p["name"] for p in vm.purposes] == ["Ремонт автомобиля"]
    vm.set_department("salon")
    assert [p["name"] for p in vm.purposes] == [
        "Покупка нового автомобиля",
        "Покупка автомобиля с пробегом",
        "Продажа автомобиля (выкуп)",
        "Кредитование/Страхование",
    ]
    assert vm.purpose_id == vm.purposes[0]["id"] and vm.purposes[0]["selected"]
    assert vm.require_car  # «Покупка нового автомобиля» asks for the make and model
    vm.set_purpose(purpose_named(vm, "Кредитование/Страхование"))
    assert not vm.require_car and [p["selected"] for p in vm.purposes] == [0, 0, 0, 1]
    vm.set_department("other")
    assert [p["name"] for p in vm.purposes] == ["Прочее"]


def test_responsible_list_puts_the_available_first_with_todays_counts(
    vm: RegistrationVM, services: Services
) -> None:
    vm.set_department("salon")
    purpose = services.reader.purpose(vm.purpose_id)
    assert purpose is not None
    named = json.loads(purpose["employee_ids"])
    rows = vm.responsible
    assert sorted(r["emp_id"] for r in rows) == sorted(named)
    rank = {"available": 0, "busy": 1, "away": 2}
    assert [rank[r["presence"]] for r in rows] == sorted(rank[r["presence"]] for r in rows)
    counts = services.reader.employee_counts(services.day_start())
    for row in rows:
        unprocessed, moved = counts.get(row["emp_id"], (0, 0))
        assert row["counts"] == (f"{unprocessed}/{moved}" if unprocessed or moved else "")
    bad = employee(services, "Бадовец А.В.")
    assert next(r for r in rows if r["emp_id"] == bad["id"])["note"] == bad["presence_note"]
    vm.choose_responsible(bad["id"])
    assert vm.responsible_id == bad["id"]
    assert [r["emp_id"] for r in vm.responsible if r["selected"]] == [bad["id"]]
    vm.choose_responsible(bad["id"])  # tapped again: nobody
    assert vm.responsible_id == "" and not any(r["selected"] for r in vm.responsible)


def test_reference_lists_and_the_employees_branch_fill_the_pickers(
    vm: RegistrationVM, services: Services
) -> None:
    branches = {r["id"]: r["name"] for r in services.reader.reference("branches")}
    me = employee(services, "Перязева Н.")
    assert vm.branch_id == me["branch_id"] and vm.branch_name == branches[me["branch_id"]]
    assert vm.options("region")[0]["name"] == "Не указан"
    region = vm.regions[3]
    vm.pick("region", region["id"])
    assert vm.region_name == region["name"]
    vm.pick("region", "")
    assert vm.region_name == ""


# -- the client ---------------------------------------------------------------------------------


def test_search_runs_as_you_type_and_a_pick_fills_the_clients_blocks(
    vm: RegistrationVM, services: Services
) -> None:
    cp_id = a_client_with_a_car(services)
    client = services.clients.counterparty(cp_id)
    assert client is not None
    surname = client["full_name"].split()[0]
    for typed in (surname[:2], surname[:4], surname):
        vm.set_query(typed)
        assert vm.query == typed
    assert cp_id in [h["cp_id"] for h in vm.hits]
    hit = next(h for h in vm.hits if h["cp_id"] == cp_id)
    assert hit["name"] == client["full_name"] and hit["phones"]
    vm.pick_client(cp_id)
    assert vm.client_id == cp_id and vm.client_name == client["full_name"]
    assert vm.hits == [] and vm.cars and vm.documents
    assert vm.first_contact is False and vm.first_auto  # the client has traffic already
    assert [label for label, _ in vm.client_facts] == [
        "Зарегистрирован",
        "Последний вх. контакт",
        "Последний исх. контакт",
    ]
    lines = services.clients.lines_of(cp_id)
    chips = {c["text"].split(":")[0]: c for c in vm.client_lines}
    assert set(chips) == {"Сервис", "Запчасти", "Продажи"}
    for line, label in (("service", "Сервис"), ("parts", "Запчасти"), ("sales", "Продажи")):
        if line in lines and lines[line]["abc"]:
            assert chips[label]["text"].endswith(lines[line]["abc"])
    car = vm.cars[0]
    vm.pick_car(car["car_id"])
    assert vm.car_id == car["car_id"] and vm.vin == car["vin"] and vm.plate == car["plate"]
    assert vm.make_model == car["title"]
    vm.pick_car(car["car_id"])  # again: no car
    assert vm.car_id == ""
    vm.clear_client()
    assert vm.client_id == "" and vm.cars == [] and vm.first_contact


def test_the_debounced_search_waits_for_the_pause(services: Services) -> None:
    vm = RegistrationVM(services, debounce_s=0.15)
    vm.reload()
    vm.set_query("Иванов")
    assert vm.hits == []  # nothing yet: the search runs when typing pauses
    vm.search_now()
    assert vm.hits
    assert vm._search_trigger is not None
    vm._search_trigger.cancel()


def test_a_phone_typed_in_search_follows_the_client_and_can_be_added_to_them(
    vm: RegistrationVM, services: Services, toasts: Toasts
) -> None:
    cp_id = a_client_with_a_car(services)
    vm.set_query("8 (999) 000-11-22")
    assert vm.hits == [] and vm.search_message.startswith("Никого не нашли")
    vm.pick_client(cp_id)
    assert vm.phone == "8 (999) 000-11-22" and vm.can_add_phone
    assert vm.add_phone_to_client()
    assert toasts[-1] == ("Телефон добавлен клиенту", "processed")
    phones = [c["phone_e164"] for c in services.clients.contacts_of([cp_id])[cp_id]]
    assert "+79990001122" in phones and not vm.can_add_phone


def test_create_new_client_from_what_was_typed(
    vm: RegistrationVM, services: Services, toasts: Toasts
) -> None:
    vm.set_query("+7 916 555-44-33")
    assert vm.new_client_defaults() == ("", "+7 916 555-44-33")
    assert vm.create_client("", "+7 916 555-44-33") == i18n.tr("traffic.new.err_name")
    assert vm.create_client("Сидоров Пётр Ильич", "+7 916 555-44-33") == ""
    assert vm.client_name == "Сидоров Пётр Ильич" and vm.phone == "+7 916 555-44-33"
    assert vm.first_contact and toasts[-1][0] == "Клиент создан: Сидоров Пётр Ильич"
    vm.set_query("Кузнецов")
    vm.clear_client()
    assert vm.new_client_defaults() == ("Кузнецов", "+7 916 555-44-33")  # the phone stays


# -- validation ---------------------------------------------------------------------------------


def test_purpose_settings_are_enforced_with_a_message_naming_the_purpose(
    vm: RegistrationVM, services: Services
) -> None:
    before = len(traffic_rows(services))
    vm.set_department("salon")  # «Покупка нового автомобиля» requires the make/model
    vm.set_query("+7 916 555-44-33")
    vm.phone = "+7 916 555-44-33"
    assert vm.submit(Action.REGISTER) is None
    assert vm.message == (
        "Для цели «Покупка нового автомобиля» укажите марку и модель автомобиля "
        "(или выберите автомобиль)"
    )
    vm.make_model = "Kia Rio"
    assert vm.message == ""  # typing clears it
    Writer(services.ctx.db).update("contact_purposes", vm.purpose_id, {"require_region": 1})
    vm.reload()
    assert vm.require_region
    assert vm.validate(Action.REGISTER) == "Для цели «Покупка нового автомобиля» укажите регион"
    vm.pick("region", vm.regions[0]["id"])
    assert vm.validate(Action.REGISTER) == ""
    assert len(traffic_rows(services)) == before  # nothing was written meanwhile


def test_what_is_missing_is_said_in_the_users_words(vm: RegistrationVM, services: Services) -> None:
    assert vm.validate(Action.REGISTER) == i18n.tr("traffic.err.client")
    vm.phone = "+7 916 555-44-33"
    assert vm.validate(Action.TRANSFER) == i18n.tr("traffic.err.transfer")
    vm.set_contact_at_text("31.02.2026 10:00")
    assert vm.validate(Action.REGISTER) == i18n.tr("traffic.err.when")
    vm.set_contact_at_text("03.12.2026 23:59")
    assert vm.validate(Action.REGISTER) == i18n.tr("traffic.err.future")
    vm.reset_time()
    assert not vm.contact_at_edited and vm.validate(Action.REGISTER) == ""
    i18n.set_lang("en")
    assert vm.validate(Action.TRANSFER).startswith("Choose the employee to transfer")
    services.sign_out()
    assert vm.validate(Action.REGISTER) == "Sign in to register contacts"


def test_an_employee_without_the_right_to_register_is_told_so(services: Services) -> None:
    emp = employee(services, "Петухов В.П.")
    services.session = session_of(dict(emp, role="staff"))
    vm = RegistrationVM(services, debounce_s=0)
    vm.reload()
    vm.phone = "+7 916 555-44-33"
    assert not vm.can_register
    assert vm.validate(Action.REGISTER) == "У вас нет права регистрировать входящий трафик"


# -- the actions --------------------------------------------------------------------------------


def fill_a_visit(vm: RegistrationVM, services: Services, responsible: str | None) -> str:
    cp_id = a_client_with_a_car(services)
    vm.set_contact_type("visit")
    vm.set_department("salon")
    vm.set_purpose(purpose_named(vm, "Покупка автомобиля с пробегом"))
    vm.set_query("...")
    vm.pick_client(cp_id)
    vm.pick_car(vm.cars[0]["car_id"])
    vm.note = "ждёт у стойки"
    if responsible:
        vm.choose_responsible(employee(services, responsible)["id"])
    return cp_id


def test_register_writes_a_new_contact_for_the_responsible_and_clears_the_form(
    vm: RegistrationVM, services: Services, toasts: Toasts
) -> None:
    before = len(traffic_rows(services))
    cp_id = fill_a_visit(vm, services, "Петухов В.П.")
    done = vm.submit(Action.REGISTER)
    assert done is not None and toasts[-1] == ("Зарегистрирован: Петухов В.П.", "processed")
    row = services.reader.traffic(done.traffic_id)
    assert row is not None
    assert len(traffic_rows(services)) == before + 1
    me = employee(services, "Перязева Н.")["id"]
    petukhov = employee(services, "Петухов В.П.")["id"]
    assert (row["contact_type"], row["department"], row["status"]) == ("visit", "salon", "new")
    assert row["counterparty_id"] == cp_id and row["car_id"] and row["make_model"]
    assert row["responsible_id"] == petukhov and row["registered_by"] == me
    assert row["first_contact"] == 0 and row["note"] == "ждёт у стойки" and not row["queued_at"]
    assert [e["action"] for e in services.reader.history(done.traffic_id)] == ["register"]
    assert done.traffic_id in [r["id"] for r in services.reader.inbox(petukhov)]
    # the next contact starts clean; type, department and purpose stay
    assert (vm.client_id, vm.phone, vm.vin, vm.note, vm.responsible_id, vm.query) == ("",) * 6
    assert vm.contact_type == "visit" and vm.department == "salon" and vm.first_auto


def test_queue_transfer_and_finish_write_their_own_rows(
    vm: RegistrationVM, services: Services, toasts: Toasts
) -> None:
    me = employee(services, "Перязева Н.")["id"]
    petukhov = employee(services, "Петухов В.П.")["id"]

    fill_a_visit(vm, services, None)
    queued = vm.submit(Action.QUEUE)
    assert queued is not None and toasts[-1][0] == "Помещён в очередь ожидания"
    assert queued.traffic_id in [r["id"] for r in services.reader.queue("salon")]

    fill_a_visit(vm, services, "Петухов В.П.")
    moved = vm.submit(Action.TRANSFER)
    assert moved is not None and toasts[-1][0] == "Переведён: Петухов В.П."
    row = services.reader.traffic(moved.traffic_id)
    assert row is not None and (row["status"], row["responsible_id"]) == ("in_work", petukhov)
    switches = services.reader.switches([moved.traffic_id])[moved.traffic_id]
    assert [(s["from_employee_id"], s["to_employee_id"]) for s in switches] == [(me, petukhov)]

    fill_a_visit(vm, services, None)
    finished = vm.submit(Action.FINISH)
    assert finished is not None and toasts[-1][0] == "Завершён"
    row = services.reader.traffic(finished.traffic_id)
    assert row is not None and (row["status"], row["responsible_id"]) == ("in_work", me)
    assert row["duration_s"] is not None
    actions = [
        services.reader.history(t.traffic_id)[0]["action"] for t in (queued, moved, finished)
    ]
    assert actions == ["queue", "transfer", "finish"]


def test_a_transfer_needs_no_client_but_an_employee(vm: RegistrationVM, services: Services) -> None:
    vm.choose_responsible(vm.responsible[0]["emp_id"])
    done = vm.submit(Action.TRANSFER)
    assert done is not None
    row = services.reader.traffic(done.traffic_id)
    assert row is not None and row["counterparty_id"] is None and row["phone"] == ""


def test_an_edited_contact_time_is_the_one_written(vm: RegistrationVM, services: Services) -> None:
    vm.phone = "+7 916 555-44-33"
    vm.set_contact_at_text("03.12.2026 09:15")
    done = vm.submit(Action.REGISTER)
    assert done is not None
    row = services.reader.traffic(done.traffic_id)
    assert row is not None
    assert i18n.format_datetime(row["contact_at"]) == "03.12.2026 09:15"
    assert not vm.contact_at_edited  # the next one is «now» again
