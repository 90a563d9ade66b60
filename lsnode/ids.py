"""UUIDv7 identifiers made on the node (RFC 9562 §5.7).

Rows are created offline on many nodes at once, so ids must never need a round trip: 48 bits of
Unix milliseconds then 74 random bits. Time-ordered ids keep SQLite's B-tree appends local.
Both the clock and the randomness are inputs, so demo data and tests are reproducible.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Callable

_lock = threading.Lock()
_last = (0, 0)


def uuid7(ms: int | None = None, rand: Callable[[int], int] | None = None) -> str:
    """A UUIDv7 string; ``ms`` is Unix time in milliseconds, ``rand(k)`` gives k random bits.

    With neither given, ids made by this process are strictly increasing (RFC 9562 §6.2,
    method 2: within one millisecond, the random part is incremented), so rows sort by creation.
    """
    global _last
    if ms is None and rand is None:
        with _lock:
            now = time.time_ns() // 1_000_000
            last_ms, last_bits = _last
            if now <= last_ms:
                now, bits = last_ms, last_bits + 1
            else:
                bits = int.from_bytes(os.urandom(10), "big") >> 7  # headroom to count up
            _last = (now, bits)
        return _format(now, bits)
    if ms is None:
        ms = time.time_ns() // 1_000_000
    bits = rand(74) if rand is not None else int.from_bytes(os.urandom(10), "big") >> 6
    return _format(ms, bits)


def _format(ms: int, bits: int) -> str:
    if not 0 <= ms < 1 << 48:
        raise ValueError(f"timestamp out of UUIDv7 range: {ms}")
    rand_a = bits >> 62 & 0xFFF
    rand_b = bits & ((1 << 62) - 1)
    h = f"{ms << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def seeded_uuid7(rng: random.Random) -> Callable[[int], str]:
    """A UUIDv7 factory drawing its random bits from ``rng``: same seed, same ids."""

    def make(ms: int) -> str:
        return uuid7(ms, rng.getrandbits)

    return make


def uuid7_ms(value: str) -> int:
    """The millisecond timestamp inside a UUIDv7."""
    return uuid.UUID(value).int >> 80
