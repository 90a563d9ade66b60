"""What the line writes: calls, routing decisions, traffic and callback tasks (on the hub).

Every method runs on the thread that owns the store (the hub's event loop; a lock in tests) and
writes through ``Writer``, so each change replicates to every node like any other. A call's
traffic goes through the traffic domain (``lsnode.crm.traffic``): registered when someone answers
(in work, theirs) or when the caller is queued (waiting), taken by whoever answers from the
queue, transferred as an internal switch, and, when nobody talked to the caller, left
unprocessed with a callback task (``tasks``, source ``missed_call``).

Outgoing calls («Набрать») are logged the same way once the client answers: a call that returns
an earlier one (``call_requests.call_id``: «Перезвонить» on a missed call, «Набрать» on the
traffic card of a call) joins that call's traffic — taken by the employee if it was still
unprocessed, one more internal switch, its talk added to the duration, the missed call's callback
task done; any other becomes new traffic of type Звонок, in work for the employee, with the
department's outgoing purpose «Рабочий контакт (…)» (the brochure's ← 15 / 17 / 14; else the
department's first outgoing purpose). A client who appears during a call (created on a node with
«Создать нового») is linked to the call and its traffic by the number.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from lsnode.clock import Clock, instant, system_clock
from lsnode.crm.staff import session_of
from lsnode.crm.traffic import Action, Traffic, TrafficDraft
from lsnode.errors import LsnodeError
from lsnode.store.changes import Writer
from lsnode.store.ports import Row
from lsnode.store.repos import SqliteClients
from lsnode.store.traffic import SqliteTraffic
from lsnode.voice.call import Call, CallState
from lsnode.voice.ivr import MenuChoice
from lsnode.voice.routing import Choice, choose
from lsnode.voice.sip import CallerId

log = logging.getLogger("lsavto.voice")

CALLBACK_DUE_MIN = 15  # a missed call's callback is due this soon
#: «Рабочий контакт (сервис / магазин / салон)»: the brochure's outgoing purpose for a call made
#: from a card, by department (codes as in its «Цели контактов»).
WORK_CONTACT_CODES = {"service": 15, "shop": 17, "salon": 14}
CALLBACK_OUTCOME = "Перезвонили"


class CallJournal:
    def __init__(self, db: Database, now: Clock = system_clock, region: str = "RU") -> None:
        self.db = db
        self.now = now
        self.writer = Writer(db)
        self.reader = SqliteTraffic(db)
        self.clients = SqliteClients(db)
        self.traffic = Traffic(
            self.writer, self.reader, self.reader, self.clients, now, None, region
        )

    # -- the line ---------------------------------------------------------------------------

    def line(self) -> Row | None:
        rows = self._rows("SELECT * FROM sip_lines WHERE enabled = 1 ORDER BY created_at, id")
        return rows[0] if rows else None

    def set_line_state(self, line_id: str, state: str, detail: str = "") -> None:
        row = self._rows("SELECT state, state_detail FROM sip_lines WHERE id = ?", [line_id])
        if not row:
            return
        changes: dict[str, Any] = {"state_detail": detail[:200]}
        if row[0]["state"] != state:
            changes.update(state=state, state_since=instant(self.now()))
        self.writer.update("sip_lines", line_id, changes)

    # -- calls ------------------------------------------------------------------------------

    def client_of(self, caller: CallerId) -> str | None:
        if not caller.e164:
            return None
        ids = self.clients.by_phone_e164(caller.e164, 1)
        return ids[0] if ids else None

    def incoming(
        self, row_id: str, call: Call, line_id: str | None, sip_call_id: str, caller: CallerId
    ) -> str:
        self.writer.insert(
            "calls",
            {
                "id": row_id,
                "line_id": line_id,
                "direction": call.direction.value,
                "state": call.state.value,
                "sip_call_id": sip_call_id[:200],
                "caller_number": caller.number[:64],
                "caller_name": caller.name[:120],
                "phone_e164": caller.e164,
                "counterparty_id": self.client_of(caller),
                "started_at": instant(call.started_at),
                "employee_id": call.employee_id,
            },
        )
        return row_id

    def moved(self, row_id: str, call: Call, **extra: Any) -> None:
        changes: dict[str, Any] = {"state": call.state.value, "employee_id": call.employee_id}
        changes.update({k: instant(v) for k, v in call.times.items()})
        if call.done:
            changes["talk_s"] = round(call.talked_s())
            changes["end_reason"] = call.end_reason
        changes.update(extra)
        self.writer.update("calls", row_id, changes)

    def call(self, row_id: str) -> Row | None:
        rows = self._rows("SELECT * FROM calls WHERE id = ?", [row_id])
        return rows[0] if rows else None

    def purpose_for(self, choice: MenuChoice) -> str | None:
        """The purpose a menu choice registers: by its code when that purpose belongs to the
        department, else the department's first enabled incoming purpose."""
        rows = self._rows(
            "SELECT id, code, department FROM contact_purposes WHERE enabled = 1 "
            "AND direction = 'in' AND department = ? ORDER BY code, id",
            [choice.department],
        )
        for row in rows:
            if row["code"] == choice.purpose_code:
                return str(row["id"])
        return str(rows[0]["id"]) if rows else None

    def ring_s(self, purpose_id: str | None, default: int) -> int:
        if purpose_id:
            purpose = self.reader.purpose(purpose_id)
            if purpose and purpose.get("ring_s"):
                return int(purpose["ring_s"])
        return default

    def employee(self, employee_id: str) -> Row | None:
        return self.reader.employee(employee_id)

    # -- routing ----------------------------------------------------------------------------

    def route(
        self,
        row_id: str,
        attempt: int,
        department: str | None,
        purpose_id: str | None,
        in_call: set[str],
        tried: set[str],
    ) -> tuple[Choice, str]:
        """Choose the next employee and record the decision; returns it and its row id."""
        responsible: list[str] = []
        if purpose_id:
            purpose = self.reader.purpose(purpose_id)
            if purpose:
                responsible = json.loads(purpose["employee_ids"] or "[]")
        last = {
            r["employee_id"]: r["at"]
            for r in self._rows(
                "SELECT employee_id, max(at) AS at FROM call_routes WHERE employee_id IS NOT NULL "
                "GROUP BY employee_id"
            )
        }
        choice = choose(
            self.reader.employees(),
            department,
            responsible,
            in_call=in_call,
            tried=tried,
            last_call=last,
        )
        route_id = self.writer.insert(
            "call_routes",
            {
                "call_id": row_id,
                "at": instant(self.now()),
                "attempt": attempt,
                "employee_id": choice.employee_id,
                "reason": choice.reason,
                "skipped": choice.skipped_json(),
            },
        )
        return choice, route_id

    def route_outcome(self, route_id: str, outcome: str) -> None:
        self.writer.update("call_routes", route_id, {"outcome": outcome})

    # -- traffic ----------------------------------------------------------------------------

    def _draft(self, row: Row, responsible: str | None) -> TrafficDraft:
        department = row["department"] or "other"
        return TrafficDraft(
            contact_type="call",
            department=department,
            purpose_id=row["purpose_id"],
            counterparty_id=row["counterparty_id"],
            phone=row["phone_e164"] or row["caller_number"] or "скрытый номер",
            responsible_id=responsible,
            contact_at=datetime.fromisoformat(row["started_at"].replace("Z", "+00:00")),
            extra_info=(f"Меню: {row['menu_digits']}" if row["menu_digits"] else ""),
            origin="phone",
        )

    def _register(self, row: Row, responsible: str | None, action: Action) -> str | None:
        if row["direction"] != "in":
            return None
        try:
            got = self.traffic.register(self._draft(row, responsible), None, action)
        except LsnodeError as exc:
            log.warning("call %s: traffic not registered: %s", row["id"], exc)
            return None
        self.writer.update("calls", row["id"], {"traffic_id": got.traffic_id})
        return got.traffic_id

    def queued(self, row_id: str) -> None:
        """Nobody available: the caller waits in the queue (Очередь ожидания)."""
        row = self.resolve_client(row_id)
        if row is not None and not row["traffic_id"]:
            self._register(row, None, Action.QUEUE)

    def connected(self, row_id: str, employee_id: str) -> None:
        """An employee answered: the contact is theirs (taken from the queue, or registered).
        Outgoing: the client answered — the call's traffic (see the module's docstring)."""
        row = self.resolve_client(row_id)
        if row is None:
            return
        if row["direction"] == "out":
            self._out_connected(row, employee_id)
            return
        if not row["traffic_id"]:
            self._register(row, employee_id, Action.TRANSFER)
            return
        emp = self.reader.employee(employee_id)
        traffic = self.reader.traffic(row["traffic_id"])
        if emp is None or traffic is None:
            return
        try:
            if traffic["status"] == "new":
                self.traffic.take(row["traffic_id"], session_of(emp))
            elif traffic["responsible_id"] != employee_id:
                requester = traffic["responsible_id"]
                who = self.reader.employee(requester) if requester else None
                self.traffic.transfer(row["traffic_id"], employee_id, session_of(who or emp))
        except LsnodeError as exc:
            log.warning("call %s: traffic not updated: %s", row_id, exc)

    def finished(self, row_id: str, call: Call, recording: str = "") -> None:
        """The call is over: its row, the traffic's duration and switches, or — nobody talked —
        unprocessed traffic and a callback task."""
        extra: dict[str, Any] = {"recording": recording} if recording else {}
        self.moved(row_id, call, **extra)
        row = self.resolve_client(row_id)
        if row is None:
            return
        now = self.now()
        if row["counterparty_id"] and row["direction"] == "out":
            self.writer.update(
                "counterparties", row["counterparty_id"], {"last_out_contact_at": instant(now)}
            )
        if row["direction"] != "in":
            if call.state is CallState.ENDED and row["traffic_id"] and "answered_at" in call.times:
                traffic = self.reader.traffic(row["traffic_id"])
                before = int((traffic or {}).get("duration_s") or 0)
                talked = before + round(call.talked_s())
                self.writer.update("traffic", row["traffic_id"], {"duration_s": talked})
                self._close_switch(row["traffic_id"], now)
            return
        if call.state is CallState.TRANSFERRED:
            if not row["traffic_id"]:
                self._register(row, call.employee_id, Action.TRANSFER)
            return
        if call.state is CallState.ENDED and row["traffic_id"]:
            self.writer.update("traffic", row["traffic_id"], {"duration_s": round(call.talked_s())})
            self._close_switch(row["traffic_id"], now)
            return
        if call.state is CallState.MISSED:
            tid = row["traffic_id"]
            if tid:
                try:
                    self.traffic.leave_queue(tid, "Пропущенный вызов")
                except LsnodeError as exc:
                    log.warning("call %s: %s", row_id, exc)
            else:
                tid = self._register(row, None, Action.REGISTER)
            self._callback_task(row, tid, call, now)

    def _close_switch(self, traffic_id: str, now: datetime) -> None:
        rows = self._rows(
            "SELECT id, started_at FROM traffic_switches WHERE traffic_id = ? AND duration_s IS "
            "NULL ORDER BY started_at DESC LIMIT 1",
            [traffic_id],
        )
        if rows:
            started = datetime.fromisoformat(rows[0]["started_at"].replace("Z", "+00:00"))
            seconds = max(0, round((now - started).total_seconds()))
            self.writer.update("traffic_switches", rows[0]["id"], {"duration_s": seconds})

    def _callback_task(self, row: Row, traffic_id: str | None, call: Call, now: datetime) -> None:
        """Перезвонить: for the employee the call last rang, else the purpose's responsible."""
        employee = call.employee_id
        if employee is None and row["purpose_id"]:
            purpose = self.reader.purpose(row["purpose_id"])
            ids = json.loads(purpose["employee_ids"] or "[]") if purpose else []
            employee = ids[0] if ids else None
        who = row["caller_name"] or row["phone_e164"] or row["caller_number"] or "скрытый номер"
        self.writer.insert(
            "tasks",
            {
                "employee_id": employee,
                "action": "call",
                "due_at": instant(now + timedelta(minutes=CALLBACK_DUE_MIN)),
                "counterparty_id": row["counterparty_id"],
                "phone": row["phone_e164"] or row["caller_number"] or "",
                "text": f"Перезвонить: пропущенный вызов от {who} ({call.end_reason})",
                "source": "missed_call",
                "source_id": row["id"],
            },
        )
        if traffic_id:
            self.writer.update("calls", row["id"], {"traffic_id": traffic_id})

    def transfer_switch(self, row_id: str, to_employee: str, requested_by: str | None) -> None:
        """Перевести: the traffic's internal switch, as the app's transfer is logged."""
        row = self.call(row_id)
        if row is None or not row["traffic_id"]:
            return
        self._close_switch(row["traffic_id"], self.now())
        who = self.reader.employee(requested_by or row["employee_id"] or "")
        if who is None:
            return
        try:
            self.traffic.transfer(row["traffic_id"], to_employee, session_of(who))
        except LsnodeError as exc:
            log.warning("call %s: transfer not logged: %s", row_id, exc)

    # -- requests from the nodes ------------------------------------------------------------

    def pending_requests(self) -> list[Row]:
        return self._rows(
            "SELECT * FROM call_requests WHERE status = 'pending' ORDER BY created_at, id"
        )

    def claim_request(self, request_id: str) -> bool:
        row = self._rows("SELECT status FROM call_requests WHERE id = ?", [request_id])
        if not row or row[0]["status"] != "pending":
            return False
        self.writer.update("call_requests", request_id, {"status": "running"})
        return True

    def request_done(self, request_id: str, ok: bool, result: str) -> None:
        self.writer.update(
            "call_requests",
            request_id,
            {
                "status": "done" if ok else "failed",
                "result": result[:500],
                "done_at": instant(self.now()),
            },
        )

    def outgoing(
        self,
        row_id: str,
        call: Call,
        line_id: str | None,
        phone: str,
        counterparty_id: str | None,
        extension: str,
        returns: str | None = None,
    ) -> None:
        """The «Набрать» call's row; ``returns``: the call it returns (its traffic is joined)."""
        from lsnode.crm.normalize import normalize_phone

        e164 = normalize_phone(phone).e164 if phone else None
        joined = self.call(returns) if returns else None
        joined_tid = joined["traffic_id"] if joined else None
        traffic = self.reader.traffic(joined_tid) if joined_tid else None
        if counterparty_id is None and e164:
            found = self.clients.by_phone_e164(e164, 1)
            counterparty_id = found[0] if found else None
        self.writer.insert(
            "calls",
            {
                "id": row_id,
                "line_id": line_id,
                "direction": call.direction.value,
                "state": call.state.value,
                "caller_number": phone[:64],
                "phone_e164": e164,
                "counterparty_id": counterparty_id or (traffic or {}).get("counterparty_id"),
                "employee_id": call.employee_id,
                "extension": extension,
                "traffic_id": traffic["id"] if traffic else None,
                "department": traffic["department"] if traffic else None,
                "purpose_id": traffic["purpose_id"] if traffic else None,
                "started_at": instant(call.started_at),
                "ringing_at": instant(call.started_at),
            },
        )

    def _out_connected(self, row: Row, employee_id: str) -> None:
        emp = self.reader.employee(employee_id)
        if emp is None:
            return
        now = self.now()
        tid = row["traffic_id"]
        if tid:
            traffic = self.reader.traffic(tid)
            if traffic is None:
                return
            try:
                if traffic["status"] == "new":
                    self.traffic.take(tid, session_of(emp))
            except LsnodeError as exc:
                log.warning("call %s: traffic not taken: %s", row["id"], exc)
            self.writer.insert(
                "traffic_switches",
                {
                    "traffic_id": tid,
                    "from_employee_id": None,
                    "to_employee_id": employee_id,
                    "started_at": instant(now),
                    "note": "Исходящий звонок",
                },
            )
            self._callbacks_done(tid, now)
            return
        departments = json.loads(emp["departments"] or "[]")
        department = str(departments[0]) if departments else "other"
        purpose_id = self.out_purpose(department)
        draft = TrafficDraft(
            contact_type="call",
            department=department,
            purpose_id=purpose_id,
            counterparty_id=row["counterparty_id"],
            phone=row["phone_e164"] or row["caller_number"] or "",
            responsible_id=employee_id,
            contact_at=datetime.fromisoformat(row["started_at"].replace("Z", "+00:00")),
            extra_info="Исходящий звонок",
            origin="phone",
        )
        try:
            got = self.traffic.register(draft, None, Action.TRANSFER)
        except LsnodeError as exc:
            log.warning("call %s: outgoing traffic not registered: %s", row["id"], exc)
            return
        self.writer.update(
            "calls",
            row["id"],
            {"traffic_id": got.traffic_id, "department": department, "purpose_id": purpose_id},
        )

    def out_purpose(self, department: str) -> str | None:
        """«Рабочий контакт (…)» of the department, else its first enabled outgoing purpose."""
        rows = self._rows(
            "SELECT id, code FROM contact_purposes WHERE enabled = 1 AND direction = 'out' "
            "AND department = ? ORDER BY code, id",
            [department],
        )
        wanted = WORK_CONTACT_CODES.get(department)
        for row in rows:
            if row["code"] == wanted:
                return str(row["id"])
        return str(rows[0]["id"]) if rows else None

    def _callbacks_done(self, traffic_id: str, now: datetime) -> None:
        """The client was called back: the missed calls' «Перезвонить» tasks of this traffic."""
        for task in self._rows(
            "SELECT t.id FROM tasks t JOIN calls c ON c.id = t.source_id "
            "WHERE t.source = 'missed_call' AND t.done_at IS NULL AND c.traffic_id = ?",
            [traffic_id],
        ):
            self.writer.update(
                "tasks", task["id"], {"done_at": instant(now), "outcome": CALLBACK_OUTCOME}
            )

    def resolve_client(self, row_id: str) -> Row | None:
        """A client created during the call (on a node: «Создать нового») is found by the
        number and linked to the call and to its traffic; returns the call's row."""
        row = self.call(row_id)
        if row is None or row["counterparty_id"] or not row["phone_e164"]:
            return row
        found = self.clients.by_phone_e164(row["phone_e164"], 1)
        if not found:
            return row
        self.writer.update("calls", row_id, {"counterparty_id": found[0]})
        if row["traffic_id"]:
            traffic = self.reader.traffic(row["traffic_id"])
            if traffic is not None and not traffic["counterparty_id"]:
                self.writer.update("traffic", row["traffic_id"], {"counterparty_id": found[0]})
        return self.call(row_id)

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[Row]:
        cur = self.db.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
