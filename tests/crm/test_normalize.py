"""Normalisers for phones, plates, VINs and names: the forms people type, and properties."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lsnode.crm.normalize import (
    Phone,
    name_key,
    name_tokens,
    normalize_phone,
    normalize_plate,
    normalize_vin,
    phone_problem_message,
    plate_fragment_key,
    short_name,
    split_full_name,
    vin_check_digit,
    vin_fragment,
)

PHONE_PROBLEMS = {None, "empty", "not_a_number", "too_short", "too_long", "invalid"}
LATIN = "ABEKMHOPCTYX"
CYRILLIC = "АВЕКМНОРСТУХ"
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

phone_settings = settings(deadline=None)


# --- phones: examples -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("8(925)111-22-33", "+79251112233"),
        ("+7 925 111-22-33", "+79251112233"),
        ("+7 925 111 22 33", "+79251112233"),
        ("9251112233", "+79251112233"),
        ("7 925 1112233", "+79251112233"),
        ("8 800 555-35-35", "+78005553535"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+375 29 123-45-67", "+375291234567"),
        ("0044 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_forms(raw: str, e164: str) -> None:
    phone = normalize_phone(raw)
    assert phone == Phone(raw=raw, e164=e164, extension=None, valid=True, problem=None)
    assert phone.digits == e164[1:]
    assert phone_problem_message(phone) is None


def test_phone_display_is_international() -> None:
    assert normalize_phone("8(925)111-22-33").display() == "+7 925 111-22-33"
    assert normalize_phone("+375291234567").display() == "+375 29 123-45-67"


@pytest.mark.parametrize(
    "raw",
    [
        "+7 (495) 123-45-67 доб. 123",
        "+7 495 123-45-67 ext 123",
        "+7 495 123-45-67 ext. 123",
        "+74951234567x123",
        "8 495 123-45-67 вн. 123",
        "84951234567,123",
        "+7 495 123 45 67 #123",
    ],
)
def test_phone_extension(raw: str) -> None:
    phone = normalize_phone(raw)
    assert (phone.e164, phone.extension, phone.valid) == ("+74951234567", "123", True)
    assert phone.digits == "74951234567"
    assert phone.display() == "+7 495 123-45-67 доб. 123"
    assert normalize_phone(phone.display()) == Phone(
        raw=phone.display(), e164="+74951234567", extension="123", valid=True, problem=None
    )


def test_local_junk_is_kept_raw_and_flagged() -> None:
    phone = normalize_phone("  2(323)232-32-32 ")
    assert phone.raw == "2(323)232-32-32"
    assert phone.e164 is None
    assert not phone.valid
    assert phone.problem == "too_long"
    assert phone.digits == "23232323232"
    assert phone.display() == "2(323)232-32-32"


def test_too_short_messages() -> None:
    phone = normalize_phone("8 925 11")
    assert (phone.e164, phone.valid, phone.problem) == (None, False, "too_short")
    assert phone_problem_message(phone) == "Телефон не распознан: 8 925 11 — не хватает цифр"
    assert phone_problem_message(phone, "en") == "Phone not recognised: 8 925 11 — too few digits"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("нет телефона", "not_a_number"),
        ("😀", "not_a_number"),
        ("123-45-67", "too_short"),
        ("+7 123 456-78-90", "invalid"),
        ("1" * 300, "too_long"),
    ],
)
def test_phone_problems(raw: str, problem: str) -> None:
    phone = normalize_phone(raw)
    assert phone.problem == problem
    assert not phone.valid
    message = phone_problem_message(phone)
    assert message
    assert "\n" not in message


def test_possible_but_invalid_number_keeps_its_key() -> None:
    phone = normalize_phone("+7 123 456-78-90")
    assert phone.e164 == "+71234567890"
    assert phone_problem_message(phone, "en") == (
        "Phone not recognised: +7 123 456-78-90 — no such number exists"
    )


def test_bare_comma_is_not_an_extension_of_junk() -> None:
    phone = normalize_phone("8 925,111,22,33")
    assert phone.extension is None
    assert phone.digits == "89251112233"


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("29 123-45-67", "BY", "+375291234567"),
        ("8 029 123-45-67", "BY", "+375291234567"),
        ("8 925 111-22-33", "BY", "+79251112233"),
        ("7 925 111-22-33", "BY", "+79251112233"),
        ("8 701 111-22-33", "KZ", "+77011112233"),
        ("+7 925 111-22-33", "kz", "+79251112233"),
    ],
)
def test_phone_region(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region).e164 == e164


# --- phones: properties -----------------------------------------------------------------------

SEPARATORS = st.sampled_from(["", " ", "-", ".", " - ", "  "])


@st.composite
def ru_mobiles(draw: st.DrawFn) -> str:
    national = "9" + draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    assume(phonenumbers.is_valid_number(phonenumbers.parse("+7" + national)))
    return national


@st.composite
def written_forms(draw: st.DrawFn, national: str) -> str:
    prefix = draw(st.sampled_from(["8", "+7", "7", ""]))
    code, rest = national[:3], national[3:]
    if draw(st.booleans()):
        code = f"({code})"
    groups = draw(st.sampled_from([(3, 2, 2), (3, 4), (7,), (2, 2, 3), (1,) * 7]))
    parts, start = [], 0
    for size in groups:
        parts.append(rest[start : start + size])
        start += size
    body = parts[0]
    for part in parts[1:]:
        body += draw(SEPARATORS) + part
    return prefix + draw(SEPARATORS) + code + draw(SEPARATORS) + body


@phone_settings
@given(st.data())
def test_any_written_form_of_a_mobile_gives_one_key(data: st.DataObject) -> None:
    national = data.draw(ru_mobiles())
    form = data.draw(written_forms(national))
    phone = normalize_phone(form)
    assert phone.e164 == "+7" + national, form
    assert phone.valid
    assert phone.problem is None


@phone_settings
@given(st.data())
def test_e164_is_a_fixed_point(data: st.DataObject) -> None:
    raw = data.draw(
        st.one_of(
            ru_mobiles().flatmap(written_forms),
            st.text(alphabet="0123456789+()- .", max_size=20),
        )
    )
    phone = normalize_phone(raw)
    assume(phone.e164 is not None)
    assert phone.e164 is not None
    again = normalize_phone(phone.e164)
    assert again.e164 == phone.e164
    assert again.valid == phone.valid


@phone_settings
@given(st.text(max_size=300), st.sampled_from(["RU", "BY", "KZ", "ru", "", "ZZ"]))
def test_phone_never_raises_and_keeps_raw(raw: str, region: str) -> None:
    phone = normalize_phone(raw, region)
    assert phone.raw == raw.strip()
    assert phone.problem in PHONE_PROBLEMS
    assert phone.valid == (phone.problem is None)
    if phone.valid:
        assert phone.e164 is not None
    assert phone.digits.isascii()
    assert phone.digits.isdigit() or phone.digits == ""
    assert isinstance(phone.display(), str)
    for lang in ("ru", "en", "de"):
        message = phone_problem_message(phone, lang)
        assert (message is None) == phone.valid


@phone_settings
@given(st.sampled_from(["", "\x00\x01\x1b[2J", "\u202e+7 925", "8" * 10_000, "👍" * 2_500]))
def test_phone_survives_hostile_text(raw: str) -> None:
    phone = normalize_phone(raw)
    assert phone.raw == raw.strip()
    assert not phone.valid


@phone_settings
@given(ru_mobiles().flatmap(written_forms))
def test_reversed_digits_start_with_the_last_digits(raw: str) -> None:
    phone = normalize_phone(raw)
    assert phone.e164 is not None
    assert phone.reversed_digits[:4] == phone.e164[-4:][::-1]
    assert phone.reversed_digits == phone.digits[::-1]


# --- plates: examples -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key", "display", "kind", "region"),
    [
        ("Н433АР12", "H433AP12", "Н433АР12", "car", "12"),
        ("н 433 ар 12 rus", "H433AP12", "Н433АР12", "car", "12"),
        ("H433AP12", "H433AP12", "Н433АР12", "car", "12"),
        ("а001аа 777 RUS", "A001AA777", "А001АА777", "car", "777"),
        ("А-123-ВС.50 РУС", "A123BC50", "А123ВС50", "car", "50"),
        ("АН 7331 77", "AH733177", "АН733177", "trailer", "77"),
        ("1234 АВ 77", "1234AB77", "1234АВ77", "moto", "77"),
        ("АВ 123 А 77", "AB123A77", "АВ123А77", "transit", "77"),
        ("АВ 123 77", "AB12377", "АВ12377", "taxi", "77"),
        ("АВ 123 777", "AB123777", "АВ123777", "taxi", "777"),
    ],
)
def test_plate_forms(raw: str, key: str, display: str, kind: str, region: str) -> None:
    plate = normalize_plate(raw)
    assert plate.raw == raw
    assert (plate.key, plate.display, plate.kind, plate.region, plate.valid) == (
        key,
        display,
        kind,
        region,
        True,
    )


@pytest.mark.parametrize(
    ("raw", "key", "display"),
    [
        ("", "", ""),
        ("🚗", "", ""),
        ("Ж123ЖЖ77", "Ж123ЖЖ77", "Ж123ЖЖ77"),
        ("D123DD77", "D123DD77", "D123DD77"),
        ("a12", "A12", "А12"),
    ],
)
def test_unknown_plates_are_kept(raw: str, key: str, display: str) -> None:
    plate = normalize_plate(raw)
    assert (plate.key, plate.display, plate.kind, plate.region, plate.valid) == (
        key,
        display,
        "unknown",
        None,
        False,
    )


def test_plate_fragment_key() -> None:
    assert plate_fragment_key("н433ар") == "H433AP"
    assert plate_fragment_key("h 433") == "H433"
    assert plate_fragment_key("433 ар 12") in normalize_plate("Н433АР12").key


# --- plates: properties -----------------------------------------------------------------------

LOOKALIKE = st.sampled_from(LATIN)
DIGIT = st.sampled_from("0123456789")
PLATE_REGION = st.one_of(
    st.text(alphabet="0123456789", min_size=2, max_size=2),
    st.tuples(
        st.sampled_from("123456789"), st.text(alphabet="0123456789", min_size=2, max_size=2)
    ).map("".join),
)
PLATE_SHAPES = {
    "car": "LDDDLL",
    "trailer": "LLDDDD",
    "moto": "DDDDLL",
    "transit": "LLDDDL",
    "taxi": "LLDDD",
}


@st.composite
def plate_keys(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(sorted(PLATE_SHAPES)))
    body = "".join(draw(LOOKALIKE if c == "L" else DIGIT) for c in PLATE_SHAPES[kind])
    return kind, body + draw(PLATE_REGION)


@st.composite
def typed_like_a_person(draw: st.DrawFn, key: str) -> str:
    out = []
    for char in key:
        if char in LATIN and draw(st.booleans()):
            char = CYRILLIC[LATIN.index(char)]
        if draw(st.booleans()):
            char = char.lower()
        out.append(char + draw(st.sampled_from(["", "", " ", "-", "."])))
    return "".join(out) + draw(st.sampled_from(["", " RUS", " rus", "RUS", " РУС"]))


@given(st.data())
def test_plate_spellings_share_a_key(data: st.DataObject) -> None:
    kind, key = data.draw(plate_keys())
    typed = data.draw(typed_like_a_person(key))
    plate = normalize_plate(typed)
    assert plate.key == key
    assert plate.valid
    if kind not in ("trailer", "taxi"):
        assert plate.kind == kind
    assert normalize_plate(plate.display).key == key


@given(st.text(max_size=200))
def test_plate_key_is_a_fixed_point(raw: str) -> None:
    plate = normalize_plate(raw)
    assert plate.raw == raw.strip()
    assert normalize_plate(plate.key).key == plate.key
    assert plate_fragment_key(raw) == plate.key
    assert plate.valid == (plate.kind != "unknown")
    assert (plate.region is None) != plate.valid


# --- VINs -------------------------------------------------------------------------------------


def test_vin_with_correct_check_digit() -> None:
    vin = normalize_vin("1M8GDM9AXKP042788")
    assert (vin.value, vin.valid, vin.check_digit_ok, vin.problem) == (
        "1M8GDM9AXKP042788",
        True,
        True,
        None,
    )
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"


def test_european_vin_failing_the_check_is_still_valid() -> None:
    vin = normalize_vin("WVWZZZ1JZXW000001")
    assert (vin.valid, vin.check_digit_ok, vin.problem) == (True, False, None)


def test_vin_lowercase_spaces_dashes_and_cyrillic() -> None:
    assert normalize_vin(" 1m8gdm9a xkp-042788 ").value == "1M8GDM9AXKP042788"
    vin = normalize_vin("ХТА21099012345678")
    assert (vin.value, vin.valid) == ("XTA21099012345678", True)


@pytest.mark.parametrize("raw", ["1M8GDM9AXKP04278I", "1M8GDM9AXKP04278O", "1M8GDM9AXKP04278Q"])
def test_vin_rejects_i_o_q(raw: str) -> None:
    vin = normalize_vin(raw)
    assert (vin.valid, vin.check_digit_ok, vin.problem) == (False, None, "bad_chars")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("", "empty"), ("  - ", "empty"), ("1M8GDM9AXKP04278", "length"), ("VIN: 1M8", "bad_chars")],
)
def test_vin_problems(raw: str, problem: str) -> None:
    vin = normalize_vin(raw)
    assert (vin.valid, vin.check_digit_ok, vin.problem) == (False, None, problem)


def test_vin_check_digit_refuses_malformed_vins() -> None:
    with pytest.raises(ValueError):
        vin_check_digit("1M8GDM9AXKP04278")


def test_vin_fragment() -> None:
    assert vin_fragment("kp04") == "KP04"
    assert vin_fragment("хта2") == "XTA2"
    assert vin_fragment("kp0") is None
    assert vin_fragment("kpo4") is None


VINS = st.text(alphabet=VIN_ALPHABET, min_size=17, max_size=17)


@given(VINS)
def test_check_digit_in_place_passes(raw: str) -> None:
    fixed = raw[:8] + vin_check_digit(raw) + raw[9:]
    vin = normalize_vin(fixed)
    assert vin.valid
    assert vin.check_digit_ok is True


@given(st.text(max_size=200))
def test_vin_value_is_a_fixed_point(raw: str) -> None:
    vin = normalize_vin(raw)
    assert vin.raw == raw.strip()
    assert normalize_vin(vin.value).value == vin.value
    assert vin.valid == (vin.problem is None)
    assert (vin.check_digit_ok is None) != vin.valid
    fragment = vin_fragment(raw)
    assert fragment is None or len(fragment) >= 4


@given(VINS, st.data())
def test_vin_fragments_are_found(raw: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, 13))
    end = data.draw(st.integers(start + 4, 17))
    fragment = "".join(c.lower() if data.draw(st.booleans()) else c for c in raw[start:end])
    found = vin_fragment(fragment)
    assert found is not None
    assert found in normalize_vin(raw.lower()).value


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Иванов  Пётр", "иванов петр"),
        ("  ИВАНОВ\tПЁТР  ", "иванов петр"),
        ("Салтыков-Щедрин, М.Е.", "салтыков-щедрин м е"),
        ("Анна - Мария", "анна мария"),
        ("O'Brien", "o brien"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_name_key(text: str, key: str) -> None:
    assert name_key(text) == key


def test_name_tokens() -> None:
    assert name_tokens("Иванова-Петрова  Алёна") == ["иванова-петрова", "алена"]


@pytest.mark.parametrize(
    ("full", "parts"),
    [
        ("Иванов Василий Алибабаевич", ("Иванов", "Василий", "Алибабаевич")),
        ("  Иванов   Василий  ", ("Иванов", "Василий", "")),
        ("Иванов", ("Иванов", "", "")),
        ("", ("", "", "")),
        ("Алиев Ахмед Гусейн оглы", ("Алиев", "Ахмед", "Гусейн оглы")),
        ("Петухов В.П.", ("Петухов", "В.", "П.")),
    ],
)
def test_split_full_name(full: str, parts: tuple[str, str, str]) -> None:
    assert split_full_name(full) == parts


@pytest.mark.parametrize(
    ("args", "short"),
    [
        (("Иванов", "Василий", "Алибабаевич"), "Иванов В.А."),
        (("Перязева", "Наталья"), "Перязева Н."),
        (("Иванов",), "Иванов"),
        (("Смит", "Анна-Мария"), "Смит А."),
        ((" Петухов ", "в.", "п."), "Петухов В.П."),
        (("Иванов", "", "Петрович"), "Иванов"),
        (("", "Пётр"), "Пётр"),
    ],
)
def test_short_name(args: tuple[str, ...], short: str) -> None:
    assert short_name(*args) == short


@given(st.text(max_size=200))
def test_name_key_is_a_fixed_point(text: str) -> None:
    key = name_key(text)
    assert name_key(key) == key
    assert name_tokens(text) == key.split()
    parts = split_full_name(text)
    assert all(part == part.strip() for part in parts)
    short_name(*parts)


CYRILLIC_NAMES = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюя -", max_size=40)


@given(CYRILLIC_NAMES, st.data())
def test_yo_and_case_variants_share_a_key(text: str, data: st.DataObject) -> None:
    variant = ""
    for char in text:
        if char in "её":
            char = data.draw(st.sampled_from("еёЕЁ"))
        elif data.draw(st.booleans()):
            char = char.upper()
        variant += char
    assert name_key(variant) == name_key(text)
