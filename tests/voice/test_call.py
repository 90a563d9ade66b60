"""The call state machine: the table is the machine; timestamps are what the journal needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lsnode.voice.call import (
    TERMINAL,
    TRANSITIONS,
    Call,
    CallEvent,
    CallState,
    Direction,
    IllegalCallTransition,
    next_state,
)

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_incoming_call_through_menu_to_talk_and_end_keeps_every_instant() -> None:
    call = Call.incoming(T0)
    call.apply(CallEvent.ANSWER_MENU, at(0.5))
    call.apply(CallEvent.RING, at(6), employee_id="e1")
    call.apply(CallEvent.CONNECT, at(10))
    assert call.state is CallState.TALKING and call.employee_id == "e1"
    call.apply(CallEvent.HANG_UP, at(70), reason="caller_hangup")
    assert call.state is CallState.ENDED and call.done
    assert call.times == {
        "menu_at": at(0.5),
        "ringing_at": at(6),
        "answered_at": at(10),
        "ended_at": at(70),
    }
    assert call.talked_s() == 60 and call.duration_s() == 70 and call.wait_s() == 10
    assert call.end_reason == "caller_hangup"
    assert [s.state for s in call.history] == [
        CallState.MENU,
        CallState.RINGING,
        CallState.TALKING,
        CallState.ENDED,
    ]


def test_hanging_up_before_anyone_answers_is_a_missed_call() -> None:
    for path in ([], [CallEvent.ANSWER_MENU], [CallEvent.QUEUE], [CallEvent.RING]):
        call = Call.incoming(T0)
        for event in path:
            call.apply(event, at(1), employee_id="e1")
        call.apply(CallEvent.HANG_UP, at(5))
        assert call.state is CallState.MISSED, path
        assert call.wait_s() is None and call.talked_s() == 0


def test_transfer_rings_the_next_employee_and_talk_time_adds_up() -> None:
    call = Call.incoming(T0)
    call.apply(CallEvent.RING, at(1), employee_id="e1")
    call.apply(CallEvent.CONNECT, at(3))
    call.apply(CallEvent.TRANSFER, at(13), employee_id="e2")
    assert call.state is CallState.RINGING and call.employee_id == "e2"
    call.apply(CallEvent.CONNECT, at(15))
    call.apply(CallEvent.HANG_UP, at(35))
    assert call.talked_s() == 30
    assert call.times["answered_at"] == at(3)  # the first answer is the one reports count


def test_outgoing_call_rings_the_employee_then_dials_the_client() -> None:
    call = Call.outgoing(T0, "e1")
    assert call.direction is Direction.OUT and call.state is CallState.RINGING
    call.apply(CallEvent.DIAL, at(4))
    call.apply(CallEvent.CONNECT, at(9))
    call.apply(CallEvent.HANG_UP, at(19))
    assert call.state is CallState.ENDED and call.talked_s() == 10


def test_illegal_events_raise_and_change_nothing() -> None:
    call = Call.incoming(T0)
    with pytest.raises(IllegalCallTransition):
        call.apply(CallEvent.CONNECT, at(1))
    assert call.state is CallState.INCOMING and call.history == []
    call.apply(CallEvent.HANG_UP, at(1))
    for event in CallEvent:
        with pytest.raises(IllegalCallTransition):
            call.apply(event, at(2))


def test_the_table_has_no_way_out_of_a_terminal_state_and_every_state_is_reachable() -> None:
    assert not [k for k in TRANSITIONS if k[0] in TERMINAL]
    reachable = {CallState.INCOMING} | set(TRANSITIONS.values())
    assert reachable == set(CallState)
    assert next_state(CallState.TALKING, CallEvent.HANG_UP) is CallState.ENDED


def test_a_call_cannot_move_before_it_started() -> None:
    call = Call.incoming(T0)
    with pytest.raises(ValueError):
        call.apply(CallEvent.RING, T0 - timedelta(seconds=1))
