"""Use cases of the client base: add, edit, delete and show a counterparty (Контрагент).

Each takes its ports (a ``RowWriter``, a ``ClientReader``, a clock for «today»), so it runs the
same against a node's file and an in-memory store. Input is checked before anything is written;
a phone that does not parse is kept as typed and flagged (``valid = 0``) with a warning, never
dropped, because the receptionist typed it for a reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lsnode.crm.normalize import (
    name_key,
    normalize_phone,
    normalize_plate,
    normalize_vin,
    phone_problem_message,
    short_name,
    split_full_name,
)
from lsnode.errors import InputError, NotFound
from lsnode.store.ports import ClientReader, Row, RowWriter
from lsnode.store.schema import CONSENTS, PARTY_KINDS

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONSENT_FIELDS = ("consent_pd", "consent_phone_survey", "consent_sms", "consent_email")
MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class CarDraft:
    plate: str = ""
    vin: str = ""
    make: str = ""
    model: str = ""
    modification: str = ""
    year: int | None = None
    mileage: int | None = None


@dataclass(frozen=True, slots=True)
class ClientDraft:
    """What a person types to create a client; ``name`` is the full name or company name."""

    name: str
    kind: str = "person"
    phones: Sequence[str] = ()
    emails: Sequence[str] = ()
    inn: str = ""
    note: str = ""
    consents: Mapping[str, str] = field(default_factory=dict)
    car: CarDraft | None = None


@dataclass(frozen=True, slots=True)
class ClientCard:
    counterparty: Row
    contacts: list[Row]
    cars: list[Row]
    open_documents: list[Row]
    links: dict[str, int]


@dataclass(frozen=True, slots=True)
class Saved:
    """The id of what was written and the warnings a person should read."""

    counterparty_id: str
    warnings: list[str]


def _text(label: str, value: str, required: bool = False) -> str:
    value = " ".join(value.split()) if label != "note" else value.strip()
    if required and not value:
        raise InputError(f"{label} is required")
    if len(value) > MAX_TEXT:
        raise InputError(f"{label} is too long (more than {MAX_TEXT} characters)")
    return value


def _name_fields(kind: str, name: str) -> dict[str, str]:
    if kind not in PARTY_KINDS:
        raise InputError(f"kind must be one of {', '.join(PARTY_KINDS)}, not {kind!r}")
    full = _text("name", name, required=True)
    if not any(c.isalpha() for c in full):
        raise InputError(f"name {full!r} has no letters")
    if kind == "company":
        return {
            "company_name": full,
            "full_name": full,
            "short_name": full,
            "name_key": name_key(full),
            "surname": "",
            "given_name": "",
            "patronymic": "",
        }
    return person_columns(*split_full_name(full), full=full)


def person_columns(
    surname: str, given: str, patronymic: str, full: str | None = None
) -> dict[str, str]:
    """The name columns of a person (ФЛ): parts, full name, «Иванов В.А.» and the search key."""
    full = full or " ".join(p for p in (surname, given, patronymic) if p)
    return {
        "surname": surname,
        "given_name": given,
        "patronymic": patronymic,
        "company_name": "",
        "full_name": full,
        "short_name": short_name(surname, given, patronymic),
        "name_key": name_key(full),
    }


def _inn(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) not in (10, 12):
        raise InputError(f"INN {value!r} must be 10 (company) or 12 (person) digits")
    return value


def _consents(consents: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in consents.items():
        if key not in CONSENT_FIELDS:
            raise InputError(f"unknown consent {key!r}; known: {', '.join(CONSENT_FIELDS)}")
        if value not in CONSENTS:
            raise InputError(f"{key} must be one of {', '.join(CONSENTS)}, not {value!r}")
        out[key] = value
    return out


def phone_row(counterparty_id: str, raw: str, region: str = "RU") -> tuple[dict[str, Any], str]:
    """A contacts row for a typed phone, and a warning ('' if none)."""
    raw = _text("phone", raw, required=True)
    phone = normalize_phone(raw, region)
    row = {
        "counterparty_id": counterparty_id,
        "kind": "phone",
        "value": raw,
        "phone_e164": phone.e164,
        "phone_rev": phone.reversed_digits or None,
        "valid": int(phone.valid),
        "note": f"доб. {phone.extension}" if phone.extension else "",
    }
    return row, (phone_problem_message(phone, "en") or "") if not phone.valid else ""


def email_row(counterparty_id: str, raw: str) -> tuple[dict[str, Any], str]:
    raw = _text("e-mail", raw, required=True)
    ok = bool(_EMAIL.match(raw))
    row = {
        "counterparty_id": counterparty_id,
        "kind": "email",
        "value": raw,
        "email_key": raw.casefold(),
        "valid": int(ok),
    }
    return row, "" if ok else f"e-mail not recognised, kept as typed: {raw}"


def car_row(draft: CarDraft, owner_id: str, today: date) -> tuple[dict[str, Any], list[str]]:
    warnings: list[str] = []
    plate = normalize_plate(draft.plate) if draft.plate.strip() else None
    vin = normalize_vin(draft.vin) if draft.vin.strip() else None
    if plate is None and vin is None:
        raise InputError("a car needs a plate or a VIN")
    if vin is not None and not vin.valid:
        why = {
            "length": f"has {len(vin.value)} characters, not 17",
            "bad_chars": "may hold only digits and Latin letters except I, O, Q",
        }.get(vin.problem or "", "is not a VIN")
        raise InputError(f"VIN {vin.raw!r} {why}")
    if vin is not None and vin.check_digit_ok is False:
        warnings.append(f"VIN {vin.value}: check digit does not match (common for EU VINs)")
    if plate is not None and not plate.valid:
        warnings.append(f"plate {plate.raw!r} is not a Russian format; kept as {plate.key}")
    if draft.year is not None and not 1900 <= draft.year <= today.year + 1:
        raise InputError(f"year {draft.year} is out of range 1900–{today.year + 1}")
    if draft.mileage is not None and not 0 <= draft.mileage <= 5_000_000:
        raise InputError(f"mileage {draft.mileage} is out of range")
    row = {
        "plate": plate.display if plate else "",
        "plate_key": plate.key if plate else "",
        "vin": vin.value if vin else "",
        "make": _text("make", draft.make),
        "model": _text("model", draft.model),
        "modification": _text("modification", draft.modification),
        "year": draft.year,
        "mileage": draft.mileage,
        "owner_id": owner_id,
    }
    return row, warnings


def add_client(writer: RowWriter, draft: ClientDraft, *, today: date, region: str = "RU") -> Saved:
    """Create a counterparty with its phones, e-mails and (optionally) one car."""
    fields = _name_fields(draft.kind, draft.name)
    consents = _consents(draft.consents)
    base: dict[str, Any] = {
        "kind": draft.kind,
        **fields,
        "inn": _inn(draft.inn),
        "note": _text("note", draft.note),
        "registered_at": today.isoformat(),
        **consents,
    }
    # Validate every part before the first write.
    probe = "-"
    contact_rows = [phone_row(probe, p, region) for p in draft.phones]
    contact_rows += [email_row(probe, e) for e in draft.emails]
    car = car_row(draft.car, probe, today) if draft.car else None
    with writer.transaction():
        cp_id = writer.insert("counterparties", base)
        for row, _ in contact_rows:
            row["counterparty_id"] = cp_id
        writer.insert_many("contacts", [row for row, _ in contact_rows])
        if car is not None:
            car[0]["owner_id"] = cp_id
            writer.insert("cars", car[0])
    warnings = [w for _, w in contact_rows if w] + (car[1] if car else [])
    return Saved(cp_id, warnings)


def resolve(reader: ClientReader, ref: str) -> Row:
    """A counterparty by id or by its number («12345»)."""
    ref = ref.strip()
    row = None
    if ref.isdigit():
        row = reader.counterparty_by_number(int(ref))
    if row is None and ref:
        row = reader.counterparty(ref)
    if row is None:
        raise NotFound(f"no client {ref!r} (give its number or id)")
    return row


@dataclass(frozen=True, slots=True)
class ClientEdit:
    name: str | None = None
    kind: str | None = None
    inn: str | None = None
    note: str | None = None
    consents: Mapping[str, str] = field(default_factory=dict)
    add_phones: Sequence[str] = ()
    remove_phones: Sequence[str] = ()
    add_emails: Sequence[str] = ()
    remove_emails: Sequence[str] = ()
    car: CarDraft | None = None


def edit_client(
    writer: RowWriter,
    reader: ClientReader,
    ref: str,
    edit: ClientEdit,
    *,
    today: date,
    region: str = "RU",
) -> Saved:
    """Change a counterparty; every part is checked before anything is written."""
    current = resolve(reader, ref)
    cp_id = str(current["id"])
    changes: dict[str, Any] = {}
    kind = edit.kind or str(current["kind"])
    if edit.name is not None or edit.kind is not None:
        changes.update({"kind": kind, **_name_fields(kind, edit.name or current["full_name"])})
    if edit.inn is not None:
        changes["inn"] = _inn(edit.inn)
    if edit.note is not None:
        changes["note"] = _text("note", edit.note)
    changes.update(_consents(edit.consents))
    contacts = reader.contacts_of([cp_id])[cp_id]
    removals = _removals(contacts, "phone", edit.remove_phones, region)
    removals += _removals(contacts, "email", edit.remove_emails, region)
    new_rows = [phone_row(cp_id, p, region) for p in edit.add_phones]
    new_rows += [email_row(cp_id, e) for e in edit.add_emails]
    car = car_row(edit.car, cp_id, today) if edit.car else None
    with writer.transaction():
        if changes:
            writer.update("counterparties", cp_id, changes)
        for contact_id in removals:
            writer.delete("contacts", contact_id)
        writer.insert_many("contacts", [row for row, _ in new_rows])
        if car is not None:
            writer.insert("cars", car[0])
    warnings = [w for _, w in new_rows if w] + (car[1] if car else [])
    return Saved(cp_id, warnings)


def _removals(contacts: list[Row], kind: str, values: Sequence[str], region: str) -> list[str]:
    ids: list[str] = []
    for value in values:
        if kind == "phone":
            e164 = normalize_phone(value, region).e164
            hit = [
                c
                for c in contacts
                if c["kind"] == "phone"
                and ((e164 and c["phone_e164"] == e164) or c["value"] == value.strip())
            ]
        else:
            hit = [
                c for c in contacts if c["kind"] == "email" and c["email_key"] == value.casefold()
            ]
        if not hit:
            raise InputError(f"the client has no {kind} {value!r}")
        ids += [str(c["id"]) for c in hit]
    return ids


def delete_client(writer: RowWriter, reader: ClientReader, ref: str) -> Row:
    """Delete a counterparty that nothing refers to; its contacts go with it.

    A client with documents or traffic is refused: those records must keep their client.
    Cars keep existing (another client may own them next) with the link cleared.
    """
    current = resolve(reader, ref)
    cp_id = str(current["id"])
    links = reader.count_links(cp_id)
    if links["documents"] or links["traffic"]:
        raise InputError(
            f"client {current['full_name']} has {links['documents']} document(s) and "
            f"{links['traffic']} traffic record(s): it cannot be deleted"
        )
    with writer.transaction():
        for contact in reader.contacts_of([cp_id])[cp_id]:
            writer.delete("contacts", str(contact["id"]))
        for car in reader.cars_of([cp_id])[cp_id]:
            writer.update("cars", str(car["id"]), {link: None for link in car["links"]})
        writer.delete("counterparties", cp_id)
    return current


def client_card(reader: ClientReader, ref: str) -> ClientCard:
    current = resolve(reader, ref)
    cp_id = str(current["id"])
    return ClientCard(
        counterparty=current,
        contacts=reader.contacts_of([cp_id])[cp_id],
        cars=reader.cars_of([cp_id])[cp_id],
        open_documents=reader.open_documents_of([cp_id])[cp_id],
        links=reader.count_links(cp_id),
    )
