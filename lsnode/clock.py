"""Time as an input (CONVENTIONS.md §9): a clock is a function returning an aware UTC instant.

Use cases take a clock; nothing in the domain calls ``datetime.now()``. Instants are stored as
the store writes them (ISO 8601, UTC, milliseconds, ``Z`` — ``iso()``, the same text as
``lsnode.store.changes.utc_now``), so they compare correctly as strings; schedules and «today»
are computed in the dealer's time zone (setting ``time_zone``, default Europe/Moscow).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lsnode.errors import InputError

Clock = Callable[[], datetime]
DEFAULT_TIME_ZONE: Final = "Europe/Moscow"


def system_clock() -> datetime:
    """The real clock: for the hub and the CLI only, never called inside the domain."""
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock stopped at ``at`` (tests, previews)."""
    at = as_utc(at)
    return lambda: at


class SettableClock:
    """A clock tests move by hand: ``clock.set(...)``, ``clock.advance(minutes=5)``."""

    def __init__(self, at: datetime) -> None:
        self.at = as_utc(at)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = as_utc(at)

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def as_utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise InputError(f"an instant needs a time zone: {at.isoformat()}")
    return at.astimezone(UTC)


def iso(at: datetime) -> str:
    return as_utc(at).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"not an ISO 8601 instant: {text!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {name!r}") from None


def parse_hhmm(text: str) -> time:
    try:
        hh, mm = text.strip().split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise InputError(f"a calculation time is HH:MM, like 20:00; not {text!r}") from None


def local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at ``at`` on the dealer's wall clock, as a UTC instant."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def show(at: datetime | str, tz: ZoneInfo, fmt: str = "%d.%m.%Y %H:%M") -> str:
    """An instant as the dealer reads it: «20.12.2017 12:20»."""
    instant = parse_iso(at) if isinstance(at, str) else as_utc(at)
    return instant.astimezone(tz).strftime(fmt)


#: The names the traffic domain uses for the same two conversions.
instant = iso
parse_instant = parse_iso


def local_day_start(now: datetime, tz: ZoneInfo | None = None) -> datetime:
    """Midnight of ``now``'s day in the dealer's zone (default: the machine's)."""
    local = now.astimezone(tz) if tz is not None else now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
