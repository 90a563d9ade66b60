"""The one search box, on a real SQLite base, as the reception desk types into it."""

from __future__ import annotations

import contextlib
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from lsnode.crm.clients import CarDraft, ClientDraft, add_client
from lsnode.crm.search import Match, search
from lsnode.errors import QueryError
from lsnode.store.changes import Writer
from lsnode.store.db import init_store
from lsnode.store.repos import SqliteClients
from tests.conftest import TODAY

IVANOV_VIN = "WDD2120421A123456"


@pytest.fixture
def base(writer: Writer, repo: SqliteClients) -> dict[str, str]:
    ids = {}
    ids["ivanov"] = add_client(
        writer,
        ClientDraft(
            name="Иванов Василий Алибабаевич",
            phones=["8(925)111-22-33"],
            car=CarDraft(plate="Н433АР12", vin=IVANOV_VIN, make="Mercedes-Benz", model="E 220 CDI"),
        ),
        today=TODAY,
    ).counterparty_id
    ids["alibaba"] = add_client(
        writer,
        ClientDraft(name="Василий Алибабаевич", phones=["2(323)232-32-32"]),
        today=TODAY,
    ).counterparty_id
    ids["semenov"] = add_client(
        writer,
        ClientDraft(
            name="Семёнов Пётр Ильич",
            phones=["+7 916 000-22-33"],
            car=CarDraft(plate="Х777ХХ777", make="Kia", model="Rio"),
        ),
        today=TODAY,
    ).counterparty_id
    ids["company"] = add_client(
        writer,
        ClientDraft(name="ООО Автотранс", kind="company", phones=["+7 495 777-11-22"]),
        today=TODAY,
    ).counterparty_id
    writer.insert(
        "documents",
        {
            "doc_no": "ЗН 14029",
            "doc_type": "pre_order",
            "business_line": "service",
            "doc_date": "2017-01-13",
            "amount_kop": 27089,
            "status": "Предв.РЗ",
            "counterparty_id": ids["ivanov"],
        },
    )
    return ids


def found(repo: SqliteClients, query: str) -> list[str]:
    return [str(h.counterparty["full_name"]) for h in search(repo, repo, query).hits]


def test_latin_plate_found_from_cyrillic_fragment(
    base: dict[str, str], repo: SqliteClients
) -> None:
    [hit] = search(repo, repo, "н433ар").hits
    assert hit.counterparty["id"] == base["ivanov"]
    assert [c["plate_key"] for c in hit.cars] == ["H433AP12"]
    assert [d["doc_no"] for d in hit.open_documents] == ["ЗН 14029"]


def test_full_plate_in_either_alphabet_is_an_exact_match(
    base: dict[str, str], repo: SqliteClients
) -> None:
    for typed in ("H433AP12", "н 433 ар 12 rus", "Н433АР12"):
        hits = search(repo, repo, typed).hits
        assert [h.counterparty["id"] for h in hits] == [base["ivanov"]], typed
        assert hits[0].best is Match.EXACT_PLATE


@pytest.mark.parametrize("typed", ["8 925 111-22-33", "+7 (925) 111 22 33", "89251112233"])
def test_full_phone_in_any_form(base: dict[str, str], repo: SqliteClients, typed: str) -> None:
    hits = search(repo, repo, typed).hits
    assert hits[0].counterparty["id"] == base["ivanov"]
    assert hits[0].best is Match.EXACT_PHONE


def test_last_four_digits_find_every_phone_ending_so(
    base: dict[str, str], repo: SqliteClients
) -> None:
    hits = search(repo, repo, "2233").hits
    ids = {h.counterparty["id"] for h in hits if Match.PHONE_ENDING in h.matched}
    assert ids == {base["ivanov"], base["semenov"]}


def test_vin_from_its_last_six_characters(base: dict[str, str], repo: SqliteClients) -> None:
    hits = search(repo, repo, IVANOV_VIN[-6:]).hits
    assert [h.counterparty["id"] for h in hits] == [base["ivanov"]]
    assert search(repo, repo, IVANOV_VIN.lower()).hits[0].best is Match.EXACT_VIN


def test_name_prefixes_ignore_case_and_yo(base: dict[str, str], repo: SqliteClients) -> None:
    assert found(repo, "семенов") == ["Семёнов Пётр Ильич"]
    assert found(repo, "СЕМЁ пЕт") == ["Семёнов Пётр Ильич"]
    assert set(found(repo, "Васил Алиб")) == {"Иванов Василий Алибабаевич", "Василий Алибабаевич"}
    assert found(repo, "Иванов Вас") == ["Иванов Василий Алибабаевич"]
    assert found(repo, "автотр") == ["ООО Автотранс"]
    assert found(repo, "Сидоров") == []


def test_exact_matches_rank_first(
    base: dict[str, str], writer: Writer, repo: SqliteClients
) -> None:
    # A client whose phone merely ends in the same digits ranks after the exact owner.
    add_client(writer, ClientDraft(name="Другой", phones=["+7 903 111-22-33"]), today=TODAY)
    hits = search(repo, repo, "8 925 111-22-33").hits
    assert hits[0].counterparty["id"] == base["ivanov"]
    assert [h.best for h in hits] == sorted(h.best for h in hits)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty"),
        ("    ", "empty"),
        ("---", "nothing to search"),
        ("a\x00b", "control characters"),
        ("x" * 101, "too long"),
        ("x" * 10_000, "too long"),
    ],
)
def test_malformed_queries_get_a_clear_error(repo: SqliteClients, query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        search(repo, repo, query)


@pytest.mark.parametrize(
    "query", ['"', 'Иван"ов', "NEAR(a b)", "a OR b", "*", "ива*", "^ив", "x:y", "(", "AND"]
)
def test_fts_syntax_in_a_query_is_just_text(
    base: dict[str, str], repo: SqliteClients, query: str
) -> None:
    # A clear refusal is fine; an sqlite3 error or a match on FTS operators is not.
    with contextlib.suppress(QueryError):
        hits = search(repo, repo, query).hits
        assert all("ива" in h.counterparty["name_key"] for h in hits), query


def test_limit_bounds_the_result(writer: Writer, repo: SqliteClients) -> None:
    for i in range(30):
        add_client(writer, ClientDraft(name=f"Кузнецов Иван {chr(0x430 + i)}"), today=TODAY)
    assert len(search(repo, repo, "кузн", limit=7).hits) == 7
    with pytest.raises(QueryError, match="limit"):
        search(repo, repo, "кузн", limit=0)


# -- properties: whatever form a person types, the client is found ----------------------------

LOOKALIKE = {
    "А": "A",
    "В": "B",
    "Е": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "У": "Y",
    "Х": "X",
}
PLATE_LETTERS = "".join(LOOKALIKE)


@pytest.fixture(scope="module")
def prop_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = init_store(Path(tmp_path_factory.mktemp("prop")) / "data")
    yield db
    db.close()


mobile = st.text(string.digits, min_size=7, max_size=7).map(lambda d: "916" + d)
plate = st.tuples(
    st.sampled_from(PLATE_LETTERS),
    st.integers(1, 999),
    st.text(PLATE_LETTERS, min_size=2, max_size=2),
    st.sampled_from(["77", "97", "199", "777", "12"]),
).map(lambda t: f"{t[0]}{t[1]:03d}{t[2]}{t[3]}")


def _typed_phone(national: str, style: int) -> str:
    d = national
    return [
        f"8({d[:3]}){d[3:6]}-{d[6:8]}-{d[8:]}",
        f"+7 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}",
        f"8{d}",
        d,
        f"7-{d[:3]}-{d[3:]}",
    ][style]


def _typed_plate(value: str, latin: list[bool], lower: bool) -> str:
    out = "".join(
        LOOKALIKE.get(c, c) if i < len(latin) and latin[i] else c for i, c in enumerate(value)
    )
    return out.lower() if lower else out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    national=mobile,
    style=st.integers(0, 4),
    plate_value=plate,
    latin=st.lists(st.booleans(), min_size=9, max_size=9),
    lower=st.booleans(),
    cut=st.integers(0, 3),
)
def test_any_typed_form_finds_the_client(
    prop_db: Database,
    national: str,
    style: int,
    plate_value: str,
    latin: list[bool],
    lower: bool,
    cut: int,
) -> None:
    writer, repo = Writer(prop_db), SqliteClients(prop_db)
    cp = add_client(
        writer,
        ClientDraft(
            name="Проверкин Тест", phones=[f"+7{national}"], car=CarDraft(plate=plate_value)
        ),
        today=TODAY,
    ).counterparty_id

    def ids(q: str) -> set[str]:
        return {h.counterparty["id"] for h in search(repo, repo, q, limit=200).hits}

    assert cp in ids(_typed_phone(national, style))
    typed_plate = _typed_plate(plate_value, latin, lower)
    assert cp in ids(typed_plate)
    fragment = typed_plate[cut : cut + 5]
    if sum(c.isalnum() for c in fragment) >= 3:
        assert cp in ids(fragment)
