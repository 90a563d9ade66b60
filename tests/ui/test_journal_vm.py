"""The traffic journal's view-model without a window: filters → ``JournalQuery``, rights cut the
scopes, the brochure's columns as row dicts, bulk actions report per row, switches, the bench.

A demo base (``lsavto demo-data``, 150 clients, «today» = 03.12.2026) is built once per module
and copied for each test that writes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from lsnode.cli import seed_demo
from lsnode.crm.staff import Session, session_of
from lsnode.crm.traffic import Action, Claim, Traffic, TrafficDraft
from lsnode.store.changes import Writer
from lsnode.store.db import open_store
from lsnode.store.repos import SqliteClients
from lsnode.store.traffic import SqliteTraffic
from lsnode.ui import i18n
from lsnode.ui.context import HubUnavailable
from lsnode.ui.screens.journal import (
    FilterError,
    JournalFilters,
    JournalVM,
    allowed_scopes,
    build_query,
    format_duration,
    measure_journal,
    period_bounds,
    shown,
)

TODAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # 20:30 in Moscow: the day's work is done


@pytest.fixture(scope="module")
def demo_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("journal") / "demo"
    seed_demo(path, 150, 7, TODAY)
    return path


@pytest.fixture(autouse=True)
def _no_kv_rules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """View-model tests draw nothing: a language switch here must not re-run the kv rules of
    widgets that other tests' apps left behind (their ``app`` is gone)."""
    monkeypatch.setattr(i18n.TR, "notify", lambda: None)
    yield
    i18n.set_lang("ru")  # while kv stays quiet; the conftest's reset is then a no-op


@pytest.fixture(autouse=True)
def _moscow() -> Iterator[None]:
    i18n.set_timezone("Europe/Moscow")
    yield
    i18n.set_timezone(None)


class Arbiter:
    """The hub's decision, scripted: ``refuse[traffic_id] = winner`` loses that race."""

    def __init__(self) -> None:
        self.refuse: dict[str, str] = {}
        self.offline = False

    def claim(self, table: str, row_id: str, column: str, value: Any, expect: Any) -> Claim:
        if self.offline:
            raise HubUnavailable("offline")
        if row_id in self.refuse:
            return Claim(False, self.refuse[row_id])
        return Claim(True, value)


class Desk:
    """A node over a copy of the demo base, with a VM for whoever is signed in."""

    def __init__(self, data: Path) -> None:
        self.db: Database = open_store(data)
        self.reader = SqliteTraffic(self.db)
        self.clients = SqliteClients(self.db)
        self.writer = Writer(self.db)
        self.arbiter = Arbiter()
        self.traffic = Traffic(
            self.writer, self.reader, self.reader, self.clients, lambda: NOW, self.arbiter
        )
        self.session: Session | None = None
        self.vm = JournalVM(
            reader=self.reader,
            traffic=self.traffic,
            session=lambda: self.session,
            clock=lambda: NOW,
        )

    def employee(self, short_name: str) -> Session:
        emp = next(e for e in self.reader.employees() if e["short_name"] == short_name)
        return session_of(emp)

    def sign_in(self, short_name: str) -> Session:
        self.session = self.employee(short_name)
        return self.session


@pytest.fixture
def desk(demo_base: Path, tmp_path: Path) -> Iterator[Desk]:
    data = tmp_path / "node"
    shutil.copytree(demo_base, data)
    d = Desk(data)
    yield d
    d.db.close()


# --- filters → query --------------------------------------------------------------------------


def test_every_filter_lands_in_the_journal_query(desk: Desk) -> None:
    admin = desk.employee("Матвеев А.А.")
    purpose = desk.reader.purposes()[0]["id"]
    emp = desk.employee("Петухов В.П.").employee_id
    filters = JournalFilters(
        period="today",
        contact_types=frozenset({"call"}),
        purpose_id=purpose,
        employee_id=emp,
        statuses=frozenset({"new", "in_work"}),
        branch_id="b1",
        number="№ 59452",
        client_name="  Иванов  Василий ",
        phone="8 (925) 111-22-33",
    )
    q = build_query(filters, admin, NOW)
    assert q.me == admin.employee_id and q.scope == {"mine", "others", "unassigned"}
    assert q.contact_types == {"call"} and q.purpose_ids == {purpose}
    assert q.employee_id == emp and q.statuses == {"new", "in_work"} and q.branch_id == "b1"
    assert q.number == 59452 and q.client_name_key == "иванов василий"
    assert q.phone_e164 == "+79251112233" and q.phone_suffix == ""
    # «Сегодня» in Moscow: 03.12 00:00 MSK = 02.12 21:00 UTC, up to the next midnight
    assert (q.date_from, q.date_to) == ("2026-12-02T21:00:00.000Z", "2026-12-03T21:00:00.000Z")
    # the last digits of a phone search the client's contacts by their ending
    assert build_query(JournalFilters(phone="22-33"), admin, NOW).phone_suffix == "3322"


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("yesterday", "2026-12-01T21:00:00.000Z", "2026-12-02T21:00:00.000Z"),
        ("week", "2026-11-26T21:00:00.000Z", "2026-12-03T21:00:00.000Z"),
        ("month", "2026-11-30T21:00:00.000Z", "2026-12-03T21:00:00.000Z"),
        ("all", None, None),
    ],
)
def test_periods_are_the_dealers_days(period: str, start: str | None, end: str | None) -> None:
    assert period_bounds(period, NOW) == (start, end)


def test_a_custom_period_is_inclusive_and_checked() -> None:
    assert period_bounds("custom", NOW, "01.12.2017", "18.12.17") == (
        "2017-11-30T21:00:00.000Z",
        "2017-12-18T21:00:00.000Z",
    )
    assert period_bounds("custom", NOW, "", "18.12.2017") == (None, "2017-12-18T21:00:00.000Z")
    with pytest.raises(FilterError) as bad:
        period_bounds("custom", NOW, "32.12.2017")
    assert bad.value.text() == (
        "Дата «32.12.2017» не распознана: нужна ДД.ММ.ГГГГ, например 01.12.2017"
    )
    with pytest.raises(FilterError, match="starts after"):
        period_bounds("custom", NOW, "18.12.2017", "01.12.2017")


def test_a_filter_that_cannot_be_searched_says_so_and_keeps_the_rows(desk: Desk) -> None:
    desk.sign_in("Матвеев А.А.")
    desk.vm.reload()
    shown = len(desk.vm.rows)
    assert shown > 0 and desk.vm.error_text == ""
    desk.vm.set_filters(number="59452а")
    assert desk.vm.error_text == "ID трафика — это число, например 59452"
    assert len(desk.vm.rows) == shown
    desk.vm.set_filters(number="", phone="12")
    assert desk.vm.error_text == "Телефон: введите номер или хотя бы 4 последние цифры"
    i18n.set_lang("en")
    assert desk.vm.error_text == "Phone: type the number or at least its last 4 digits"
    desk.vm.set_filters(phone="")
    assert desk.vm.error_text == ""


# --- rights -------------------------------------------------------------------------------------


def test_rights_cut_the_scopes_a_salesman_sees_his_own_and_the_unassigned(desk: Desk) -> None:
    me = desk.sign_in("Петухов В.П.")
    assert allowed_scopes(me) == {"mine", "unassigned"}
    desk.vm.set_filters(period="all")
    vm = desk.vm
    assert (vm.can_mine, vm.can_others, vm.can_unassigned) == (True, False, True)
    assert not vm.can_assign and vm.can_take and vm.can_ignore
    assert build_query(vm.filters, me, NOW).scope == {"mine", "unassigned"}
    assert vm.rows and all(r["responsible_id"] in (None, me.employee_id) for r in vm.rows)
    mine = [r for r in vm.rows if r["responsible_id"] == me.employee_id]
    vm.toggle_scope("unassigned")
    assert [r["id"] for r in vm.rows] == [r["id"] for r in mine]
    vm.toggle_scope("mine")
    assert vm.rows == [] and vm.notice.startswith("Выберите, чей трафик показать")

    desk.sign_in("Перязева Н.")  # a secretary sees everyone's
    vm.set_filters(scope={"mine", "others", "unassigned"})
    assert vm.can_others and vm.can_assign
    assert any(r["responsible_id"] not in (None, desk.session.employee_id) for r in vm.rows)


def test_nobody_signed_in_sees_nothing(desk: Desk) -> None:
    desk.vm.reload()
    assert desk.vm.rows == [] and not desk.vm.signed_in
    assert desk.vm.notice == "Войдите по PIN-коду, чтобы видеть трафик"
    assert allowed_scopes(None) == frozenset()


# --- rows ---------------------------------------------------------------------------------------


def test_rows_carry_the_brochures_columns_as_display_strings(desk: Desk) -> None:
    admin = desk.sign_in("Матвеев А.А.")
    tid = desk.traffic.register(
        TrafficDraft(
            contact_type="call",
            department="service",
            purpose_id=next(p["id"] for p in desk.reader.purposes() if p["code"] == 2),
            counterparty_id=desk.clients.counterparty_by_number(1)["id"],
            phone="8(925)111-22-33",
            note="Стук в подвеске",
            contact_at=NOW - timedelta(minutes=30),
        ),
        admin,
        Action.FINISH,
    ).traffic_id
    desk.vm.set_filters(period="today")
    vm = desk.vm
    row = shown(vm.rows[0], vm.names)
    assert row["tid"] == tid  # newest first
    assert row["number"] == "—"  # the hub has not numbered it yet
    assert row["when"] == "03.12.2026 20:00"
    assert row["assigned"] == "Матвеев А.А." and row["processed"] == ""
    assert row["purpose"] == "Ремонт автомобиля" and row["purpose_short"] == "Ремонт"
    assert row["client"] == "Иванов В.А." and row["phone"] == "8(925)111-22-33"
    assert row["duration"] == "30:00" and row["note"] == "Стук в подвеске"
    assert (row["status_text"], row["tone"]) == ("В работе", "in_work")
    assert row["ctype"] == "call" and row["selected"] is False
    assert desk.vm.count_text == f"{len(desk.vm.rows)} из {desk.vm.total}"
    rows = [shown(r, vm.names) for r in vm.rows]
    assert all(r["number"].isdigit() for r in rows[1:])
    processed = [r for r in rows if r["status"] == "document_created"]
    assert all(r["tone"] == "processed" and r["document"] for r in processed)
    i18n.set_lang("en")
    assert shown(vm.rows[0], vm.names)["status_text"] == "In work"
    assert vm.count_text == f"{len(vm.rows)} of {vm.total}"
    assert format_duration(3723) == "1:02:03" and format_duration(None) == ""


def test_filters_narrow_the_rows_and_the_count(desk: Desk) -> None:
    desk.sign_in("Матвеев А.А.")
    vm = desk.vm
    vm.set_filters(period="all")
    everything = int(vm.total)
    assert everything == len(vm.rows) > 100
    vm.set_filters(statuses={"ignored"})
    assert 0 < vm.total < everything
    assert {r["status"] for r in vm.rows} == {"ignored"}
    assert vm.summary == "Проигнорирован" and vm.extra_text == "Фильтр · 1"
    vm.set_filters(contact_types={"visit"})
    assert {r["contact_type"] for r in vm.rows} == {"visit"}
    number = vm.rows[0]["number"]
    vm.reset()
    vm.set_filters(number=str(number))
    assert [r["number"] for r in vm.rows] == [number] and vm.count_text == "1 из 1"
    vm.reset()
    vm.set_filters(client_name="иванов васил")
    assert vm.rows and {r["client_name"] for r in vm.rows} == {"Иванов В.А."}


# --- selection and bulk actions -----------------------------------------------------------------


def _new_unassigned(desk: Desk, n: int) -> list[str]:
    admin = desk.employee("Перязева Н.")
    purpose = next(p["id"] for p in desk.reader.purposes() if p["code"] == 1)
    ids = []
    for i in range(n):
        draft = TrafficDraft(
            contact_type="visit",
            department="salon",
            purpose_id=purpose,
            phone=f"8 916 000-00-0{i}",
            make_model="Kia Rio",
            contact_at=NOW - timedelta(minutes=10 - i),
        )
        ids.append(desk.traffic.register(draft, admin, Action.QUEUE).traffic_id)
    return ids


def test_bulk_take_reports_each_rows_outcome(desk: Desk) -> None:
    a, b, c = _new_unassigned(desk, 3)
    badovets = desk.employee("Бадовец А.В.")
    desk.arbiter.refuse[b] = badovets.employee_id  # he tapped first on another tablet
    me = desk.sign_in("Петухов В.П.")
    desk.traffic.ignore(c, "Ошибся адресом", me)  # gone before the bulk action
    desk.vm.set_filters(period="today")
    for tid in (a, b, c):
        assert desk.vm.toggle(tid)
    assert desk.vm.selected_count == 3 and desk.vm.selected_text == "Выбрано 3 контакта"
    outcomes = {o.traffic_id: o for o in desk.vm.take()}
    assert outcomes[a].ok and outcomes[a].message == "взят вами"
    assert not outcomes[b].ok and outcomes[b].message == "уже взят: Бадовец А.В."
    assert not outcomes[c].ok and outcomes[c].message == "нельзя: контакт «Проигнорирован»"
    assert outcomes[a].label == "№ —"
    row_a = desk.reader.traffic(a)
    assert row_a is not None and row_a["responsible_id"] == me.employee_id
    assert desk.vm.selected == {b, c}  # what failed stays selected
    desk.arbiter.offline = True
    outcomes = {o.traffic_id: o for o in desk.vm.take([b])}
    assert outcomes[b].message.startswith("Нет связи с хабом")


def test_bulk_assign_and_ignore(desk: Desk) -> None:
    a, b = _new_unassigned(desk, 2)
    desk.sign_in("Перязева Н.")
    desk.vm.set_filters(period="today")
    desk.vm.select_all()
    assert desk.vm.selected_count == len(desk.vm.rows)
    desk.vm.clear_selection()
    assert desk.vm.selected_count == 0 and not any(r["selected"] for r in desk.vm.rows)
    badovets = desk.employee("Бадовец А.В.")
    choices = {c["name"]: c for c in desk.vm.assign_choices()}
    assert choices["Бадовец А.В."]["presence"] == "busy"
    outcomes = desk.vm.assign(badovets.employee_id, [a, b])
    assert [o.message for o in outcomes] == ["назначен: Бадовец А.В."] * 2
    assert [r["id"] for r in desk.reader.inbox(badovets.employee_id)][-2:] == [a, b]
    with pytest.raises(FilterError):
        desk.vm.ignore("  ", [a])
    outcomes = desk.vm.ignore("Зашел/вышел", [a])
    assert outcomes[0].ok and outcomes[0].message == "проигнорирован"
    row = desk.reader.traffic(a)
    assert row is not None and (row["status"], row["ignore_reason"]) == ("ignored", "Зашел/вышел")
    desk.session = None
    gone = desk.vm.ignore("Зашел/вышел", [b])
    assert [(o.ok, o.message) for o in gone] == [
        (False, "Войдите по PIN-коду, чтобы видеть трафик")
    ]


def test_switches_of_a_row_and_the_play_hook(desk: Desk) -> None:
    desk.sign_in("Матвеев А.А.")
    desk.vm.set_filters(period="all")
    row = next(r for r in desk.vm.rows if r["switch_count"])
    lines = desk.vm.switch_lines(row["id"])
    assert len(lines) == row["switch_count"] and lines[0].startswith("1. ")
    assert "→" in lines[0]
    assert not desk.vm.can_play
    desk.vm.recording_of = lambda tid: f"/rec/{tid}.wav"
    desk.vm.toggle(row["id"])
    assert desk.vm.can_play and desk.vm.play() == f"/rec/{row['id']}.wav"


def test_measure_journal_times_opening_and_filtering(demo_base: Path) -> None:
    result = measure_journal(demo_base, runs=1)
    assert result["rows"] > 100 and 0 < result["filtered_rows"] < result["rows"]
    assert result["open_ms"] > 0 and result["filter_ms"] > 0 and result["limit_ms"] == 300
