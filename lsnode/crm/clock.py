"""Time as an input (CONVENTIONS.md §9): use cases take a clock; instants are stored in UTC.

``instant()`` writes the store's format (ISO 8601, UTC, milliseconds, ``Z``) — the same text
``lsnode.store.changes.utc_now`` writes — so instants compare correctly as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_instant(text: str) -> datetime:
    """An instant as stored (or any ISO 8601 with an offset); naive text is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_day_start(now: datetime, tz: object | None = None) -> datetime:
    """Midnight of ``now``'s day in the dealer's zone (``tz``; default: the machine's)."""
    local = now.astimezone(tz) if tz is not None else now.astimezone()  # type: ignore[arg-type]
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def days_ago(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
