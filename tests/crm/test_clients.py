"""Adding, editing, deleting and showing a client as the reception desk would."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from lsnode.crm.clients import (
    CarDraft,
    ClientDraft,
    ClientEdit,
    add_client,
    client_card,
    delete_client,
    edit_client,
)
from lsnode.errors import InputError, NotFound
from lsnode.store.changes import Writer
from lsnode.store.repos import SqliteClients
from tests.conftest import TODAY


def count(db: Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def ivanov(**car: object) -> ClientDraft:
    return ClientDraft(
        name="Иванов  Василий Алибабаевич",
        phones=["8(925)111-22-33"],
        emails=["Ivanov@Example.RU"],
        consents={"consent_sms": "yes"},
        car=CarDraft(plate="н 433 ар 12 rus", make="Mercedes-Benz", model="E 220 CDI", year=2010)
        if not car
        else CarDraft(**car),  # type: ignore[arg-type]
    )


def test_add_client_normalises_and_shows_the_card(writer: Writer, repo: SqliteClients) -> None:
    saved = add_client(writer, ivanov(), today=TODAY)
    card = client_card(repo, saved.counterparty_id)
    cp = card.counterparty
    assert cp["full_name"] == "Иванов Василий Алибабаевич"
    assert (cp["surname"], cp["given_name"], cp["patronymic"]) == (
        "Иванов",
        "Василий",
        "Алибабаевич",
    )
    assert cp["short_name"] == "Иванов В.А."
    assert cp["consent_sms"] == "yes" and cp["consent_email"] == "unknown"
    assert cp["registered_at"] == "2026-12-03"
    phone = next(c for c in card.contacts if c["kind"] == "phone")
    assert (phone["value"], phone["phone_e164"], phone["valid"]) == (
        "8(925)111-22-33",
        "+79251112233",
        1,
    )
    email = next(c for c in card.contacts if c["kind"] == "email")
    assert email["email_key"] == "ivanov@example.ru"
    [car] = card.cars
    assert (car["plate"], car["plate_key"], car["links"]) == ("Н433АР12", "H433AP12", ["owner_id"])
    assert saved.warnings == []


def test_an_unrecognised_phone_is_kept_and_flagged(writer: Writer, repo: SqliteClients) -> None:
    saved = add_client(writer, ClientDraft(name="Петров Пётр", phones=["8 925 11"]), today=TODAY)
    [phone] = client_card(repo, saved.counterparty_id).contacts
    assert phone["value"] == "8 925 11" and phone["valid"] == 0 and phone["phone_e164"] is None
    assert len(saved.warnings) == 1 and "8 925 11" in saved.warnings[0]


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (ClientDraft(name="   "), "name is required"),
        (ClientDraft(name="12345"), "no letters"),
        (ClientDraft(name="ООО Ромашка", kind="robot"), "kind must be"),
        (ClientDraft(name="Петров", inn="12ab"), "INN"),
        (ClientDraft(name="Петров", consents={"consent_sms": "maybe"}), "consent_sms"),
        (ClientDraft(name="Петров", consents={"consent_fax": "yes"}), "unknown consent"),
        (ClientDraft(name="Петров", car=CarDraft(vin="WDD2120421A12345Q")), "VIN"),
        (ClientDraft(name="Петров", car=CarDraft(vin="WDD21204")), "not 17"),
        (ClientDraft(name="Петров", car=CarDraft(make="Kia")), "plate or a VIN"),
        (ClientDraft(name="Петров", car=CarDraft(plate="А001АА77", year=1850)), "year"),
        (ClientDraft(name="Петров", phones=["8 925 111-22-33"], note="x" * 5000), "too long"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    db: Database, writer: Writer, draft: ClientDraft, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        add_client(writer, draft, today=TODAY)
    assert count(db, "counterparties") == count(db, "contacts") == count(db, "cars") == 0
    assert count(db, "_rowmeta") == 0


def test_a_company_keeps_its_name_whole(writer: Writer, repo: SqliteClients) -> None:
    saved = add_client(
        writer, ClientDraft(name="ООО «Автотранс»", kind="company", inn="7707083893"), today=TODAY
    )
    cp = client_card(repo, saved.counterparty_id).counterparty
    assert (cp["kind"], cp["company_name"], cp["short_name"], cp["surname"]) == (
        "company",
        "ООО «Автотранс»",
        "ООО «Автотранс»",
        "",
    )


def test_edit_changes_name_phones_and_consents(writer: Writer, repo: SqliteClients) -> None:
    saved = add_client(writer, ivanov(), today=TODAY)
    edit_client(
        writer,
        repo,
        saved.counterparty_id,
        ClientEdit(
            name="Иванов Василий Петрович",
            add_phones=["+7 495 123-45-67"],
            remove_phones=["+7 925 111 22 33"],  # another form of the same number
            consents={"consent_sms": "no"},
        ),
        today=TODAY,
    )
    card = client_card(repo, saved.counterparty_id)
    assert card.counterparty["short_name"] == "Иванов В.П."
    assert card.counterparty["consent_sms"] == "no"
    phones = [c["phone_e164"] for c in card.contacts if c["kind"] == "phone"]
    assert phones == ["+74951234567"]


def test_edit_refuses_to_remove_what_is_not_there(
    db: Database, writer: Writer, repo: SqliteClients
) -> None:
    saved = add_client(writer, ivanov(), today=TODAY)
    before = count(db, "_rowmeta")
    with pytest.raises(InputError, match="has no phone"):
        edit_client(
            writer,
            repo,
            saved.counterparty_id,
            ClientEdit(name="Другое Имя", remove_phones=["+7 999 000-00-00"]),
            today=TODAY,
        )
    assert count(db, "_rowmeta") == before
    assert client_card(repo, saved.counterparty_id).counterparty["surname"] == "Иванов"


def test_delete_removes_contacts_and_unlinks_cars(
    db: Database, writer: Writer, repo: SqliteClients
) -> None:
    saved = add_client(writer, ivanov(), today=TODAY)
    delete_client(writer, repo, saved.counterparty_id)
    assert count(db, "counterparties") == count(db, "contacts") == 0
    assert db.execute("SELECT owner_id FROM cars").fetchall() == [(None,)]
    with pytest.raises(NotFound):
        client_card(repo, saved.counterparty_id)


def test_delete_is_refused_while_documents_refer_to_the_client(
    db: Database, writer: Writer, repo: SqliteClients
) -> None:
    saved = add_client(writer, ivanov(), today=TODAY)
    writer.insert(
        "documents",
        {
            "doc_no": "ЗН 14029",
            "doc_type": "pre_order",
            "business_line": "service",
            "doc_date": "2017-01-13",
            "amount_kop": 27089,
            "status": "Предв.РЗ",
            "counterparty_id": saved.counterparty_id,
        },
    )
    with pytest.raises(InputError, match="1 document"):
        delete_client(writer, repo, saved.counterparty_id)
    assert count(db, "counterparties") == 1 and count(db, "contacts") == 2
    assert [d["doc_no"] for d in client_card(repo, saved.counterparty_id).open_documents] == [
        "ЗН 14029"
    ]


def test_clients_are_found_by_number_or_id(writer: Writer, repo: SqliteClients) -> None:
    saved = add_client(writer, ivanov(), today=TODAY)
    writer.update("counterparties", saved.counterparty_id, {"number": 2001})
    assert client_card(repo, "2001").counterparty["id"] == saved.counterparty_id
    with pytest.raises(NotFound, match="no client '9999'"):
        client_card(repo, "9999")
