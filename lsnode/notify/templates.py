"""Rendering message templates safely, and what an SMS of a text costs.

A template is plain text with ``{name}`` placeholders (``{fio}``, ``{datetime}``, ``{car_descr}``
…, see ``catalog.PLACEHOLDERS``). Rendering is a regular-expression replacement, never
``str.format``: ``{fio.__class__}``, ``{0}`` or ``{fio!r}`` are not placeholders and stay as
typed, so a template (or a client's name) cannot reach attributes or other values. Values are
cleaned of control characters and bounded; a missing value renders empty (what a client gets)
or marked (what the preview shows). Subjects lose every line break, so nothing typed into a
name or a template can add a mail header. Bodies are bounded: an SMS to ``MAX_SMS_SEGMENTS``
segments, other channels to ``MAX_BODY`` characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from lsnode.errors import InputError
from lsnode.notify.catalog import PLACEHOLDERS

MAX_VALUE: Final = 500  # one placeholder's value, characters
MAX_SUBJECT: Final = 200
MAX_BODY: Final = 20_000  # e-mail, file, LAN, FTP
MAX_TEMPLATE: Final = 20_000
MAX_SMS_SEGMENTS: Final = 6
ELLIPSIS: Final = "…"

_TOKEN: Final = re.compile(r"\{\{|\}\}|\{([^{}\n]{0,64})\}")
_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,31}")
# C0/C1 controls except tab and newline, DEL, and the Unicode line/paragraph separators.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAKS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    missing: tuple[str, ...]  # known placeholders with no value here
    unknown: tuple[str, ...]  # ``{…}`` that are not placeholders (left as typed)


def placeholders_in(template: str) -> tuple[set[str], set[str]]:
    """``(known, unknown)`` placeholder names used by ``template``."""
    known: set[str] = set()
    unknown: set[str] = set()
    for m in _TOKEN.finditer(template):
        name = m.group(1)
        if name is None:
            continue
        (known if name in PLACEHOLDERS else unknown).add(name)
    return known, unknown


def check_template(text: str, label: str = "template") -> str:
    """The text of a template as saved: bounded, no unknown placeholders (a typo says so)."""
    if len(text) > MAX_TEMPLATE:
        raise InputError(f"{label} is too long (more than {MAX_TEMPLATE} characters)")
    _, unknown = placeholders_in(text)
    if unknown:
        names = ", ".join("{" + u + "}" for u in sorted(unknown))
        known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
        raise InputError(f"{label}: unknown placeholder(s) {names}; known: {known}")
    return _CONTROL.sub("", text)


def clean_value(value: object, single_line: bool = False) -> str:
    if value is None:
        return ""
    text = str(value)
    text = _LINE_BREAKS.sub(" ", text) if single_line else _CONTROL.sub("", text)
    text = text.strip()
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + ELLIPSIS


def render(template: str, values: Mapping[str, object], *, mark_missing: bool = False) -> Rendered:
    """``template`` with its placeholders replaced by ``values`` (cleaned, one line each)."""
    missing: list[str] = []
    unknown: list[str] = []

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = m.group(1)
        if name not in PLACEHOLDERS or not _NAME.fullmatch(name):
            unknown.append(name)
            return token
        value = clean_value(values.get(name), single_line=True)
        if not value:
            missing.append(name)
            return f"⟨{name}?⟩" if mark_missing else ""
        return value

    text = _TOKEN.sub(sub, template)
    return Rendered(text, tuple(dict.fromkeys(missing)), tuple(dict.fromkeys(unknown)))


def clean_subject(subject: str) -> str:
    """One line: line breaks and controls become spaces (no header injection), bounded."""
    text = " ".join(_LINE_BREAKS.sub(" ", subject).split())
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 1] + ELLIPSIS


def bound_body(body: str, channel_kind: str) -> str:
    """The body as it may be sent on ``channel_kind``: controls removed, length bounded."""
    text = _CONTROL.sub("", body).strip()
    if channel_kind == "sms":
        return fit_sms(text, MAX_SMS_SEGMENTS)
    return text if len(text) <= MAX_BODY else text[: MAX_BODY - 1] + ELLIPSIS


# -- SMS length ------------------------------------------------------------------------------

# GSM 03.38 default alphabet, and its extension table (each extension character costs two).
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")
GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True, slots=True)
class SmsStats:
    """What the template editor shows: «СМС: 2 части, 134 символа (кириллица: 67 в части)»."""

    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # capacity of one segment at this length
    left: int  # units still free in the last segment


def sms_stats(text: str) -> SmsStats:
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, multi, encoding = GSM7_SINGLE, GSM7_MULTI, "gsm7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = UCS2_SINGLE, UCS2_MULTI, "ucs2"
    if units <= single:
        return SmsStats(encoding, units, 1 if units else 0, single, single - units)
    segments = -(-units // multi)
    return SmsStats(encoding, units, segments, multi, segments * multi - units)


def fit_sms(text: str, max_segments: int) -> str:
    """``text`` cut (with «…») so that it fits ``max_segments`` segments."""
    if sms_stats(text).segments <= max_segments:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if sms_stats(text[:mid] + ELLIPSIS).segments <= max_segments:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS
