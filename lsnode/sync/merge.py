"""Merging row states: per-column last-writer-wins with causal-length existence.

A replica's knowledge of one row is a ``RowState``: its causal length ``cl`` (odd: the row
exists, even: deleted; every delete and every re-create adds one), the version of each column
(a hybrid-logical-clock string, see ``hlc``), and the column values while the row exists.
Versions are kept compactly as one ``base`` plus ``overrides`` for the columns written later.

``merge`` is the join of two states, so replicas that have seen the same states — in any order,
any number of times — hold the same row:

- a higher causal length wins outright (a delete beats a concurrent update of the life it ends;
  a re-create beats the delete before it);
- on equal causal length, each column takes the value with the higher version;
- a column a state does not carry (an older node that predates the column) has no version and
  never overwrites one that does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NO_VERSION = ""


@dataclass(frozen=True, slots=True)
class RowState:
    table: str
    row_id: str
    cl: int
    base: str
    overrides: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return self.cl % 2 == 1

    def version_of(self, column: str) -> str:
        if column not in self.values:
            return NO_VERSION
        return self.overrides.get(column, self.base)

    @property
    def max_version(self) -> str:
        return max([self.base, *self.overrides.values()])


def compact(table: str, row_id: str, cl: int, versions: Mapping[str, str], values: Any) -> RowState:
    """A state from per-column versions, choosing the commonest version as the base."""
    if not versions:
        raise ValueError("a live row state needs at least one column")
    counts = Counter(versions.values())
    base = max(counts, key=lambda v: (counts[v], v))
    overrides = {c: v for c, v in versions.items() if v != base}
    return RowState(table, row_id, cl, base, overrides, dict(values))


def merge(local: RowState | None, incoming: RowState) -> RowState | None:
    """The joined state, or ``None`` when ``incoming`` adds nothing to ``local``."""
    if local is None or incoming.cl > local.cl:
        return incoming
    if incoming.cl < local.cl:
        return None
    if not incoming.alive:  # both deleted in the same life: keep the later tombstone time
        return incoming if incoming.base > local.base else None
    versions: dict[str, str] = {}
    values: dict[str, Any] = {}
    changed = False
    for column in local.values.keys() | incoming.values.keys():
        mine, theirs = local.version_of(column), incoming.version_of(column)
        if theirs > mine:
            versions[column], values[column] = theirs, incoming.values[column]
            changed = True
        else:
            versions[column], values[column] = mine, local.values[column]
    if not changed:
        return None
    return compact(local.table, local.row_id, local.cl, versions, values)
