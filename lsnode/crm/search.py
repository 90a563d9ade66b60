"""The one search box: a single string finds clients by name, phone, plate or VIN.

People type whatever they have at hand — «Иванов», «8 925 111-22-33», «2233», «н433ар»,
the last characters of a VIN — so the query is read every way it can mean and each reading is
one indexed look-up (``SearchIndex``). Results are ranked: an exact phone, plate or VIN first,
then phone endings, then plate/VIN fragments, then names; each hit comes with its cars and
open documents, as the traffic registration screen shows them on pick.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from lsnode.crm.normalize import (
    name_tokens,
    normalize_phone,
    normalize_plate,
    plate_fragment_key,
    vin_fragment,
)
from lsnode.errors import QueryError
from lsnode.store.ports import ClientReader, Row, SearchIndex

MAX_QUERY_CHARS = 100
MAX_LIMIT = 200
MIN_PHONE_DIGITS = 4
MIN_CAR_FRAGMENT = 3
_PHONE_CHARS = frozenset("0123456789+-() .")


class Match(IntEnum):
    """How a hit matched; lower sorts first."""

    EXACT_PHONE = 0
    EXACT_PLATE = 1
    EXACT_VIN = 2
    PHONE_ENDING = 3
    CAR_FRAGMENT = 4
    NAME = 5


@dataclass(frozen=True, slots=True)
class SearchHit:
    counterparty: Row
    matched: tuple[Match, ...]
    contacts: list[Row] = field(default_factory=list)
    cars: list[Row] = field(default_factory=list)
    open_documents: list[Row] = field(default_factory=list)

    @property
    def best(self) -> Match:
        return min(self.matched)


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    hits: list[SearchHit]
    tried: tuple[Match, ...]  # the readings of the query that were looked up


def validate_query(query: str) -> str:
    """The query stripped, or a ``QueryError`` saying what is wrong with it."""
    if not isinstance(query, str):
        raise QueryError("search query must be text")
    if len(query) > MAX_QUERY_CHARS * 4:
        raise QueryError(f"search query is too long (more than {MAX_QUERY_CHARS} characters)")
    bad = [c for c in query if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn")]
    if any(c not in "\t\n\r" for c in bad):
        raise QueryError("search query contains control characters")
    text = " ".join(query.split())
    if not text:
        raise QueryError("search query is empty: type a name, phone, plate or VIN")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"search query is too long (more than {MAX_QUERY_CHARS} characters)")
    if not any(c.isalnum() for c in text):
        raise QueryError(f"nothing to search for in {text!r}: type letters or digits")
    return text


def _readings(
    text: str, index: SearchIndex, limit: int, region: str
) -> list[tuple[Match, Callable[[], list[str]]]]:
    """Every way ``text`` can be read, each with its look-up, cheapest and most exact first."""
    out: list[tuple[Match, Callable[[], list[str]]]] = []
    digits = "".join(c for c in text if c.isdigit())
    if set(text) <= _PHONE_CHARS and len(digits) >= MIN_PHONE_DIGITS:
        phone = normalize_phone(text, region) if len(digits) >= 10 else None
        if phone is not None and phone.e164 is not None:
            e164 = phone.e164
            out.append((Match.EXACT_PHONE, lambda: index.by_phone_e164(e164, limit)))
        # The last ten digits catch a full number stored in a form that did not normalise.
        ending = digits[-10:][::-1]
        out.append((Match.PHONE_ENDING, lambda: index.by_phone_suffix(ending, limit)))
    compact = "".join(c for c in text if c not in " -.")
    if compact.isalnum() and any(c.isdigit() for c in compact):
        plate = normalize_plate(text)
        if plate.valid:
            key = plate.key
            out.append((Match.EXACT_PLATE, lambda: index.by_plate_exact(key, limit)))
        vin = vin_fragment(compact)
        if vin is not None and len(vin) == 17:
            out.append((Match.EXACT_VIN, lambda: index.by_vin_exact(vin, limit)))
        fragment = plate_fragment_key(compact)
        if len(fragment) >= MIN_CAR_FRAGMENT:
            out.append((Match.CAR_FRAGMENT, lambda: index.by_car_fragment(fragment, limit)))
    words = [t for t in name_tokens(text) if any(c.isalpha() for c in t)]
    if words:
        out.append((Match.NAME, lambda: index.by_name_prefixes(words, limit)))
    return out


def search(
    index: SearchIndex,
    reader: ClientReader,
    query: str,
    *,
    limit: int = 20,
    region: str = "RU",
) -> SearchResult:
    """Find counterparties for one typed string; raises ``QueryError`` for an unusable one."""
    text = validate_query(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    found: dict[str, set[Match]] = {}
    readings = sorted(_readings(text, index, limit, region), key=lambda r: r[0])
    for kind, look_up in readings:
        if len(found) >= limit:  # better readings filled the page: the rest would rank below
            break
        for cp_id in look_up():
            found.setdefault(cp_id, set()).add(kind)
    order = sorted(found, key=lambda cp: min(found[cp]))[:limit]
    rows = reader.counterparties(order)
    order = [cp for cp in order if cp in rows]
    contacts = reader.contacts_of(order, brief=True)
    cars = reader.cars_of(order, brief=True)
    docs = reader.open_documents_of(order)
    hits = [
        SearchHit(
            counterparty=rows[cp],
            matched=tuple(sorted(found[cp])),
            contacts=contacts[cp],
            cars=cars[cp],
            open_documents=docs[cp],
        )
        for cp in order
    ]
    return SearchResult(query=text, hits=hits, tried=tuple(kind for kind, _ in readings))
