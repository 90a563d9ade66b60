"""The notification screens' view-models without a window: «Способы уведомлений» (the password
is write-only and sealed), «Шаблоны сообщений» (live preview on real data, SMS length and
segments, placeholders, the rule) and «Журнал сообщений» (filters, addressees, refusals).

One demo base (60 clients, the brochure's channels/templates/rules) per module, copied per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lsnode.notify import admin
from lsnode.notify.appointments import AppointmentDraft, book_appointment
from lsnode.notify.templates import sms_stats
from lsnode.sync.keys import ensure_hub_certificate
from lsnode.ui import i18n
from lsnode.ui.screens.notify_channels import ChannelsVM, hub_sealer
from lsnode.ui.screens.notify_journal import JournalVM
from lsnode.ui.screens.notify_templates import TemplatesVM
from tests.ui.notify_world import World, build


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("notify") / "demo")


@pytest.fixture
def world(base: Path, tmp_path: Path) -> Iterator[World]:
    w = World(base, tmp_path / "node")
    yield w
    w.close()


def _values(vm: Any) -> list[str]:
    """Every property value of a view-model, as text (to prove a secret is in none)."""
    return [str(getattr(vm, name)) for name in vm.properties()]


def _channels(world: World, **kw: Any) -> ChannelsVM:
    return ChannelsVM(world.store, clock=world.clock, **kw)


# -- «Способы уведомлений» --------------------------------------------------------------------


def test_channels_list_the_brochures_six_kinds_with_their_switches(world: World) -> None:
    vm = _channels(world)
    assert [r["kind_text"] for r in vm.rows] == ["Email", "SMS", "LAN", "FTP", "File", "Phone"]
    assert [r["enabled"] for r in vm.rows] == [False, True, True, False, True, True]
    assert vm.kind == "email" and vm.settings["host"] == "127.0.0.1"
    assert vm.settings["port"] == "8025" and vm.settings["security"] == "none"
    sms = next(r for r in vm.rows if r["kind"] == "sms")
    vm.toggle_enabled(sms["channel_id"], False)
    assert world.store.channel(sms["channel_id"])["enabled"] == 0
    assert not next(r for r in vm.rows if r["kind"] == "sms")["enabled"]


def test_a_password_is_sealed_for_the_hub_and_never_shown(world: World) -> None:
    ensure_hub_certificate(world.data, "test-hub")  # the hub's own data dir: it can seal
    vm = _channels(world, seal=hub_sealer(world.data, world.store))
    email = vm.rows[0]["channel_id"]
    assert not vm.has_password and vm.password_hint == "Не задан"
    vm.set_field("login", "service@kardinal.example")
    vm.set_password("S3cret-pass!")
    assert vm.dirty and vm.save(), vm.error
    row = world.store.channel(email)
    assert row["secret_sealed"].startswith("hub1:") and "S3cret" not in row["secret_sealed"]
    assert vm.has_password and vm.password == ""
    assert vm.password_hint.startswith("Сохранён (скрыт)")
    assert vm.notice.startswith("Пароль зашифрован ключом хаба")
    for text in _values(vm):
        assert "S3cret-pass!" not in text and row["secret_sealed"] not in text
    vm.select(vm.rows[1]["channel_id"])
    vm.select(email)  # reopened: the field is empty again, the hint says one is stored
    assert vm.password == "" and vm.has_password
    vm.set_field("sender_name", "Кардинал-Сервис")
    assert vm.save()  # an empty field keeps the stored password
    assert world.store.channel(email)["secret_sealed"] == row["secret_sealed"]
    assert vm.remove_password() and not vm.has_password
    assert world.store.channel(email)["secret_sealed"] is None


def test_channel_errors_are_one_translated_line(world: World) -> None:
    vm = _channels(world, seal=hub_sealer(world.data, world.store))  # no hub key known here
    vm.set_password("secret")
    assert not vm.save()
    assert vm.error.startswith("Пароль не сохранён: это устройство ещё не получило ключ хаба")
    assert world.store.channel(vm.selected_id)["secret_sealed"] is None
    vm.revert()
    vm.set_field("port", "70000")
    assert not vm.save() and vm.error == "Порт — число от 1 до 65535"
    sms = next(r for r in vm.rows if r["kind"] == "sms")["channel_id"]
    vm.select(sms)
    vm.set_field("url", "smsc://login:hunter2@{to}")
    assert not vm.save() and vm.error.startswith("В адресе шлюза есть пароль или ключ")
    vm.use_preset("json")
    assert vm.save(), vm.error
    i18n.set_lang("en")
    vm.set_field("url", "json://gw.example/send")
    assert not vm.save() and vm.error.startswith("The gateway URL needs {to}")


def test_a_new_channel_gets_the_brochures_name_and_defaults(world: World) -> None:
    vm = _channels(world)
    vm.new_channel("ftp")
    assert vm.is_new and vm.name == "Передача данных по FTP/SFTP" and vm.settings["port"] == "21"
    vm.set_field("host", "ftp.kardinal.example")
    vm.set_field("tls", True)
    assert vm.save(), vm.error
    saved = world.store.channel(vm.selected_id)
    assert admin.channel_view(saved)["settings"]["tls"] is True
    assert sum(r["kind"] == "ftp" for r in vm.rows) == 2


def test_the_check_goes_through_the_hub_and_its_result_comes_back(world: World) -> None:
    vm = _channels(world)
    sms = next(r for r in vm.rows if r["kind"] == "sms")["channel_id"]
    vm.select(sms)
    vm.set_test_address("8 (925) 111-22")
    assert not vm.send_test() and vm.error.startswith("Телефон не распознан")
    vm.set_test_address("8 (925) 111-22-33")
    assert vm.send_test(), vm.error
    assert vm.test_text == "В очереди: проверочное сообщение отправит хаб"
    world.hub_tick()
    vm.update_test()
    assert vm.test_text == "Проверка: Отправлено" and vm.test_tone == "processed"
    (out,) = world.transport.sent
    assert out.address == "+79251112233" and "Проверка способа уведомления" in out.body
    email = vm.rows[0]["channel_id"]  # switched off in the demo
    vm.select(email)
    vm.set_test_address("test@kardinal.example")
    assert vm.send_test()
    world.hub_tick()
    vm.update_test()
    assert vm.test_text == "Проверка: Отказ: способ уведомления выключен"
    lan = next(r for r in vm.rows if r["kind"] == "lan")["channel_id"]
    vm.select(lan)
    assert not vm.send_test() and vm.error.startswith("Войдите (PIN)")
    signed = _channels(world, employee_id=lambda: world.adviser()["id"])
    signed.select(lan)
    assert signed.send_test(), signed.error
    world.hub_tick()
    signed.update_test()
    assert signed.test_text == "Проверка: Доставлено"
    assert world.store.lan_messages(world.adviser()["id"])


# -- «Шаблоны сообщений» ----------------------------------------------------------------------


def _booked(world: World, number: int = 0, sms: str = "yes") -> str:
    party = world.person(number, sms=sms)
    car = world.db.execute("SELECT id FROM cars WHERE owner_id = ?", [party["id"]]).fetchone()[0]
    visit = world.clock() + timedelta(days=1, hours=1)
    draft = AppointmentDraft(party["id"], visit, car, world.adviser()["id"], "ТО")
    return book_appointment(world.hub, draft, world.clock())


def _template(vm: TemplatesVM, name: str) -> str:
    return next(r["template_id"] for r in vm.tree if r.get("title") == name)


def test_the_tree_groups_types_by_category_with_event_and_schedule_marks(world: World) -> None:
    vm = TemplatesVM(world.store, clock=world.clock)
    vm.set_category("")
    headers = [r["title"] for r in vm.tree if r["viewclass"] == "NtplCategoryRow"]
    assert headers == ["СЕРВИС", "САЛОН ПРОДАЖ", "СКЛАД", "CRM", "ОБЩЕЕ"]
    types = {r["code"]: r for r in vm.tree if r["viewclass"] == "NtplTypeRow"}
    assert len(types) == 21
    assert types["appointment_booked"]["icon"] == "lightning-bolt"
    assert types["appointment_day_before"]["icon"] == "calendar-clock"
    assert types["stock_report"]["note"] == "пока не формируется"
    assert types["birthday"]["note"] == ""
    vm.set_category("crm")
    assert {r["code"] for r in vm.tree if r["viewclass"] == "NtplTypeRow"} == {
        "appointment_day_before", "appointment_booked", "repair_status", "birthday",
        "appointment_before_visit",
    }  # fmt: skip


def test_the_preview_renders_real_data_and_counts_sms_segments_while_typing(
    world: World,
) -> None:
    doc = _booked(world)
    vm = TemplatesVM(world.store, clock=world.clock)
    vm.open(_template(vm, "ОповещениеПредваритЗапись"))
    assert vm.show_calc_time and vm.calc_time == "20:00" and vm.relevance_hours == "1"
    assert vm.channel_kind == "sms" and vm.sample_key == f"doc:{doc}"
    client = world.store.document_rows([doc])[0]["full_name"]
    assert vm.preview_text.startswith(f"Здравствуйте, {client} !")
    assert "{" not in vm.preview_text and "пр. Гагарина, 230" in vm.preview_text
    stats = sms_stats(vm.preview_text)
    assert vm.sms_text.startswith(f"СМС: {stats.segments} части · {stats.units} символ")
    assert "кириллица, до 67 в части" in vm.sms_text
    vm.set_value("body", "Hello")
    assert vm.sms_text == "СМС: 1 часть · 5 символов · латиница, до 160 в части · осталось 155"
    assert vm.dirty and vm.sms_tone == "processed"
    at = vm.insert_placeholder("fio", 5)
    assert vm.body == "Hello{fio}" and at == 10 and client in vm.preview_text
    vm.set_value("body", "{plate} {doc_no} " + "Ж" * 500)
    assert vm.sms_tone == "danger" and "будет обрезано" in vm.sms_text
    assert vm.missing_text == "Нет данных для: {doc_no}"  # an appointment has no number
    assert vm.preview_text.startswith(world.store.document_rows([doc])[0]["plate"])
    i18n.set_lang("en")
    assert vm.sms_text.startswith("SMS: 6 parts")


def test_saving_a_template_and_its_rule_with_translated_errors(world: World) -> None:
    vm = TemplatesVM(world.store, clock=world.clock)
    vm.open(_template(vm, "ОповещениеПредваритЗапись"))
    vm.set_value("body", "Здравствуйте, {fio}! {cost}")
    assert not vm.save() and vm.error.startswith("Неизвестная подстановка {cost}")
    vm.set_value("body", "Здравствуйте, {fio}! Ждём Вас {datetime}.")
    vm.set_value("calc_time", "25:99")
    assert not vm.save() and vm.error == "Время расчёта — ЧЧ:ММ, например 20:00"
    vm.set_value("calc_time", "19:30")
    vm.set_value("relevance_hours", "два")
    assert not vm.save() and vm.error.startswith("Нужно число")
    vm.set_value("relevance_hours", "1,5")
    vm.set_value("kinds", "ТО, Ремонт")
    assert vm.save(), vm.error
    assert vm.notice == "Шаблон сохранён" and not vm.dirty
    rule = world.store.rule(vm.rule_id)
    assert rule["calc_time"] == "19:30" and rule["relevance_hours"] == 1.5
    assert rule["appointment_kinds"] == '["ТО", "Ремонт"]'
    assert world.store.template(vm.template_id)["body"].endswith("{datetime}.")


def test_a_new_template_of_a_type_brings_its_rule_defaults(world: World) -> None:
    vm = TemplatesVM(world.store, clock=world.clock)
    vm.new_template("appointment_before_visit")
    assert vm.is_new and vm.show_offset and not vm.show_calc_time and vm.offset_minutes == "120"
    assert vm.channel_kind == "sms"
    vm.set_value("name", "Перед визитом (2)")
    vm.insert_placeholder("name")
    vm.insert_placeholder("time")
    assert vm.save(), vm.error
    assert world.store.rule(vm.rule_id)["offset_minutes"] == 120
    vm.new_template("birthday")
    assert vm.show_calc_time and vm.sample_options and vm.sample_key.startswith("cp:")
    vm.set_value("body", "{name}, с днём рождения!")
    assert "⟨name?⟩" not in vm.preview_text


def test_the_test_recipient_gets_the_template_through_the_hub(world: World) -> None:
    _booked(world)
    vm = TemplatesVM(world.store, clock=world.clock)
    vm.open(_template(vm, "Подтверждение П/З"))
    assert not vm.send_test() and vm.error == "Укажите тестового получателя"
    vm.set_value("test_address", "+79250000001")
    assert vm.send_test(), vm.error
    assert vm.test_text == "В очереди: тестовое сообщение отправит хаб"
    world.hub_tick()
    vm.update_test()
    assert vm.test_text == "Тест: Отправлено"
    test = next(o for o in world.transport.sent if o.address == "+79250000001")
    assert "подтверждена" in test.body


# -- «Журнал сообщений» -----------------------------------------------------------------------


def test_the_journal_lists_messages_and_addressees_with_refusal_reasons(world: World) -> None:
    _booked(world, 0, sms="yes")
    _booked(world, 1, sms="no")
    world.hub_tick()
    vm = JournalVM(world.store, clock=world.clock)
    assert vm.count_text == "4 сообщения"  # a confirmation and a LAN note per booking
    sms_rows = [r for r in vm.rows if r["template"] == "Подтверждение П/З"]
    assert {r["state"] for r in sms_rows} == {"Отправлено", "Отказ"}
    row = sms_rows[0]
    assert row["category"] == "CRM"
    assert row["type"] == "Напоминание о записи на сервис в момент записи"
    refused = next(i for i, r in enumerate(vm.rows) if r["state"] == "Отказ")
    vm.select(refused)
    (a,) = vm.addressees
    assert a["info"] == "Отказ: нет согласия клиента на рассылку СМС"
    assert a["address"].startswith("+7") and a["kind"] == "SMS" and a["sent_at"] == ""
    assert "подтверждена" in vm.text and vm.title == "Сообщение (номер даст хаб)"
    sent = next(i for i, r in enumerate(vm.rows) if r["state"] == "Отправлено")
    vm.select(sent)
    assert vm.addressees[0]["sent_at"] == "03.12.2026 12:00"


def test_journal_filters(world: World) -> None:
    _booked(world, 0, sms="yes")
    _booked(world, 1, sms="no")
    world.hub_tick()
    vm = JournalVM(world.store, clock=world.clock)
    vm.set_filter("unsent_only", True)
    assert [r["state"] for r in vm.rows] == ["Отказ"]
    vm.reset()
    vm.set_filter("channel_kind", "lan")
    assert {r["template"] for r in vm.rows} == {"Новая запись (консультанту)"}
    vm.reset()
    vm.set_category("salon")
    assert vm.rows == [] and vm.count_text == "0 сообщений"
    assert {o[0] for o in vm.type_options} == {
        "", "shipment_event", "sale_status", "shipment_schedule", "handover_due",
        "free_stock_export",
    }  # fmt: skip
    vm.set_category("crm")
    vm.set_filter("type_code", "appointment_booked")
    assert len(vm.rows) == 4
    vm.set_filter("date_from", "04.12.2026")
    assert vm.rows == []
    vm.set_filter("date_from", "03.12.2026")
    vm.set_filter("date_to", "03.12.2026")
    assert len(vm.rows) == 4
    vm.set_filter("date_to", "31.02.2026")
    assert vm.error == "Дата — ДД.ММ.ГГГГ, например 20.12.2026" and vm.rows == []
    vm.reset()
    vm.set_filter("number", "12ab")
    assert vm.error.startswith("Нужно число")
    vm.set_filter("number", "5094")
    assert vm.error == "" and vm.rows == []
    vm.last_days(7)
    assert vm.date_from == "27.11.2026" and vm.date_to == "03.12.2026"


def test_the_journal_shows_the_first_rows_of_many(world: World) -> None:
    for i in range(3):
        _booked(world, i)
    world.hub_tick()
    vm = JournalVM(world.store, clock=world.clock, limit=4)
    assert len(vm.rows) == 4
    assert vm.count_text == "Показаны первые 4 строк, удовлетворяющих условиям фильтра"


def test_every_key_built_at_runtime_has_both_languages() -> None:
    from lsnode.notify.catalog import PLACEHOLDERS, TYPES, AppointmentStatus
    from lsnode.notify.channels import SECURITY
    from lsnode.store.schema import CHANNEL_KINDS, DELIVERY_STATUSES, NOTIFY_CATEGORIES
    from lsnode.ui.screens.appointments import ACTIONS, PERIODS

    outcomes = (
        "template_disabled", "no_channel", "channel_disabled", "no_recipient", "not_a_person",
        "no_consent_sms", "no_consent_email", "no_address", "no_employee", "secret_error",
        "interrupted", "expired",
    )  # fmt: skip
    keys = [f"notify.cat.{c}" for c in NOTIFY_CATEGORIES]
    keys += [f"notify.kind.{k}" for k in CHANNEL_KINDS]
    keys += [f"nch.test_to.{k}" for k in CHANNEL_KINDS]
    keys += [f"notify.state.{s}" for s in DELIVERY_STATUSES]
    keys += [f"notify.why.{o}" for o in outcomes]
    keys += [f"notify.type.{t.code}" for t in TYPES]
    keys += [f"ntpl.about.{t.code}" for t in TYPES if t.built]
    keys += [f"ntpl.ph.{p}" for p in PLACEHOLDERS]
    keys += [f"notify.appt.{s.value}" for s in AppointmentStatus]
    keys += [f"appt.do.{a}" for a in ACTIONS] + [f"appt.period.{p}" for p in PERIODS]
    keys += [f"nch.sec.{s}" for s in SECURITY] + ["notify.trigger.event", "notify.trigger.schedule"]
    keys += [f"ntpl.enc.{e}" for e in ("gsm7", "ucs2")]
    assert [k for k in keys if not i18n.has(k)] == []


def test_what_the_screens_write_passes_the_hubs_check_of_pushed_rows(world: World) -> None:
    """A rule's relevance is REAL: the hub must accept it as pushed (it once refused floats)."""
    from lsnode.store.replica import pending, validate_state

    vm = TemplatesVM(world.store, clock=world.clock)
    vm.open(_template(vm, "ОповещениеПредваритЗапись"))
    vm.set_value("relevance_hours", "1,5")
    assert vm.save(), vm.error
    channels = _channels(world)
    channels.set_name("SMS-шлюз")
    assert channels.save(), channels.error
    states = [state for _seq, state in pending(world.db, 0, 10_000)[0]]
    assert {"notify_rules", "notify_templates", "notify_channels"} <= {s.table for s in states}
    for state in states:
        validate_state(state)
