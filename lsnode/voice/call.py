"""The call state machine (SPEC §5), pure and kept as data (CONVENTIONS.md §2).

A call on the hub's line moves through ``CallState`` by ``CallEvent``; ``TRANSITIONS`` is the
whole machine, and an event the table does not allow raises ``IllegalCallTransition`` before
anything changes. The pyVoIP callbacks (``lsnode.voice.sip``) feed events in; the machine
records the instants the traffic journal and the reports need and never touches a socket.

::

    incoming ──answer_menu──► menu ──ring──► ringing ──connect──► talking ──hang_up──► ended
       │  ╲                    │  ╲            │ ▲  ╲                │  ▲
       │   ╲hand_off           │   queue       │ │   dial (outgoing) │  │ connect
       │    ╲► transferred ◄───┘    ▼          │ │    ▼              │  │
       │                           queued ─ring┘ │  dialing ─────────┼──┘
       │                                         └──transfer─────────┘
       └── hang_up / give_up from any state before talking ──► missed

Outgoing calls («Набрать») start in ``ringing`` (the employee's extension rings first), go to
``dialing`` when the employee picks up (the client's phone rings), then ``talking``.

The popup on the employee's node reads the state: ``ringing`` → ВХОДЯЩИЙ ВЫЗОВ, ``talking`` →
РАЗГОВОР…, ``missed`` → ПРОПУЩЕННЫЙ ВЫЗОВ, ``ended`` → РАЗГОВОР ОКОНЧЕН.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from lsnode.errors import InputError


class CallState(StrEnum):
    INCOMING = "incoming"  # INVITE arrived; caller ID known
    MENU = "menu"  # the hub answered and plays the voice menu
    QUEUED = "queued"  # nobody available: «все операторы заняты», waiting
    RINGING = "ringing"  # an employee's extension rings (ВХОДЯЩИЙ ВЫЗОВ)
    DIALING = "dialing"  # outgoing: the employee picked up, the client's phone rings
    TALKING = "talking"  # bridged (РАЗГОВОР…)
    TRANSFERRED = "transferred"  # handed to the PBX (302 / REFER): no longer ours
    ENDED = "ended"  # talked, then hung up (РАЗГОВОР ОКОНЧЕН)
    MISSED = "missed"  # never talked (ПРОПУЩЕННЫЙ ВЫЗОВ)


class CallEvent(StrEnum):
    ANSWER_MENU = "answer_menu"
    QUEUE = "queue"
    RING = "ring"
    DIAL = "dial"
    CONNECT = "connect"
    TRANSFER = "transfer"
    HAND_OFF = "hand_off"
    HANG_UP = "hang_up"
    GIVE_UP = "give_up"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


C, E = CallState, CallEvent
TERMINAL: Final = frozenset({C.TRANSFERRED, C.ENDED, C.MISSED})
_BEFORE_TALK: Final = (C.INCOMING, C.MENU, C.QUEUED, C.RINGING, C.DIALING)

#: (state, event) -> next state: the whole machine.
TRANSITIONS: Final[Mapping[tuple[CallState, CallEvent], CallState]] = {
    (C.INCOMING, E.ANSWER_MENU): C.MENU,
    **{(s, E.RING): C.RINGING for s in (C.INCOMING, C.MENU, C.QUEUED, C.RINGING)},
    **{(s, E.QUEUE): C.QUEUED for s in (C.INCOMING, C.MENU, C.RINGING)},
    (C.RINGING, E.CONNECT): C.TALKING,
    (C.RINGING, E.DIAL): C.DIALING,
    (C.DIALING, E.CONNECT): C.TALKING,
    (C.TALKING, E.TRANSFER): C.RINGING,
    (C.INCOMING, E.HAND_OFF): C.TRANSFERRED,
    (C.MENU, E.HAND_OFF): C.TRANSFERRED,
    (C.TALKING, E.HANG_UP): C.ENDED,
    **{(s, E.HANG_UP): C.MISSED for s in _BEFORE_TALK},
    **{(s, E.GIVE_UP): C.MISSED for s in _BEFORE_TALK},
}

#: The instant each state is first entered, as the journal and reports name it.
ENTERED_AT: Final[Mapping[CallState, str]] = {
    C.MENU: "menu_at",
    C.QUEUED: "queued_at",
    C.RINGING: "ringing_at",
    C.TALKING: "answered_at",
    C.TRANSFERRED: "ended_at",
    C.ENDED: "ended_at",
    C.MISSED: "ended_at",
}


class IllegalCallTransition(InputError):
    """The event cannot happen in the call's present state (nothing was changed)."""


def next_state(state: CallState, event: CallEvent) -> CallState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalCallTransition(f"a call that is {state.value} cannot {event.value}") from None


@dataclass(frozen=True, slots=True)
class Step:
    """One move of the machine: what happened, when, and the state it led to."""

    at: datetime
    event: CallEvent
    state: CallState
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Call:
    """One call and its timeline. ``apply`` is the only way its state changes."""

    direction: Direction
    started_at: datetime
    state: CallState = CallState.INCOMING
    employee_id: str | None = None  # the employee ringing / talking now
    history: list[Step] = field(default_factory=list)
    times: dict[str, datetime] = field(default_factory=dict)
    talk_started: datetime | None = None
    talk_s: float = 0.0  # seconds talked, over every employee the call reached
    end_reason: str = ""

    @classmethod
    def incoming(cls, at: datetime) -> Call:
        return cls(Direction.IN, at)

    @classmethod
    def outgoing(cls, at: datetime, employee_id: str) -> Call:
        """«Набрать»: the employee's extension rings first."""
        call = cls(Direction.OUT, at)
        call.apply(CallEvent.RING, at, employee_id=employee_id)
        return call

    @property
    def done(self) -> bool:
        return self.state in TERMINAL

    def can(self, event: CallEvent) -> bool:
        return (self.state, event) in TRANSITIONS

    def apply(self, event: CallEvent, at: datetime, **detail: Any) -> CallState:
        """Move by ``event`` at ``at``; ``employee_id`` in ``detail`` names who rings/talks."""
        nxt = next_state(self.state, event)
        if at < self.started_at:
            raise InputError("a call cannot move before it started")
        if self.talk_started is not None and nxt is not CallState.TALKING:
            self.talk_s += (at - self.talk_started).total_seconds()
            self.talk_started = None
        if nxt is CallState.TALKING and self.talk_started is None:
            self.talk_started = at
        if "employee_id" in detail:
            self.employee_id = detail["employee_id"]
        if nxt in TERMINAL:
            self.end_reason = str(detail.get("reason", event.value))
        key = ENTERED_AT.get(nxt)
        if key is not None and key not in self.times:
            self.times[key] = at
        self.state = nxt
        self.history.append(Step(at, event, nxt, dict(detail)))
        return nxt

    def duration_s(self, now: datetime | None = None) -> float:
        """From the INVITE to the end (or ``now``)."""
        end = self.times.get("ended_at") or now or self.started_at
        return max(0.0, (end - self.started_at).total_seconds())

    def talked_s(self, now: datetime | None = None) -> float:
        running = 0.0
        if self.talk_started is not None and now is not None:
            running = (now - self.talk_started).total_seconds()
        return self.talk_s + running

    def wait_s(self) -> float | None:
        """How long the caller waited for a person (None while nobody answered)."""
        answered = self.times.get("answered_at")
        return None if answered is None else (answered - self.started_at).total_seconds()
