"""IP telephony (SPEC §5): the hub's SIP line, and what the app reads and asks for.

Modules: ``call`` (the pure call state machine), ``sip`` (the one adapter over pyVoIP 1.6.8 with
its workarounds), ``ivr`` (the voice menu and its prompts), ``routing`` (who gets a call, pure),
``journal`` (the store writes), ``line`` (the hub's driver), ``recordings`` (a node fetches a
call's recording), ``cli`` (``lsavto voice …``).

For the app (all replicated tables; the hub alone writes the first four)
---------------------------------------------------------------------------
``sip_lines``  one row: ``state`` is «Статус телефонной линии» — ``registered``, ``registering``,
    ``down`` (``state_since``, ``state_detail`` say since when and why) or ``off``.
``calls``  one row per call, written the moment the INVITE reaches the hub. The popup of the
    employee signed in on a node is the row with ``employee_id`` = them, shown by ``state``:
    ``ringing`` → ВХОДЯЩИЙ ВЫЗОВ, ``talking`` → РАЗГОВОР…, ``missed`` → ПРОПУЩЕННЫЙ ВЫЗОВ,
    ``ended`` → РАЗГОВОР ОКОНЧЕН (``incoming``/``menu``/``queued`` are before anyone rings;
    ``transferred`` = handed to the PBX). Caller: ``caller_name`` (cleaned), ``caller_number``
    (as sent), ``phone_e164``; ``counterparty_id`` is the client found by the number (NULL:
    offer «Создать нового»; cars, open documents and last contacts come from the replica by that
    id). ``department``/``purpose_id``/``menu_digits`` from the voice menu; ``traffic_id`` the
    traffic row (type ``call``); ``recording`` the WAV on the hub (relative to its data dir);
    instants ``started_at``, ``menu_at``, ``queued_at``, ``ringing_at``, ``answered_at``,
    ``ended_at``; ``talk_s``; ``end_reason``. ``direction`` ``out`` for «Набрать».
``call_routes``  each routing decision of a call: ``employee_id`` chosen (NULL: nobody),
    ``reason``, ``skipped`` (JSON ``[{employee_id, reason}]``: busy, away, in_call, tried …) and
    ``outcome`` (answered, busy, unregistered, no_answer, caller_hangup).
``tasks``  a missed call leaves one: ``source`` = ``missed_call``, ``source_id`` = the call,
    ``action`` = ``call``, for the employee it last rang (else the purpose's responsible).
``call_requests``  the app inserts, the hub executes once (``status`` pending → running →
    done / failed, ``result`` = the new call's id or why not):

    * «Набрать»: ``{"kind": "dial", "employee_id": me, "phone": "+7…", "counterparty_id": …,
      "call_id": the call it returns or NULL, "status": "pending"}`` — the hub rings my
      extension, then the client, bridges, records. Once the client answers it is traffic of
      type Звонок: the returned call's traffic (taken, one more switch, its callback task
      done), else a new contact with the department's «Рабочий контакт (…)» purpose. A dial
      that reaches the hub more than 90 s late (the node was offline) fails as ``expired``;
    * «Перевести»: ``{"kind": "transfer", "call_id": …, "to_employee_id": …, "employee_id":
      me, "status": "pending"}`` — logged as the traffic's internal switch;
    * hang up: ``{"kind": "hangup", "call_id": …, "status": "pending"}``.

Employees' extensions are ``employees.extension``; a purpose's ring time ``contact_purposes
.ring_s`` (else the line's ``ring_s``).

Recordings stay on the hub; a paired node fetches one by the call's id over the hub's TLS port
(``recordings.fetch_recording``; the hub's side is ``hub/recordings.py``). The app's side of all
this — the popup, «Набрать», «Перевести», «Воспроизвести», the line in the status bar — is
``lsnode.ui.calls``.
"""
