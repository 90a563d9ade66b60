"""Crash points for the kill -9 tests: ``LSAVTO_CRASH_AT=name[:n]`` SIGKILLs this process the
n-th time (default 1st) execution reaches ``crash_point(name)``.

A real SIGKILL, not an exception: nothing is flushed, no ``finally`` runs — the state a power cut
leaves. With the variable unset (always, in the product) a crash point is one dict lookup.
"""

from __future__ import annotations

import os
import signal

_spec = os.environ.get("LSAVTO_CRASH_AT", "")
_name, _, _nth = _spec.partition(":")
_left = int(_nth) if _nth.isdigit() else 1


def crash_point(name: str) -> None:
    global _left
    if not _spec or name != _name:
        return
    _left -= 1
    if _left <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
