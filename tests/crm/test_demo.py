"""The demo dealership: reproducible, believable, and consistent with the normalisers."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from lsnode.crm.demo import ABC_LETTERS, DemoSummary, generate_demo, inn_ok
from lsnode.crm.normalize import (
    name_key,
    normalize_phone,
    normalize_plate,
    normalize_vin,
    short_name,
    vin_check_digit,
)
from lsnode.ids import uuid7_ms
from lsnode.store.changes import Writer
from lsnode.store.db import init_store, memory_store
from lsnode.store.schema import BY_NAME, TABLES

TODAY = dt.date(2026, 12, 3)
CLOCK = "2026-12-03T09:00:00.000Z"
CLIENTS = 1500
Rows = list[dict[str, Any]]


def build(clients: int, seed: int, db: Database | None = None, batch: int = 5000) -> Database:
    db = db or memory_store()
    writer = Writer(db, clock=lambda: CLOCK)
    with db.atomic():
        generate_demo(writer, clients=clients, seed=seed, today=TODAY, batch=batch)
    return db


def rows(db: Database, sql: str, params: tuple[Any, ...] = ()) -> Rows:
    cur = db.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row and column of every replicated table (the store's sync metadata aside)."""
    return {t.name: db.execute(f"SELECT * FROM {t.name} ORDER BY id").fetchall() for t in TABLES}


def iso_of_ms(ms: int) -> str:
    at = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, DemoSummary]]:
    """One demo of CLIENTS clients in a real data dir, shared by the read-only tests below."""
    db = init_store(Path(tmp_path_factory.mktemp("demo")) / "data")
    writer = Writer(db, clock=lambda: CLOCK)
    with db.atomic():
        summary = generate_demo(writer, clients=CLIENTS, seed=7, today=TODAY)
    yield db, summary
    db.close()


@pytest.fixture(scope="module")
def db(demo: tuple[Database, DemoSummary]) -> Database:
    return demo[0]


# -- reproducibility ------------------------------------------------------------------------


def test_same_seed_and_day_write_identical_rows() -> None:
    assert dump(build(300, seed=11)) == dump(build(300, seed=11))


def test_another_seed_writes_other_rows() -> None:
    a, b = dump(build(300, seed=11)), dump(build(300, seed=12))
    assert a["counterparties"] != b["counterparties"]
    assert a["cars"] != b["cars"]


def test_batch_size_changes_nothing_written() -> None:
    assert dump(build(60, seed=3, batch=7)) == dump(build(60, seed=3))


def test_no_clients_writes_reference_data_only() -> None:
    db = memory_store()
    summary = generate_demo(Writer(db, clock=lambda: CLOCK), clients=0, seed=1, today=TODAY)
    assert summary.counts["employees"] == 23
    assert summary.counts["contact_purposes"] >= 20
    assert summary.counts["counterparties"] == summary.counts["traffic"] == 0


def test_bad_arguments_are_refused() -> None:
    writer = Writer(memory_store(), clock=lambda: CLOCK)
    with pytest.raises(ValueError):
        generate_demo(writer, clients=-1, seed=1, today=TODAY)
    with pytest.raises(ValueError):
        generate_demo(writer, clients=1, seed=1, today=TODAY, batch=0)


# -- shape of the base --------------------------------------------------------------------------


def test_summary_counts_what_is_in_the_tables(demo: tuple[Database, DemoSummary]) -> None:
    db, summary = demo
    for table in TABLES:
        n = db.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
        assert summary.counts[table.name] == n, table.name


def test_proportions(demo: tuple[Database, DemoSummary]) -> None:
    _, summary = demo
    counts = summary.counts
    assert counts["counterparties"] == CLIENTS
    assert 1.35 <= counts["cars"] / CLIENTS <= 1.65
    assert 1.3 <= counts["contacts"] / CLIENTS <= 2.4
    assert 1.2 <= counts["documents"] / CLIENTS <= 3.0
    assert 0.75 <= counts["traffic"] / CLIENTS <= 1.25
    assert counts["traffic_switches"] > 0
    assert counts["regions"] >= 4 and counts["branches"] == 2


def test_about_ninety_percent_are_persons(db: Database) -> None:
    kinds = dict(db.execute("SELECT kind, count(*) FROM counterparties GROUP BY kind").fetchall())
    assert 0.86 <= kinds["person"] / CLIENTS <= 0.94


def test_numbers_run_from_one_in_registration_order(db: Database) -> None:
    for table in ("counterparties", "cars", "traffic"):
        numbers = [r[0] for r in db.execute(f"SELECT number FROM {table} ORDER BY number")]
        assert numbers == list(range(1, len(numbers) + 1)), table
    regs = [r[0] for r in db.execute("SELECT registered_at FROM counterparties ORDER BY number")]
    assert regs == sorted(regs)
    assert dt.date.fromisoformat(regs[1]) >= dt.date(2016, 12, 3)


def test_ids_carry_the_moment_the_row_stands_for(db: Database) -> None:
    for row in rows(db, "SELECT id, contact_at FROM traffic"):
        assert iso_of_ms(uuid7_ms(row["id"])) == row["contact_at"]
    for row in rows(db, "SELECT id, registered_at FROM counterparties"):
        assert iso_of_ms(uuid7_ms(row["id"]))[:10] == row["registered_at"]
    for row in rows(db, "SELECT id, doc_date FROM documents"):
        assert iso_of_ms(uuid7_ms(row["id"]))[:10] == row["doc_date"]
    for table in TABLES:
        if "created_at" not in BY_NAME[table.name].writable:
            continue  # the store stamps it; nothing of ours to check
        for row in rows(db, f"SELECT id, created_at FROM {table.name}"):
            assert iso_of_ms(uuid7_ms(row["id"])) == row["created_at"]


# -- people -------------------------------------------------------------------------------------


def test_person_names_agree_in_gender_and_keys(db: Database) -> None:
    people = rows(db, "SELECT * FROM counterparties WHERE kind = 'person'")
    for p in people:
        assert p["full_name"] == " ".join(
            x for x in (p["surname"], p["given_name"], p["patronymic"]) if x
        )
        assert p["name_key"] == name_key(p["full_name"])
        assert p["short_name"] == short_name(p["surname"], p["given_name"], p["patronymic"])
        assert p["inn"] is None and p["company_name"] == ""
        if p["surname"].endswith(("ова", "ева", "ёва", "ина", "ская")):
            assert p["patronymic"].endswith("на") or not p["patronymic"], p["full_name"]
        if p["surname"].endswith(("ов", "ев", "ин", "ский")):
            assert p["patronymic"].endswith("ич") or not p["patronymic"], p["full_name"]


def test_companies_have_valid_inns(db: Database) -> None:
    companies = rows(db, "SELECT * FROM counterparties WHERE kind = 'company'")
    assert companies
    for c in companies:
        assert c["company_name"] == c["full_name"] == c["short_name"]
        assert c["full_name"].startswith(("ООО ", "АО ", "ИП "))
        assert inn_ok(c["inn"]), c
        assert len(c["inn"]) == (12 if c["full_name"].startswith("ИП ") else 10)


def test_inn_check_digits() -> None:
    assert inn_ok("7707083893")  # Сбербанк
    assert not inn_ok("7707083894")
    assert inn_ok("500100732259")
    assert not inn_ok("500100732258")
    assert not inn_ok("12345")


def test_consents_are_mixed(db: Database) -> None:
    for col in ("consent_pd", "consent_phone_survey", "consent_sms", "consent_email"):
        seen = {r[0] for r in db.execute(f"SELECT DISTINCT {col} FROM counterparties")}
        assert seen == {"unknown", "yes", "no"}, col


def test_employees_as_in_the_brochure(db: Database) -> None:
    staff = {r["short_name"]: r for r in rows(db, "SELECT * FROM employees")}
    assert staff["Петухов В.П."]["extension"] == "1102"
    assert staff["Бадовец А.В."]["extension"] == "008"
    assert staff["Перязева Н."]["extension"] == "005"
    assert staff["Сардин Э.В."]["extension"] == "1113"
    assert staff["Аминева В.Р."]["extension"] is None
    from lsnode.crm.demo import DEMO_PIN
    from lsnode.crm.staff import verify_pin

    assert all(verify_pin(DEMO_PIN, r["pin_hash"]) for r in staff.values())
    assert not verify_pin("0000", staff["Петухов В.П."]["pin_hash"])
    roles = {r["role"] for r in staff.values()}
    assert roles == {"secretary", "manager", "adviser", "admin", "marketing"}
    for r in staff.values():
        assert set(json.loads(r["departments"])) <= {
            "service",
            "salon",
            "shop",
            "feedback",
            "other",
        }


def test_contact_purposes_as_in_the_brochure(db: Database) -> None:
    purposes = {r["code"]: r for r in rows(db, "SELECT * FROM contact_purposes")}
    new_car = purposes[1]
    assert (new_car["full_name"], new_car["short_name"]) == (
        "Покупка нового автомобиля",
        "Новый а/м",
    )
    assert (new_car["require_car"], new_car["auto_ignore_days"]) == (1, 7)
    assert (purposes[2]["department"], purposes[2]["direction"]) == ("service", "in")
    assert (purposes[8]["department"], purposes[8]["direction"]) == ("salon", "out")
    assert purposes[21]["department"] == "shop"
    names = {r["full_name"] for r in purposes.values()}
    assert {"Отзыв/претензия", "Прочее", "SCI", "Холодный обзвон (салон)"} <= names
    employees = {r[0] for r in db.execute("SELECT id FROM employees")}
    for p in purposes.values():
        staff = json.loads(p["employee_ids"])
        assert staff and set(staff) <= employees


# -- contacts, cars -----------------------------------------------------------------------------


def test_every_phone_is_keyed_by_the_normaliser(db: Database) -> None:
    phones = rows(db, "SELECT * FROM contacts WHERE kind = 'phone'")
    for c in phones:
        phone = normalize_phone(c["value"])
        assert c["phone_e164"] == phone.e164, c
        assert c["phone_rev"] == (phone.reversed_digits or None)
        assert c["valid"] == int(phone.valid)
    invalid = [c for c in phones if not c["valid"]]
    assert 0 < len(invalid) < 0.05 * len(phones)
    styles = {c["value"][:2] for c in phones}
    assert {"8(", "+7", "89"} <= styles


def test_emails(db: Database) -> None:
    emails = rows(db, "SELECT * FROM contacts WHERE kind = 'email'")
    assert 0.4 * CLIENTS <= len(emails) <= 0.65 * CLIENTS
    for e in emails:
        assert "@" in e["value"] and e["email_key"] == e["value"].casefold()
        assert e["phone_e164"] is None


def test_plates_normalise_to_their_keys(db: Database) -> None:
    cars = rows(db, "SELECT * FROM cars WHERE plate != ''")
    assert len(cars) > 0.85 * CLIENTS
    for car in cars:
        plate = normalize_plate(car["plate"])
        assert plate.valid and plate.kind == "car", car["plate"]
        assert plate.key == car["plate_key"]
        assert plate.display == car["plate"]
        assert set(car["plate"][:1] + car["plate"][4:6]) <= set("АВЕКМНОРСТУХ")
    keys = [c["plate_key"] for c in cars]
    assert len(keys) == len(set(keys))


def test_vins_are_well_formed_and_about_half_pass_the_check_digit(db: Database) -> None:
    cars = rows(db, "SELECT * FROM cars WHERE vin != ''")
    ok = 0
    for car in cars:
        vin = normalize_vin(car["vin"])
        assert vin.valid and vin.value == car["vin"], car["vin"]
        ok += vin_check_digit(vin.value) == vin.value[8]
        wmi = car["vin"][:3]
        if car["make"] == "Mercedes-Benz":
            assert wmi in {"WDD", "WDB", "WDC", "WDF", "W1K", "W1N", "W1V"}
        else:
            assert wmi in {"XWE", "KNA", "Z94", "U5Y"}
    assert 0.35 <= ok / len(cars) <= 0.7


def test_cars_are_believable(db: Database) -> None:
    cars = rows(db, "SELECT * FROM cars")
    makes = {c["make"] for c in cars}
    assert makes == {"Mercedes-Benz", "Kia"}
    clients = {r[0] for r in db.execute("SELECT id FROM counterparties")}
    for car in cars:
        assert 2002 <= car["year"] <= TODAY.year
        assert 0 <= car["mileage"] <= 600_000
        assert car["owner_id"] in clients
        for col in ("customer_id", "trusted_person_id"):
            assert car[col] is None or (car[col] in clients and car[col] != car["owner_id"])
        if car["warranty_start"]:
            assert car["warranty_start"] <= TODAY.isoformat()
    assert any(c["customer_id"] for c in cars) and any(c["trusted_person_id"] for c in cars)


# -- the brochure's client ---------------------------------------------------------------------


def test_the_brochure_client_is_number_one(db: Database) -> None:
    [ivanov] = rows(db, "SELECT * FROM counterparties WHERE number = 1")
    assert ivanov["full_name"] == "Иванов Василий Алибабаевич"
    assert ivanov["short_name"] == "Иванов В.А."
    assert ivanov["registered_at"] == "2014-08-28"
    [phone] = rows(db, "SELECT * FROM contacts WHERE counterparty_id = ?", (ivanov["id"],))
    assert (phone["value"], phone["phone_e164"]) == ("8(925)111-22-33", "+79251112233")
    others = db.execute(
        "SELECT count(*) FROM contacts WHERE phone_e164 = '+79251112233'"
    ).fetchone()[0]
    assert others == 1
    cars = rows(db, "SELECT * FROM cars WHERE owner_id = ? ORDER BY number", (ivanov["id"],))
    got = [
        (c["plate_key"], c["year"], c["make"], c["modification"], c["mileage"], c["warranty_start"])
        for c in cars
    ]
    assert got == [
        ("H433AP12", 2010, "Mercedes-Benz", "E 220 CDI", 10_000, None),
        ("H542BY75", 2008, "Mercedes-Benz", "C 220 CDI", 136_504, "2009-04-08"),
    ]
    assert cars[0]["plate"] == "Н433АР12"
    [doc] = rows(
        db, "SELECT * FROM documents WHERE counterparty_id = ? AND is_open = 1", (ivanov["id"],)
    )
    assert (doc["doc_no"], doc["doc_type"], doc["status"], doc["amount_kop"]) == (
        "ЗН 14029",
        "pre_order",
        "Предв.РЗ",
        27_089,
    )
    assert doc["car_id"] == cars[1]["id"]
    assert db.execute("SELECT count(*) FROM documents WHERE doc_no = 'ЗН 14029'").fetchone()[0] == 1


def test_brochure_look_alikes_make_search_interesting(db: Database) -> None:
    names = {r[0] for r in db.execute("SELECT full_name FROM counterparties WHERE number <= 4")}
    assert {"Василий Алибабаевич", "Иванов Иван Иванович"} <= names


# -- documents and segmentation ----------------------------------------------------------------


def test_documents_fall_within_three_years(db: Database) -> None:
    lo = TODAY.replace(year=TODAY.year - 3).isoformat()
    first, last = db.execute("SELECT min(doc_date), max(doc_date) FROM documents").fetchone()
    assert lo <= first and last <= TODAY.isoformat()
    lines = {"work_order": "service", "pre_order": "service", "parts_sale": "parts"}
    lines["car_sale"] = "sales"
    for d in rows(db, "SELECT * FROM documents"):
        assert d["business_line"] == lines[d["doc_type"]]
        assert d["amount_kop"] > 0
        assert d["employee_id"] is not None or d["doc_no"] == "ЗН 14029"
        if d["is_open"]:
            assert d["status"] in ("В работе", "Предв.РЗ", "Резерв", "Договор", "Оплачен")
        else:
            assert d["status"] in ("Закрыт", "Оплачен", "Отменен", "Выдан")
    years = dict(db.execute("SELECT id, year FROM cars").fetchall())
    for car_id, doc_date in db.execute("SELECT car_id, doc_date FROM documents WHERE car_id"):
        assert years[car_id] <= int(doc_date[:4]), "a document on a car not yet made"
    per_client = db.execute(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM documents GROUP BY counterparty_id)"
    ).fetchone()[0]
    assert per_client <= 6
    numbers = [r[0] for r in db.execute("SELECT doc_no FROM documents")]
    assert len(numbers) == len(set(numbers))


def _abc(docs: Rows, line_sum: int, line_count: int) -> str:
    """SPEC §6, written out again on purpose: the test does not trust the code it checks."""
    a, b, c = "А", "В", "С"
    total = sum(d["amount_kop"] for d in docs)
    rub = Fraction(total, 100)
    days = (TODAY - max(dt.date.fromisoformat(d["doc_date"]) for d in docs)).days
    ratio = Fraction(total, len(docs)) / Fraction(line_sum, line_count)
    return "".join(
        (
            a if rub >= 100_001 else b if rub >= 50_001 else c,
            a if len(docs) >= 6 else b if len(docs) >= 2 else c,
            a if days <= 90 else b if days <= 180 else c,
            a if ratio >= Fraction(101, 100) else b if ratio >= Fraction(91, 100) else c,
        )
    )


def test_abc_codes_agree_with_a_recomputation(db: Database) -> None:
    lines = rows(db, "SELECT * FROM counterparty_lines")
    assert all(len(r["abc"]) == 4 and set(r["abc"]) <= set(ABC_LETTERS) for r in lines)
    assert ABC_LETTERS == ("А", "В", "С")  # Cyrillic, as the brochure's «САСА»
    docs: dict[tuple[str, str], Rows] = defaultdict(list)
    for d in rows(db, "SELECT * FROM documents"):
        docs[d["counterparty_id"], d["business_line"]].append(d)
    totals: dict[str, tuple[int, int]] = {}
    for line in ("service", "parts", "sales"):
        amounts = [d["amount_kop"] for (_, ln), group in docs.items() if ln == line for d in group]
        totals[line] = (sum(amounts), len(amounts))
    assert {(r["counterparty_id"], r["business_line"]) for r in lines} == set(docs)
    sample = random.Random(5).sample(lines, 200)
    for r in sample:
        line = r["business_line"]
        assert r["abc"] == _abc(docs[r["counterparty_id"], line], *totals[line]), r
    assert len({r["abc"] for r in lines}) > 10
    statuses = {r["crm_status"] for r in lines}
    assert {"in_work", "real"} <= statuses <= {"potential", "in_work", "real", "lost", "inactive"}


def test_brochure_client_lines(db: Database) -> None:
    got = {
        r["business_line"]: r["crm_status"]
        for r in rows(
            db,
            "SELECT l.* FROM counterparty_lines l JOIN counterparties c "
            "ON c.id = l.counterparty_id WHERE c.number = 1",
        )
    }
    assert got == {"service": "in_work", "parts": "lost"}  # «В работе», «Упущенный»


# -- traffic ----------------------------------------------------------------------------------


def test_traffic_is_consistent(db: Database) -> None:
    purposes = {r["id"]: r for r in rows(db, "SELECT * FROM contact_purposes")}
    docs = {r["id"]: r for r in rows(db, "SELECT * FROM documents")}
    phones: dict[str, set[str]] = defaultdict(set)
    for c in rows(db, "SELECT * FROM contacts WHERE kind = 'phone'"):
        phones[c["counterparty_id"]].add(c["value"])
    year_ago = (TODAY - dt.timedelta(days=365)).isoformat()
    traffic = rows(db, "SELECT * FROM traffic")
    for t in traffic:
        p = purposes[t["purpose_id"]]
        assert t["department"] == p["department"]
        if t["responsible_id"] is not None:
            assert t["responsible_id"] in json.loads(p["employee_ids"])
        assert year_ago <= t["contact_at"][:10] <= TODAY.isoformat()
        assert 6 <= int(t["contact_at"][11:13]) < 17  # 09:00–20:00 in Moscow
        if t["document_id"]:
            assert t["status"] in ("document_created", "document_attached")
            assert docs[t["document_id"]]["counterparty_id"] == t["counterparty_id"]
        elif t["status"] in ("document_created", "document_attached"):
            pytest.fail(f"no document on processed traffic {t}")
        if t["status"] == "ignored":
            assert t["ignore_reason"] in (
                "Ошибся адресом",
                "Зашел/вышел",
                "Неудачный контакт",
                "Клиент сервиса (нет ответственного сотрудника)",
            )
        if t["counterparty_id"] and t["phone"]:
            assert t["phone"] in phones[t["counterparty_id"]]
        if t["phone"]:
            assert t["phone_e164"] == normalize_phone(t["phone"]).e164
    statuses = {t["status"] for t in traffic}
    assert {"document_created", "document_attached", "ignored", "new"} <= statuses
    today = [t for t in traffic if t["contact_at"].startswith(TODAY.isoformat())]
    assert any(t["status"] in ("new", "in_work") for t in today)
    assert {t["contact_type"] for t in traffic} == {"call", "visit", "internet"}


def test_switches_belong_to_calls(db: Database) -> None:
    calls = {r[0]: r[1] for r in db.execute("SELECT id, contact_type FROM traffic")}
    for s in rows(db, "SELECT * FROM traffic_switches"):
        assert calls[s["traffic_id"]] == "call"
        assert s["from_employee_id"] != s["to_employee_id"] or s["from_employee_id"] is None
