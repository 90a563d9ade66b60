"""«Клиенты» and «Карточка клиента» without a window, on the demo base: the search box, the
card's sections (main data, contacts, consents, CRM statuses and ABC per business line, cars,
documents open first, the client's traffic within the employee's rights) and its edits."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from lsnode.cli import seed_demo
from lsnode.crm.search import search
from lsnode.crm.staff import Session, session_of
from lsnode.store.changes import Writer
from lsnode.store.db import open_store
from lsnode.store.ports import JournalQuery
from lsnode.store.repos import SqliteClients
from lsnode.store.traffic import SqliteTraffic
from lsnode.ui import i18n
from lsnode.ui.screens.client_card import ClientCardVM, abc_letters, car_name, money
from lsnode.ui.screens.clients import ClientsVM

NOW = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_kv_rules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """View-model tests draw nothing: a language switch here must not re-run the kv rules of
    widgets that other tests' apps left behind (their ``app`` is gone)."""
    monkeypatch.setattr(i18n.TR, "notify", lambda: None)
    yield
    i18n.set_lang("ru")  # while kv stays quiet; the conftest's reset is then a no-op


class Node:
    def __init__(self, data: Path) -> None:
        self.db: Database = open_store(data)
        self.reader = SqliteTraffic(self.db)
        self.clients = SqliteClients(self.db)
        self.writer = Writer(self.db)
        self.session: Session | None = None
        self.card = ClientCardVM(
            clients=self.clients,
            reader=self.reader,
            writer=self.writer,
            session=lambda: self.session,
            clock=lambda: NOW,
        )
        self.search = ClientsVM(
            search=lambda text: search(self.clients, self.clients, text),
            clients=self.clients,
            reader=self.reader,
            session=lambda: self.session,
        )
        self.ivanov = self.clients.counterparty_by_number(1)["id"]

    def sign_in(self, short_name: str) -> Session:
        emp = next(e for e in self.reader.employees() if e["short_name"] == short_name)
        self.session = session_of(emp)
        return self.session


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clients") / "demo"
    seed_demo(path, 150, 7, date(2026, 12, 3))
    return path


@pytest.fixture
def node(base: Path, tmp_path: Path) -> Iterator[Node]:
    i18n.set_timezone("Europe/Moscow")
    shutil.copytree(base, tmp_path / "node")
    n = Node(tmp_path / "node")
    yield n
    n.db.close()
    i18n.set_timezone(None)


# --- the search box ------------------------------------------------------------------------------


def test_the_clients_screen_searches_by_name_phone_or_plate(node: Node) -> None:
    vm = node.search
    vm.reload()
    assert vm.rows == [] and vm.caption == "Войдите по PIN-коду, чтобы работать с клиентами"
    node.sign_in("Матвеев А.А.")
    vm.reload()  # nothing typed: the clients of the latest contacts
    assert vm.caption == "Клиенты последних контактов" and vm.rows
    vm.set_query("Иванов Василий")
    row = vm.rows[0]
    assert row["name"] == "Иванов Василий Алибабаевич" and row["kind"] == "ФЛ"
    assert row["number"] == "1" and row["phone"] == "8(925)111-22-33"
    assert row["cars"].endswith(", ещё 2")  # three cars: the first by plate, then a count
    assert vm.caption.startswith("Найден")
    vm.set_query("8 925 111-22-33")
    assert vm.rows[0]["id"] == node.ivanov
    vm.set_query("н433ар")
    assert vm.rows[0]["id"] == node.ivanov
    vm.set_query("Ъъъъъъ")
    assert vm.rows == [] and vm.caption == "Никого не нашли по «Ъъъъъъ»"
    vm.set_query("x" * 150)
    assert vm.error_text == "Слишком длинный запрос: не больше 100 знаков"
    vm.set_query("...")
    assert vm.error_text == "Введите буквы или цифры: ФИО, телефон, номер или VIN"
    i18n.set_lang("en")
    assert vm.error_text == "Type letters or digits: a name, phone, plate or VIN"


# --- the card ----------------------------------------------------------------------------------


def test_the_card_shows_the_brochures_sections(node: Node) -> None:
    node.sign_in("Матвеев А.А.")
    card = node.card
    card.reload()
    assert not card.loaded and card.notice.startswith("Клиент не выбран")
    card.open(node.ivanov)
    assert card.loaded and card.title == "Иванов Василий Алибабаевич"
    assert (card.kind_text, card.number_text) == ("ФЛ", "Внутренний номер 1")
    facts = dict(card.facts)
    assert facts["Вид"] == "Физическое лицо" and facts["Группа"] == "Основные контрагенты"
    assert facts["Зарегистрирован"] == "28.08.2014"
    assert facts["Источник информации"] and facts["Регион"]
    assert facts["Последний исх. контакт"] == "-нет данных-"
    assert [(c["kind"], c["value"]) for c in card.contacts] == [("phone", "8(925)111-22-33")]
    assert [(c["label"], c["value"]) for c in card.consents] == [
        ("Обработка ПД", "unknown"),
        ("Тел. опрос", "unknown"),
        ("Рассылка СМС", "unknown"),
        ("Рассылка Email", "unknown"),
    ]
    lines = {x["line"]: x for x in card.lines}
    assert [x["title"] for x in card.lines] == [
        "Ремонт автомобилей",
        "Продажа запасных частей",
        "Продажа автомобилей",
    ]
    assert (lines["service"]["status"], lines["service"]["tone"]) == ("В работе", "in_work")
    assert [x["letter"] for x in lines["service"]["letters"]] == list(lines["service"]["abc"])
    assert (lines["parts"]["status"], lines["parts"]["tone"]) == ("Упущенный", "lost")
    assert (lines["sales"]["status"], lines["sales"]["abc"]) == ("Не установлен", "")
    cars = {c["plate"]: c for c in card.car_rows}
    assert cars["Н433АР12"]["name"] == "Mercedes-Benz E 220 CDI"
    assert cars["Н542ВУ75"]["warranty"] == "08.04.2009" and cars["Н542ВУ75"]["role"] == "Владелец"
    docs = card.doc_rows
    assert docs[0]["no"] == "ЗН 14029" and docs[0]["open"] == "открыт"  # open ones first
    assert docs[0]["amount"] == "270,89" and docs[0]["type"] == "Предв. заказ-наряд"
    assert all(d["open"] == "закрыт" for d in docs[1:])
    assert card.event_rows and all(e["when"] for e in card.event_rows)
    assert {e["type"] for e in card.event_rows} <= {"Звонок", "Визит", "Интернет"}
    i18n.set_lang("en")
    assert dict(card.facts)["Kind"] == "Private person"
    assert card.lines[0]["status"] == "In work"


def test_the_clients_traffic_respects_the_employees_rights(node: Node) -> None:
    traffic = node.reader.journal_brief(JournalQuery(counterparty_id=node.ivanov))[0]
    assert traffic
    node.sign_in("Матвеев А.А.")  # an administrator sees everyone's
    node.card.open(node.ivanov)
    assert {e["id"] for e in node.card.event_rows} == {t["id"] for t in traffic}
    me = node.sign_in("Сардин Э.В.")  # a service adviser: his own and the unassigned
    node.card.reload()
    allowed = {t["id"] for t in traffic if t["responsible_id"] in (None, me.employee_id)}
    assert {e["id"] for e in node.card.event_rows} == allowed
    node.session = None
    node.card.reload()
    assert node.card.event_rows == []


def test_consents_are_changed_with_one_tap(node: Node) -> None:
    node.sign_in("Перязева Н.")
    card = node.card
    card.open(node.ivanov)
    assert card.set_consent("consent_sms", "yes")
    assert card.set_consent("consent_pd", "no")
    row = node.clients.counterparty(node.ivanov)
    assert (row["consent_sms"], row["consent_pd"]) == ("yes", "no")
    assert dict((c["field"], c["value"]) for c in card.consents)["consent_sms"] == "yes"
    with pytest.raises(ValueError):
        card.set_consent("consent_fax", "yes")


def test_main_data_edits_go_through_edit_client(node: Node) -> None:
    node.sign_in("Перязева Н.")
    card = node.card
    card.open(node.ivanov)
    assert not card.save_main(name="Иванов Василий", kind="person", inn="123", note="")
    assert card.error_text == "ИНН: 10 цифр у юрлица или 12 у физлица"
    assert card.edit_errors == {"form": card.error_text}
    assert not card.save_main(name="  ", kind="person", inn="", note="")
    assert card.error_text == "Укажите наименование клиента"
    assert card.save_main(
        name="ООО Ромашка", kind="company", inn="7707083893", note="Автопарк 12 машин"
    )
    assert card.title == "ООО Ромашка" and card.kind_text == "ЮЛ" and card.error_text == ""
    facts = dict(card.facts)
    assert facts["ИНН"] == "7707083893" and facts["Примечание"] == "Автопарк 12 машин"
    node.session = None
    assert not card.set_consent("consent_sms", "no")
    assert card.error_text == "Войдите по PIN-коду, чтобы изменять"


def test_contacts_are_added_kept_as_typed_and_removed(node: Node) -> None:
    node.sign_in("Перязева Н.")
    card = node.card
    card.open(node.ivanov)
    assert card.add_phone("+7 916 123-45-67") and card.message == ""
    assert card.add_phone("8 925 11")
    assert card.message == "Телефон не распознан: 8 925 11 — не хватает цифр — сохранён как введён"
    odd = next(c for c in card.contacts if c["value"] == "8 925 11")
    assert odd["valid"] is False
    assert card.add_email("ivanov@example.ru") and card.message == ""
    assert card.add_email("ivanov(at)mail")
    assert card.message == "E-mail «ivanov(at)mail» не распознан: сохранён как введён"
    values = [c["value"] for c in card.contacts]
    assert "+7 916 123-45-67" in values and "ivanov@example.ru" in values
    email = next(c for c in card.contacts if c["value"] == "ivanov@example.ru")
    assert card.remove_contact(email["id"])
    assert "ivanov@example.ru" not in [c["value"] for c in card.contacts]
    assert not card.add_phone("   ")


def test_small_formatters() -> None:
    assert money(27089) == "270,89" and money(184500000) == "1\u00a0845\u00a0000,00"
    assert money(None) == ""
    assert [x["letter"] for x in abc_letters("СВАС")] == ["С", "В", "А", "С"]
    assert [x["tone"] for x in abc_letters("АВС")] == ["processed", "new", "neutral", "neutral"]
    assert abc_letters("")[0]["letter"] == "—"
    car = {"make": "Kia", "model": "Rio", "modification": "1.4 MT Comfort"}
    assert car_name(car) == "Kia Rio 1.4 MT Comfort"
    car = {"make": "Mercedes-Benz", "model": "E-класс", "modification": "E 220 CDI"}
    assert car_name(car) == "Mercedes-Benz E 220 CDI"
