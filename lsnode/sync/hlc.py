"""Hybrid logical clock: milliseconds + counter + site, as one sortable string.

A version is ``f"{ms:012x}{counter:04x}{site}"`` — fixed-width lowercase hex, so comparing two
versions as strings compares ``(ms, counter, site)``: later wins, and two sites can never tie.
Every local write takes ``now()``; every version seen from a peer goes through ``observe()`` so
this clock never issues a version below one it has seen (causality survives skewed clocks).
A version further ahead of the local wall clock than ``max_drift_ms`` is refused: one wrong clock
must not pin every replica's future writes behind it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Final

SITE_HEX: Final = 16
VERSION_LEN: Final = 12 + 4 + SITE_HEX
MAX_COUNTER: Final = 0xFFFF
#: Nodes may be a day off (a tablet with a flat RTC battery); beyond two days we refuse.
MAX_DRIFT_MS: Final = 2 * 24 * 3600 * 1000
_HEX = frozenset("0123456789abcdef")


class ClockDriftError(ValueError):
    """A version too far ahead of this clock: the sender's clock is wrong."""


_VERSION_RE: Final = re.compile(f"[0-9a-f]{{{VERSION_LEN}}}")


def is_version(value: object) -> bool:
    return isinstance(value, str) and _VERSION_RE.fullmatch(value) is not None


def is_site(value: object) -> bool:
    return isinstance(value, str) and len(value) == SITE_HEX and set(value) <= _HEX


def version_ms(version: str) -> int:
    return int(version[:12], 16)


def version_site(version: str) -> str:
    return version[16:]


def make_version(ms: int, counter: int, site: str) -> str:
    return f"{ms:012x}{counter:04x}{site}"


class HLC:
    """Thread-safe hybrid logical clock for one site."""

    def __init__(
        self,
        site: str,
        wall_ms: Callable[[], int] | None = None,
        max_drift_ms: int = MAX_DRIFT_MS,
        last: str | None = None,
    ) -> None:
        if not is_site(site):
            raise ValueError(f"site id must be {SITE_HEX} lowercase hex digits: {site!r}")
        self.site = site
        self._wall = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self.max_drift_ms = max_drift_ms
        self._ms = 0
        self._counter = 0
        self._lock = threading.Lock()
        if last:
            self.observe(last, check_drift=False)

    def now(self) -> str:
        with self._lock:
            wall = self._wall()
            if wall > self._ms:
                self._ms, self._counter = wall, 0
            elif self._counter < MAX_COUNTER:
                self._counter += 1
            else:  # 65 536 writes in one millisecond: borrow the next one
                self._ms, self._counter = self._ms + 1, 0
            return make_version(self._ms, self._counter, self.site)

    def observe(self, version: str, *, check_drift: bool = True) -> None:
        """Move past a version seen from a peer; ``ClockDriftError`` if it is from the future."""
        ms = version_ms(version)
        counter = int(version[12:16], 16)
        with self._lock:
            if check_drift and ms > self._wall() + self.max_drift_ms:
                raise ClockDriftError(
                    f"version {version} is {(ms - self._wall()) // 60000} min ahead of this clock"
                )
            if (ms, counter) > (self._ms, self._counter):
                self._ms, self._counter = ms, counter
