"""Search keys and display forms for what people type into a dealership CRM.

Phones, plates, VINs and names arrive from kiosks, call-centre forms and old imports in every shape
a person can produce. Search must find «8(925)111-22-33» when «+7 925 111 22 33» was stored, and a
plate typed in Latin when it was saved in Cyrillic. Each normaliser therefore keeps what was typed
(``raw``) beside a search key, and reports a problem instead of raising: a receptionist's typo must
never lose a record or stop a form.

Pure functions: the standard library and ``phonenumbers`` only, so sync, search and import code can
all key records identically.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, ValidationResult

__all__ = [
    "Phone",
    "Plate",
    "Vin",
    "name_key",
    "name_tokens",
    "normalize_phone",
    "normalize_plate",
    "normalize_vin",
    "phone_problem_message",
    "plate_fragment_key",
    "short_name",
    "split_full_name",
    "vin_check_digit",
    "vin_fragment",
]

_CYRILLIC_LOOKALIKES = "АВЕКМНОРСТУХ"
_LATIN_LOOKALIKES = "ABEKMHOPCTYX"
_TO_LATIN = str.maketrans(_CYRILLIC_LOOKALIKES, _LATIN_LOOKALIKES)
_TO_CYRILLIC = str.maketrans(_LATIN_LOOKALIKES, _CYRILLIC_LOOKALIKES)
_LATIN_LOOKALIKE_SET = frozenset(_LATIN_LOOKALIKES)


def _ascii_digits(text: str) -> str:
    """Every decimal digit as ASCII, so Arabic-Indic or full-width digits key like the rest."""
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


# ---------------------------------------------------------------------------------------------
# Phones

# Only the tail is searched: an extension is short, and a bounded tail keeps a pasted 10 kB
# string from turning the backtracking of ``\s*`` into quadratic time.
_EXT_TAIL = 48
_EXT_RE = re.compile(
    r"(?:\s*(?P<word>доб(?:авочный)?|ext(?:ension)?|вн(?:утр(?:енний)?)?|x|х)\.?\s*:?"
    r"|\s*[,;#]+)\s*(?P<ext>[0-9]{1,7})\s*#?\Z",
    re.IGNORECASE,
)


def _split_extension(raw: str) -> tuple[str, str | None, bool]:
    """Cut an extension off the end; the flag says whether a word («доб.», «ext») marked it.

    A bare ``,`` or ``#`` may as well be a typo inside the number, so callers trust it only
    when the rest turns out to be a real number.
    """
    offset = max(0, len(raw) - _EXT_TAIL)
    match = _EXT_RE.search(raw, offset)
    if match is None:
        return raw, None, False
    return raw[: match.start()].rstrip(), match.group("ext"), match.group("word") is not None


def _parse(text: str, region: str) -> PhoneNumber | str:
    """A parsed number, or the problem code when ``phonenumbers`` refuses the text outright."""
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.TOO_LONG:
            return "too_long"
        if exc.error_type in (
            NumberParseException.TOO_SHORT_NSN,
            NumberParseException.TOO_SHORT_AFTER_IDD,
        ):
            return "too_short"
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            return "invalid"
        return "not_a_number"


def _subscriber_lengths(meta: phonenumbers.PhoneMetadata | None) -> list[int]:
    if meta is None:
        return []
    for descs in ((meta.fixed_line, meta.mobile), (meta.general_desc,)):
        lengths = [n for desc in descs if desc for n in desc.possible_length or () if n > 0]
        if lengths:
            return lengths
    return []


def _length_problem(number: PhoneNumber) -> str:
    """Tell "too few" from "too many" digits when ``phonenumbers`` only says the length is odd."""
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return "too_short"
    if reason == ValidationResult.TOO_LONG:
        return "too_long"
    if reason == ValidationResult.INVALID_LENGTH and number.country_code:
        code = number.country_code
        region = phonenumbers.region_code_for_country_code(code)
        meta = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        # The general description also allows service-number lengths (14 digits in RU), so
        # subscriber numbers, which people actually type, set the bounds.
        lengths = _subscriber_lengths(meta)
        national = len(str(number.national_number or ""))
        if lengths and national > max(lengths):
            return "too_long"
        if lengths and national < min(lengths):
            return "too_short"
    return "invalid"


def _looks_russian(text: str) -> bool:
    """«8 925 …» or «7 925 …» with 11 digits is a Russian number whatever the dealer's region."""
    if "+" in text:
        return False
    digits = _ascii_digits(text)
    return len(digits) == 11 and digits[0] in "78"


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone as typed plus its E.164 key; ``raw`` survives even when nothing else does."""

    raw: str
    e164: str | None
    extension: str | None
    valid: bool
    problem: str | None

    @property
    def digits(self) -> str:
        """Digits to match "the number ends in …" searches, even for numbers we cannot parse."""
        if self.e164:
            return self.e164[1:]
        main = _split_extension(self.raw)[0] if self.extension else self.raw
        return _ascii_digits(main)

    @property
    def reversed_digits(self) -> str:
        """Reversed so a "last N digits" search becomes a prefix search on an index."""
        return self.digits[::-1]

    def display(self) -> str:
        """One spelling for every number we understood; what was typed otherwise."""
        if not self.e164:
            return self.raw
        try:
            number = phonenumbers.parse(self.e164, None)
        except NumberParseException:
            return self.raw
        text = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        return f"{text} доб. {self.extension}" if self.extension else text


def normalize_phone(raw: str, region: str = "RU") -> Phone:
    """Key a phone for storage and search; an unparseable one is kept raw and flagged."""
    text = raw.strip()
    if not text:
        return Phone(raw=text, e164=None, extension=None, valid=False, problem="empty")
    region = region.strip().upper() or "RU"
    main, ext, marked = _split_extension(text)
    if main.startswith("00") and main[2:].lstrip()[:1].isdigit():
        main = "+" + main[2:]

    if not any(c.isdecimal() for c in main):
        return Phone(raw=text, e164=None, extension=None, valid=False, problem="not_a_number")
    parsed = _parse(main, region)
    if (
        region != "RU"
        and _looks_russian(main)
        and (isinstance(parsed, str) or not phonenumbers.is_valid_number(parsed))
    ):
        russian = _parse(main, "RU")
        if not isinstance(russian, str) and phonenumbers.is_valid_number(russian):
            parsed = russian

    if isinstance(parsed, str):
        return Phone(
            raw=text, e164=None, extension=ext if marked else None, valid=False, problem=parsed
        )
    possible = phonenumbers.is_possible_number_with_reason(parsed) == ValidationResult.IS_POSSIBLE
    if not possible:
        return Phone(
            raw=text,
            e164=None,
            extension=ext if marked else None,
            valid=False,
            problem=_length_problem(parsed),
        )
    valid = phonenumbers.is_valid_number(parsed)
    return Phone(
        raw=text,
        e164=phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
        extension=ext or parsed.extension or None,
        valid=valid,
        problem=None if valid else "invalid",
    )


_PHONE_MESSAGES: dict[str, dict[str, str]] = {
    "ru": {
        "prefix": "Телефон не распознан",
        "empty": "Телефон не указан",
        "not_a_number": "это не номер телефона",
        "too_short": "не хватает цифр",
        "too_long": "слишком много цифр",
        "invalid": "такого номера не существует",
    },
    "en": {
        "prefix": "Phone not recognised",
        "empty": "Phone is empty",
        "not_a_number": "not a phone number",
        "too_short": "too few digits",
        "too_long": "too many digits",
        "invalid": "no such number exists",
    },
}
_MESSAGE_RAW_LIMIT = 40


def phone_problem_message(phone: Phone, lang: str = "ru") -> str | None:
    """A one-line hint for a form or an import log; ``None`` when there is nothing to say."""
    if phone.problem is None:
        return None
    messages = _PHONE_MESSAGES.get(lang.lower()[:2], _PHONE_MESSAGES["ru"])
    if phone.problem == "empty":
        return messages["empty"]
    shown = " ".join("".join(c if c.isprintable() else " " for c in phone.raw).split())
    if len(shown) > _MESSAGE_RAW_LIMIT:
        shown = shown[: _MESSAGE_RAW_LIMIT - 1] + "…"
    reason = messages.get(phone.problem, messages["invalid"])
    return f"{messages['prefix']}: {shown} — {reason}"


# ---------------------------------------------------------------------------------------------
# Plates

_L = "[ABEKMHOPCTYX]"
_REGION = "(?P<region>[0-9]{2}|[1-9][0-9]{2})"
_PLATE_KINDS = (
    ("car", re.compile(rf"{_L}[0-9]{{3}}{_L}{{2}}{_REGION}")),
    ("moto", re.compile(rf"[0-9]{{4}}{_L}{{2}}{_REGION}")),
    ("transit", re.compile(rf"{_L}{{2}}[0-9]{{3}}{_L}{_REGION}")),
    ("trailer", re.compile(rf"{_L}{{2}}[0-9]{{4}}{_REGION}")),
    ("taxi", re.compile(rf"{_L}{{2}}[0-9]{{3}}{_REGION}")),
)
_TRAILING_RUS = re.compile(r"(?<=[0-9])(?:RUS|PYC)\Z")


def _fold(text: str) -> str:
    """Upper case with Cyrillic look-alikes as Latin: the letters a plate or VIN may hold."""
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFKC", text.upper())
    return text.translate(_TO_LATIN)


def _plate_key(text: str) -> str:
    kept = "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() else c for c in _fold(text) if c.isalnum()
    )
    return _TRAILING_RUS.sub("", kept)


@dataclass(frozen=True, slots=True)
class Plate:
    """A registration plate as typed, keyed so Cyrillic and Latin spellings meet."""

    raw: str
    key: str
    display: str
    kind: str
    region: str | None
    valid: bool


def normalize_plate(raw: str) -> Plate:
    """Key and classify a plate; an unknown shape is kept and marked, never rejected."""
    text = raw.strip()
    key = _plate_key(text)
    if key and all(c.isdigit() or c in _LATIN_LOOKALIKE_SET for c in key):
        display = key.translate(_TO_CYRILLIC)
    else:
        display = key
    matches = [(kind, m) for kind, pattern in _PLATE_KINDS if (m := pattern.fullmatch(key))]
    if len(matches) > 1:
        # «АВ 1234 77» (trailer) and «АВ 123 477» (taxi) share a key; the spacing decides,
        # and the far more common trailer wins when there is none.
        runs = re.findall("[0-9]+", "".join(_ascii_digits(c) or " " for c in text))
        first_run = len(runs[0]) if runs else 0
        wanted = "taxi" if first_run == 3 else "trailer"
        matches = [item for item in matches if item[0] == wanted] or matches[:1]
    if not matches:
        return Plate(raw=text, key=key, display=display, kind="unknown", region=None, valid=False)
    kind, match = matches[0]
    return Plate(
        raw=text, key=key, display=display, kind=kind, region=match.group("region"), valid=True
    )


def plate_fragment_key(fragment: str) -> str:
    """Fold a partial plate from a search box exactly as :func:`normalize_plate` folds keys."""
    return _plate_key(fragment)


# ---------------------------------------------------------------------------------------------
# VINs

_VIN_ALPHABET = frozenset("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def _vin_clean(text: str) -> str:
    kept = "".join(c for c in _fold(text) if not c.isspace() and unicodedata.category(c) != "Pd")
    # Dropping a space can leave a bare combining mark next to a letter; compose it now so
    # the value is its own normal form.
    return unicodedata.normalize("NFKC", kept)


@dataclass(frozen=True, slots=True)
class Vin:
    """A VIN as typed plus its canonical value; the check digit is informative only."""

    raw: str
    value: str
    valid: bool
    check_digit_ok: bool | None
    problem: str | None


def vin_check_digit(vin17: str) -> str:
    """The ISO 3779 position-9 character; raises ``ValueError`` unless given a well-formed VIN.

    Callers pass ``Vin.value`` of a valid VIN, so a bad argument is a programming error.
    """
    vin = vin17.upper()
    if len(vin) != 17 or not set(vin) <= _VIN_ALPHABET:
        raise ValueError(f"not a 17-character VIN: {vin17!r}")
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_vin(raw: str) -> Vin:
    """Canonicalise a VIN typed on either keyboard layout; bad ones are flagged, not refused."""
    text = raw.strip()
    value = _vin_clean(text)
    if not value:
        problem: str | None = "empty"
    elif not set(value) <= _VIN_ALPHABET:
        problem = "bad_chars"
    elif len(value) != 17:
        problem = "length"
    else:
        problem = None
    if problem is not None:
        return Vin(raw=text, value=value, valid=False, check_digit_ok=None, problem=problem)
    return Vin(
        raw=text,
        value=value,
        valid=True,
        check_digit_ok=vin_check_digit(value) == value[8],
        problem=None,
    )


def vin_fragment(fragment: str) -> str | None:
    """A search-box fragment as it would sit inside ``Vin.value``; None when too short to search."""
    value = _vin_clean(fragment)
    if len(value) >= 4 and set(value) <= _VIN_ALPHABET:
        return value
    return None


# ---------------------------------------------------------------------------------------------
# Names

_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-"})
_INITIALS = re.compile(r"([^\W\d_]\.)([^\W\d_]\.)")


def name_key(text: str) -> str:
    """A key under which «Пётр», «ПЕТР» and «петр.» meet; ё is written as е half the time."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    folded = folded.replace("ё", "е").translate(_HYPHENS)
    spaced = "".join(c if c == "-" or unicodedata.category(c)[0] in "LNM" else " " for c in folded)
    tokens = (token.strip("-") for token in spaced.split())
    return " ".join(token for token in tokens if token)


def name_tokens(text: str) -> list[str]:
    """Words of :func:`name_key`, for matching a search word against any part of a name."""
    return name_key(text).split()


def split_full_name(full: str) -> tuple[str, str, str]:
    """Surname, given name, patronymic from one line, as imports and kiosks deliver them.

    Anything past the third word (Азербайджанское «оглы», double patronymics) stays with the
    patronymic rather than being lost. «Иванов В.А.» splits into its initials.
    """
    parts = full.split()
    if len(parts) == 2 and (initials := _INITIALS.fullmatch(parts[1])):
        parts = [parts[0], initials.group(1), initials.group(2)]
    surname = parts[0] if parts else ""
    given = parts[1] if len(parts) > 1 else ""
    return surname, given, " ".join(parts[2:])


def _initial(word: str) -> str:
    letter = next((c for c in word if c.isalpha()), "")
    return f"{letter.upper()}." if letter else ""


def short_name(surname: str, given: str = "", patronymic: str = "") -> str:
    """«Петухов В.П.», the form staff lists and reports use.

    A patronymic initial without a given-name one would read as the given name, so it is
    dropped; with no surname the given name is shown whole, since a lone initial says nothing.
    """
    surname = " ".join(surname.split())
    first = _initial(given)
    if not surname:
        return " ".join(" ".join((given, patronymic)).split())
    initials = first + _initial(patronymic) if first else ""
    return f"{surname} {initials}" if initials else surname
