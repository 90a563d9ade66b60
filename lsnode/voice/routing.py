"""Which employee a call goes to (SPEC §5 «Routing»), pure: rows in, a decision out.

The pool is the purpose's responsible employees, else everyone of the call's department, else
(no one there) every active employee with an extension — the operator's fallback. From the pool
an employee is skipped, with the reason recorded, when they are inactive, have no extension,
are not «Доступен» (``busy`` / ``away``), are on a call right now, or were already tried on
this call (their phone was busy, unregistered or did not answer). The rest are rotated fairly:
the one whose last call is the oldest (never called first) gets it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

Row = Mapping[str, Any]

SKIP_REASONS: Final = (
    "inactive",
    "no_extension",
    "busy",  # presence Занят
    "away",  # presence Нет на месте
    "in_call",  # on another call of the line
    "tried",  # already rung on this call (see the route's outcome)
)


@dataclass(frozen=True, slots=True)
class Skip:
    employee_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Choice:
    employee_id: str | None
    extension: str
    reason: str
    skipped: tuple[Skip, ...]

    def skipped_json(self) -> str:
        return json.dumps(
            [{"employee_id": s.employee_id, "reason": s.reason} for s in self.skipped]
        )


def _departments(emp: Row) -> list[str]:
    try:
        value = json.loads(emp.get("departments") or "[]")
    except ValueError:
        return []
    return [str(d) for d in value] if isinstance(value, list) else []


def pool(
    employees: Sequence[Row], department: str | None, responsible: Iterable[str]
) -> tuple[list[Row], str]:
    """The employees a call may go to, and on what ground."""
    wanted = [e for e in responsible if e]
    if wanted:
        by_id = {e["id"]: e for e in employees}
        chosen = [by_id[e] for e in wanted if e in by_id]
        if chosen:
            return chosen, "responsible for the purpose"
    if department:
        same = [e for e in employees if department in _departments(e)]
        if same:
            return same, f"department {department}"
    return list(employees), "operator (anyone available)"


def choose(
    employees: Sequence[Row],
    department: str | None,
    responsible: Iterable[str] = (),
    *,
    in_call: Iterable[str] = (),
    tried: Iterable[str] = (),
    last_call: Mapping[str, str] | None = None,
) -> Choice:
    """The next employee to ring, or none (``employee_id`` None) with every skip explained."""
    candidates, ground = pool(employees, department, responsible)
    busy_now, tried_set, last = set(in_call), set(tried), last_call or {}
    skipped: list[Skip] = []
    ready: list[Row] = []
    for emp in candidates:
        reason = None
        if not emp.get("active", 1):
            reason = "inactive"
        elif not (emp.get("extension") or "").strip():
            reason = "no_extension"
        elif emp.get("presence") != "available":
            reason = "away" if emp.get("presence") == "away" else "busy"
        elif emp["id"] in tried_set:
            reason = "tried"
        elif emp["id"] in busy_now:
            reason = "in_call"
        if reason:
            skipped.append(Skip(emp["id"], reason))
        else:
            ready.append(emp)
    if not ready:
        return Choice(None, "", f"nobody available ({ground})", tuple(skipped))
    ready.sort(key=lambda e: (last.get(e["id"], ""), e.get("short_name", ""), e["id"]))
    best = ready[0]
    never = best["id"] not in last
    why = f"{ground}; {'not called yet' if never else 'longest since the last call'}"
    return Choice(best["id"], str(best["extension"]).strip(), why, tuple(skipped))
