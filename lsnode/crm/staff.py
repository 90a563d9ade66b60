"""Employees on a node: PIN sign-in, rights by role, presence (Доступен / Занят / Нет на месте).

A PIN is stored only as a scrypt hash (``scrypt$n$r$p$salt$hash``); checking one costs ~50 ms
by design, and a node refuses further tries for a while after several wrong ones, so a lost
tablet does not give up the PINs by guessing. Rights come from the role and decide what the
signed-in employee sees and may do — the brochure's «показать чужой трафик» and the like.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from lsnode.clock import instant
from lsnode.errors import InputError, NotFound
from lsnode.store.ports import Row, RowWriter, StaffReader

_N, _R, _P = 2**14, 8, 1
PIN_MIN, PIN_MAX = 4, 8
MAX_TRIES: Final = 5
LOCK_S: Final = 30.0


class Presence(StrEnum):
    AVAILABLE = "available"  # Доступен
    BUSY = "busy"  # Занят
    AWAY = "away"  # Нет на месте


class Right(StrEnum):
    SEE_OWN = "see_own"
    SEE_OTHERS = "see_others"  # показать чужой трафик
    SEE_UNASSIGNED = "see_unassigned"  # показать нераспределенный трафик
    REGISTER = "register"  # register incoming traffic (reception, call centre)
    TAKE = "take"  # Взять себе
    ASSIGN = "assign"  # Назначить / Переназначить someone else
    PROCESS = "process"  # Обработать, Игнорировать, Отменить обработку
    ADMIN_PURPOSES = "admin_purposes"  # Цели контактов
    ADMIN_STAFF = "admin_staff"


_ALL = frozenset(Right)
_FLOOR = frozenset({Right.SEE_OWN, Right.SEE_UNASSIGNED, Right.REGISTER, Right.TAKE, Right.PROCESS})
ROLE_RIGHTS: Final[Mapping[str, frozenset[Right]]] = {
    "admin": _ALL,
    # Secretaries and reception register and hand out contacts; they see everyone's traffic.
    "secretary": _FLOOR | {Right.SEE_OTHERS, Right.ASSIGN},
    "marketing": _FLOOR | {Right.SEE_OTHERS, Right.ASSIGN, Right.ADMIN_PURPOSES},
    # Salesmen and service advisers see their own and the unassigned, and take what is theirs.
    "manager": _FLOOR,
    "adviser": _FLOOR,
    "staff": frozenset({Right.SEE_OWN, Right.TAKE, Right.PROCESS}),
}


def rights_of(role: str) -> frozenset[Right]:
    return ROLE_RIGHTS.get(role, ROLE_RIGHTS["staff"])


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """A scrypt hash of a PIN, with its parameters, for ``employees.pin_hash``."""
    check_pin_format(pin)
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_pin(pin: str, stored: str | None) -> bool:
    if not stored or not pin:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            pin.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def check_pin_format(pin: str) -> None:
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise InputError(f"PIN: {PIN_MIN}–{PIN_MAX} digits")


@dataclass(frozen=True, slots=True)
class Session:
    """The employee signed in on this node and what they may do."""

    employee_id: str
    short_name: str
    role: str
    departments: tuple[str, ...]
    rights: frozenset[Right]

    def may(self, right: Right) -> bool:
        return right in self.rights

    def require(self, right: Right) -> None:
        if right not in self.rights:
            raise InputError(f"{self.short_name}: no right to {right.value}")


class SignInError(InputError):
    """Wrong PIN, unknown or inactive employee, or too many tries (``retry_after_s`` > 0)."""

    def __init__(self, message: str, retry_after_s: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class SignIn:
    """PIN sign-in with a per-employee lock after ``MAX_TRIES`` wrong PINs (per node process)."""

    staff: StaffReader
    monotonic: Callable[[], float] = time.monotonic
    _fails: dict[str, list[float]] = field(default_factory=dict)

    def __call__(self, employee_id: str, pin: str) -> Session:
        now = self.monotonic()
        fails = [t for t in self._fails.get(employee_id, []) if now - t < LOCK_S]
        self._fails[employee_id] = fails
        if len(fails) >= MAX_TRIES:
            wait = LOCK_S - (now - fails[0])
            raise SignInError(f"too many wrong PINs: try again in {int(wait) + 1} s", wait)
        emp = self.staff.employee(employee_id)
        if emp is None or not emp["active"]:
            raise SignInError("no such employee")
        if not emp["pin_hash"]:
            raise SignInError("this employee has no PIN yet: an administrator sets it")
        if not verify_pin(pin, emp["pin_hash"]):
            fails.append(now)
            raise SignInError("wrong PIN")
        self._fails.pop(employee_id, None)
        return session_of(emp)


def session_of(emp: Row) -> Session:
    departments = tuple(json.loads(emp["departments"] or "[]"))
    return Session(emp["id"], emp["short_name"], emp["role"], departments, rights_of(emp["role"]))


def set_presence(
    writer: RowWriter,
    staff: StaffReader,
    employee_id: str,
    presence: str,
    note: str | None = None,
    *,
    now: datetime,
) -> Row:
    """Change an employee's presence (and the «Доп. информация» note); synced to every node."""
    try:
        value = Presence(presence)
    except ValueError:
        raise InputError(
            f"presence must be one of {', '.join(p.value for p in Presence)}"
        ) from None
    if staff.employee(employee_id) is None:
        raise NotFound(f"no employee {employee_id}")
    changes: dict[str, object] = {"presence": value.value, "presence_at": instant(now)}
    if note is not None:
        if len(note) > 200 or any(ord(ch) < 32 for ch in note):
            raise InputError("extra info: one line, at most 200 characters")
        changes["presence_note"] = note.strip()
    writer.update("employees", employee_id, changes)
    emp = staff.employee(employee_id)
    assert emp is not None
    return emp


def set_pin(writer: RowWriter, staff: StaffReader, employee_id: str, pin: str) -> None:
    if staff.employee(employee_id) is None:
        raise NotFound(f"no employee {employee_id}")
    writer.update("employees", employee_id, {"pin_hash": hash_pin(pin)})
