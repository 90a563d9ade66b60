"""The reception kiosk's view-model without a window, on real demo data (SQLite files).

A visitor picks a department and a purpose, types a phone (and maybe a name) and joins the
waiting queue; the tests look at what the kiosk shows and at what it wrote.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from lsnode.clock import system_clock
from lsnode.crm.traffic import Traffic
from lsnode.store.changes import Writer
from lsnode.store.db import open_store
from lsnode.store.repos import SqliteClients
from lsnode.store.traffic import SqliteTraffic
from lsnode.ui import i18n
from lsnode.ui.kiosk import (
    IDLE_AFTER_S,
    RETURN_AFTER_S,
    KioskVM,
    national_digits,
    popular_models,
    split_phone,
)

PETROV = "+79164501287"  # «Петров Пётр Васильевич» of the demo data


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data made once per module; each test works on its own copy."""
    from lsnode.cli import seed_demo

    path = tmp_path_factory.mktemp("kiosk-demo") / "node"
    with contextlib.redirect_stdout(io.StringIO()):
        seed_demo(path, 60, 7, date.today())
    return path


@dataclass
class Kiosk:
    db: Database
    vm: KioskVM
    reader: SqliteTraffic
    langs: list[str]

    def type_phone(self, digits: str) -> None:
        for d in digits:
            self.vm.press_digit(d)

    def visit(self) -> dict[str, Any]:
        row = self.reader.traffic(self.vm.traffic_id)
        assert row is not None
        return row


@pytest.fixture
def kiosk(demo: Path, tmp_path: Path) -> Iterator[Kiosk]:
    gc.collect()  # widgets of earlier tests stop listening to language switches
    data = tmp_path / "node"
    shutil.copytree(demo, data)
    db = open_store(data)
    reader = SqliteTraffic(db)
    clients = SqliteClients(db)
    writer = Writer(db)
    traffic = Traffic(writer, reader, reader, clients, system_clock, None)
    langs: list[str] = []

    def set_lang(lang: str) -> None:
        langs.append(lang)
        i18n.set_lang(lang)

    vm = KioskVM(
        traffic=traffic,
        reader=reader,
        clients=clients,
        writer=writer,
        models=popular_models(db),
        set_lang=set_lang,
    )
    yield Kiosk(db, vm, reader, langs)
    i18n.set_lang("ru")  # the view-model listens to the language: switch back while the db is open
    db.close()


def _tile(items: list[dict[str, str]], title: str) -> str:
    return next(i["key"] for i in items if i["title"] == title)


def _texts(vm: KioskVM) -> list[str]:
    """Every string the kiosk can show right now."""
    out: list[str] = []
    for name, prop in vm.properties().items():
        value = getattr(vm, name)
        if name == "traffic_id":
            continue
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            out += [json.dumps(v, ensure_ascii=False) for v in value]
        del prop
    return out


def test_a_visitor_joins_the_salon_queue_with_place_and_estimate(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    assert vm.step == "welcome"
    titles = [d["title"] for d in vm.departments]
    assert titles == [
        "Сервис",
        "Покупка автомобиля",
        "Запчасти и аксессуары",
        "Отзыв или претензия",
        "Другой вопрос",
    ]
    before = len(kiosk.reader.queue("salon"))
    vm.choose_department(_tile(vm.departments, "Покупка автомобиля"))
    assert vm.step == "purpose" and vm.department_title == "Покупка автомобиля"
    assert [p["title"] for p in vm.purposes] == [
        "Новый автомобиль",
        "Автомобиль с пробегом",
        "Продать свой автомобиль",
        "Кредит и страхование",
    ]  # incoming purposes only: no «Холодный обзвон», no «Поздравление с Днем Рождения»
    vm.choose_purpose(_tile(vm.purposes, "Автомобиль с пробегом"))
    assert vm.step == "phone"
    assert (vm.phone_typed, vm.phone_rest) == ("+7 (", "___) ___-__-__")
    kiosk.type_phone("89161234567")
    assert vm.phone_typed == "+7 (916) 123-45-67" and vm.phone_complete
    vm.submit_phone()
    assert vm.step == "name" and vm.layout == "ru"
    for char in "иван":
        vm.type_char(char)
    assert vm.name_text == "Иван"
    vm.submit_name()

    assert vm.step == "done" and not vm.failed
    assert vm.place == before + 1 and vm.minutes >= 1
    assert vm.thanks_text == "Спасибо, Иван!"
    assert vm.done_title == f"Вы в очереди: {before + 1}"
    assert vm.wait_text == f"Ожидание ≈ {vm.minutes} мин"
    visit = kiosk.visit()
    assert (visit["contact_type"], visit["origin"], visit["status"]) == ("visit", "kiosk", "new")
    assert visit["department"] == "salon" and visit["queued_at"]
    assert visit["phone_e164"] == "+79161234567" and visit["phone"] == "+7 (916) 123-45-67"
    assert visit["extra_info"] == "Представился: Иван"
    assert visit["registered_by"] is None and visit["responsible_id"] is None
    assert visit["id"] in [r["id"] for r in kiosk.reader.queue("salon")]


def test_the_available_employees_of_the_department_get_a_lan_message(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    vm.choose_department("shop")  # one purpose: straight to the phone
    assert vm.step == "phone"
    kiosk.type_phone("9035550101")
    vm.submit_phone()
    vm.submit_name(skip=True)
    assert vm.step == "done" and vm.thanks_text == "Спасибо!"
    shop = {
        e["id"]
        for e in kiosk.reader.employees()
        if "shop" in json.loads(e["departments"]) and e["presence"] == "available"
    }
    assert shop
    sent = kiosk.db.execute("SELECT employee_id, title, text FROM lan_messages").fetchall()
    assert {r[0] for r in sent} == shop
    assert all("Покупка запасных частей" in r[2] and "место в очереди" in r[2] for r in sent)
    assert kiosk.visit()["extra_info"] == ""


def test_a_purpose_that_requires_the_car_asks_for_a_model_or_a_class(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    vm.choose_department("salon")
    vm.choose_purpose(_tile(vm.purposes, "Новый автомобиль"))
    assert vm.step == "car" and vm.car_title == "Какой автомобиль вас интересует?"
    assert vm.layout == "en"  # models are typed in Latin letters
    options = [o["title"] for o in vm.car_options]
    assert options[-4:] == ["Седан", "Кроссовер", "Внедорожник", "Минивэн"]
    assert len(options) > 4 and all(" " in o for o in options[:-4])  # «Kia Rio»
    vm.submit_car()
    assert vm.step == "car" and vm.car_error.startswith("Выберите модель или класс")
    for char in "kia k5":
        vm.type_char(char)
    assert vm.car_text == "Kia K5" and vm.car_error == ""
    vm.erase_char()
    vm.erase_char()
    vm.back()
    assert vm.step == "purpose"
    vm.choose_purpose(_tile(vm.purposes, "Новый автомобиль"))
    vm.choose_car("Кроссовер")
    assert vm.step == "phone"
    kiosk.type_phone("9261112299")
    vm.submit_phone()
    vm.submit_name(skip=True)
    assert not vm.failed
    assert kiosk.visit()["make_model"] == "Кроссовер"


def test_an_incomplete_or_impossible_phone_says_what_is_wrong(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    vm.choose_department("service")
    assert vm.step == "phone"  # «Ремонт автомобиля» is the only incoming service purpose
    vm.submit_phone()
    assert vm.step == "phone" and vm.phone_error == "Наберите номер на клавиатуре ниже"
    kiosk.type_phone("925111")
    vm.submit_phone()
    assert vm.step == "phone"
    assert vm.phone_error == "Номер неполный: не хватает 4 цифр"
    assert vm.phone_typed == "+7 (925) 111" and vm.phone_rest == "-__-__"
    kiosk.type_phone("222")
    assert vm.phone_error == ""  # the message goes as the visitor goes on typing
    vm.submit_phone()
    assert vm.phone_error == "Номер неполный: не хватает 1 цифры"
    kiosk.type_phone("39")  # the 11th digit is not taken
    assert vm.phone_typed == "+7 (925) 111-22-23" and vm.phone_rest == ""
    vm.clear_phone()
    kiosk.type_phone("0000000000")
    vm.submit_phone()
    assert vm.phone_error == "Такого номера не существует — проверьте, пожалуйста"
    i18n.set_lang("en")
    assert vm.phone_error == "This number does not exist — please check it"
    vm.erase_digit()
    assert vm.phone_error == ""


def test_trunk_and_country_prefixes_are_understood_as_typed() -> None:
    assert national_digits("8") == "8"  # could be an area code (812 …) until more is typed
    assert national_digits("89") == "9"
    assert national_digits("79161234567") == "9161234567"
    assert national_digits("84951234567") == "4951234567"
    assert national_digits("8495123456") == "8495123456"
    assert split_phone("") == ("+7 (", "___) ___-__-__")
    assert split_phone("925") == ("+7 (925", ") ___-__-__")
    assert split_phone("9251112233") == ("+7 (925) 111-22-33", "")


def test_a_known_client_is_linked_by_phone_and_nothing_of_theirs_is_shown(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    owners = kiosk.db.execute(
        "SELECT DISTINCT counterparty_id FROM contacts WHERE phone_e164 = ?", [PETROV]
    ).fetchall()
    assert len(owners) == 1
    client = kiosk.db.execute(
        "SELECT id, surname, given_name FROM counterparties WHERE id = ?", [owners[0][0]]
    ).fetchone()
    vm.choose_department("salon")
    vm.choose_purpose(_tile(vm.purposes, "Кредит и страхование"))
    kiosk.type_phone(PETROV[2:])
    vm.submit_phone()
    vm.submit_name(skip=True)
    assert vm.step == "done" and not vm.failed
    assert kiosk.visit()["counterparty_id"] == client[0]
    shown = " ".join(_texts(vm))
    assert client[1] == "Петров" and client[2] == "Пётр"
    assert "Петров" not in shown and "Пётр" not in shown
    assert vm.thanks_text == "Спасибо!"  # not «Спасибо, Пётр!»: the kiosk knows no names


def test_a_phone_nobody_has_leaves_the_visit_without_a_client(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    vm.choose_department("other")
    kiosk.type_phone("9990001122")
    vm.submit_phone()
    vm.submit_name()
    assert kiosk.visit()["counterparty_id"] is None and kiosk.visit()["first_contact"] == 1


def test_back_leads_step_by_step_to_the_start(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    vm.choose_department("salon")
    vm.choose_purpose(_tile(vm.purposes, "Продать свой автомобиль"))
    kiosk.type_phone("9161234567")
    vm.submit_phone()
    assert vm.step == "name"
    vm.back()
    assert vm.step == "phone" and vm.phone_complete  # what was typed is kept
    vm.back()
    assert vm.step == "purpose"
    vm.back()
    assert vm.step == "welcome"
    vm.choose_department("service")
    vm.back()
    assert vm.step == "welcome"  # the one-purpose department had no purpose step


def test_the_last_screen_returns_to_the_start_and_forgets_the_visitor(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    vm.choose_lang("en")
    assert kiosk.langs == ["en"] and vm.departments[0]["title"] == "Service"
    vm.choose_department("service")
    kiosk.type_phone("9161234567")
    vm.submit_phone()
    for char in "john":
        vm.type_char(char)
    assert vm.layout == "en" and vm.name_text == "John"
    vm.submit_name()
    assert vm.done_title.startswith("You are number ")
    assert vm.countdown_text == f"Back to the start in {RETURN_AFTER_S} s — or tap the screen"
    for _ in range(RETURN_AFTER_S - 1):
        vm.tick()
    assert vm.step == "done"
    vm.tick()
    assert vm.step == "welcome"
    assert (vm.name_text, vm.phone_typed, vm.done_title) == ("", "+7 (", "")
    assert kiosk.langs == ["en", "ru"] and vm.departments[0]["title"] == "Сервис"


def test_a_visitor_who_walks_away_is_forgotten_after_a_minute(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    vm.choose_department("service")
    kiosk.type_phone("91612")
    for _ in range(IDLE_AFTER_S - 1):
        vm.tick()
    vm.touched()  # still there
    for _ in range(IDLE_AFTER_S - 1):
        vm.tick()
    assert vm.step == "phone"
    vm.tick()
    assert vm.step == "welcome" and vm.phone_typed == "+7 ("


def test_a_tap_on_the_last_screen_finishes_at_once(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    vm.choose_department("feedback")
    kiosk.type_phone("9161234567")
    vm.submit_phone()
    vm.submit_name(skip=True)
    vm.finish()
    assert vm.step == "welcome"


def test_purposes_switched_off_or_needing_a_region_are_not_offered(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    writer = Writer(kiosk.db)
    ids = {p["code"]: p["id"] for p in kiosk.reader.purposes()}
    writer.update("contact_purposes", ids[21], {"enabled": 0})
    writer.update("contact_purposes", ids[22], {"require_region": 1})
    vm.reload()
    assert "shop" not in [d["key"] for d in vm.departments]
    vm.choose_department("salon")
    assert "Автомобиль с пробегом" not in [p["title"] for p in vm.purposes]


def test_a_registration_the_domain_refuses_says_whom_to_ask(kiosk: Kiosk) -> None:
    vm = kiosk.vm
    vm.choose_department("salon")
    vm.choose_purpose(_tile(vm.purposes, "Кредит и страхование"))
    kiosk.type_phone("9161234567")
    vm.submit_phone()
    Writer(kiosk.db).update("contact_purposes", vm.purpose_id, {"enabled": 0})  # on the hub
    vm.submit_name(skip=True)
    assert vm.step == "done" and vm.failed
    assert vm.done_title == "Не получилось встать в очередь"
    assert vm.done_text == "Пожалуйста, обратитесь к администратору на ресепшене"
    assert kiosk.db.execute("SELECT count(*) FROM lan_messages").fetchone()[0] == 0
