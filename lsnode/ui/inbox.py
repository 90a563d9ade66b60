"""ВХОДЯЩИЙ КОНТАКТ on the responsible employee's node, and the «НЕОБРАБОТАННЫЙ ВХОДЯЩИЙ ТРАФИК: N»
counter (SPEC §1).

``InboxWatcher`` follows the signed-in employee's inbox (``reader.inbox``: contacts registered,
queued or assigned to them and not yet taken). Every data change of the node — a write here, a
batch the sync agent applied from the hub — runs ``check()``: each row that arrived since the
last look gets one popup (purpose, client, car, time; «Взять себе», «Открыть»). Popups stack,
stay until acted on, and never take focus (the shell's ``PopupCard``); a row that leaves the
inbox elsewhere (taken by a colleague, reassigned, processed) takes its popup with it.

On sign-in only today's rows are announced; older ones are counted, not popped up. At most
``MAX_VISIBLE`` contact popups show at once — the oldest gives way, the counter still counts it.

For the «registration on node A → popup on node B» figure, ``on_shown`` callbacks get
``(traffic_id, time.monotonic())`` at the moment a popup is pushed, and ``shown_at`` keeps the
last such time per contact.

No widgets here: the popups are ``PopupVM``s drawn by the shell; tested without a window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kivy.event import EventDispatcher
from kivy.properties import NumericProperty, StringProperty

from lsnode.crm.traffic import Taken
from lsnode.errors import LsnodeError
from lsnode.store.ports import Row
from lsnode.ui import i18n
from lsnode.ui.shell import PopupEntry, PopupStack, PopupVM

log = logging.getLogger("lsavto.ui.inbox")

STRINGS = {
    "inbox.title": ("ВХОДЯЩИЙ КОНТАКТ", "INCOMING CONTACT"),
    "inbox.purpose": ("Цель", "Purpose"),
    "inbox.client": ("Клиент", "Client"),
    "inbox.car": ("Автомобиль", "Car"),
    "inbox.no_client": ("не указан", "not given"),
    "inbox.type.call": ("Звонок", "Call"),
    "inbox.type.visit": ("Визит", "Visit"),
    "inbox.type.internet": ("Интернет", "Internet"),
    "inbox.take": ("Взять себе", "Take"),
    "inbox.open": ("Открыть", "Open"),
    "inbox.taken": ("Контакт ваш: {client}", "The contact is yours: {client}"),
    "inbox.taken_by": (
        "Этот контакт уже взял {name}",
        "{name} has already taken this contact",
    ),
    "inbox.someone": ("другой сотрудник", "another employee"),
    "inbox.take_failed": ("Не удалось взять контакт: {detail}", "Could not take it: {detail}"),
    "inbox.counter": (
        "НЕОБРАБОТАННЫЙ ВХОДЯЩИЙ ТРАФИК: {n}",
        "UNPROCESSED INCOMING TRAFFIC: {n}",
    ),
    "inbox.counter_short": ("НЕОБРАБОТАННЫХ: {n}", "UNPROCESSED: {n}"),
}
i18n.register(STRINGS)

MAX_VISIBLE = 4
Notify = Callable[[str, str], None]  # (message, tone)
ShownCallback = Callable[[str, float], None]  # (traffic_id, monotonic time)


def contact_text(row: Row) -> str:
    """The popup's lines: purpose, client, car, type and time (the brochure's order)."""
    client = row.get("client_full_name") or row.get("client_name") or row.get("phone") or ""
    car = row.get("make_model") or row.get("plate") or row.get("vin") or ""
    purpose = row.get("purpose_full_name") or row.get("purpose_name")
    lines = [
        f"{i18n.tr('inbox.purpose')}: {purpose or '—'}",
        f"{i18n.tr('inbox.client')}: {client or i18n.tr('inbox.no_client')}",
    ]
    if car:
        lines.append(f"{i18n.tr('inbox.car')}: {car}")
    kind = row.get("contact_type") or ""
    when = i18n.format_datetime(row.get("contact_at"))
    label = i18n.tr(f"inbox.type.{kind}") if i18n.has(f"inbox.type.{kind}") else kind
    lines.append(f"{label} · {when}" if label else when)
    return "\n".join(lines)


def contact_popup(
    row: Row,
    take: Callable[[], Any] | None = None,
    open_card: Callable[[], Any] | None = None,
) -> PopupVM:
    """A ВХОДЯЩИЙ КОНТАКТ popup for a traffic row (``open_card`` None: no «Открыть»)."""
    actions: list[tuple[str, Any, str]] = []
    if open_card is not None:
        actions.append((i18n.tr("inbox.open"), open_card, "flat"))
    actions.append((i18n.tr("inbox.take"), take, "primary"))
    kind = row.get("contact_type") or ""
    return PopupVM(
        title=i18n.tr("inbox.title"),
        text=contact_text(row),
        icon=kind if kind in ("call", "visit", "internet") else "info",
        tone="new",
        actions=actions,
    )


class InboxWatcher(EventDispatcher):  # type: ignore[misc]
    """The signed-in employee's incoming contacts as popups, and their unprocessed count.

    ``services``: the app's ``Services`` (``reader``, ``traffic``, ``session``, ``day_start``);
    ``popups``: the shell's ``PopupStack``; ``notify(message, tone)`` shows a toast;
    ``open_card(traffic_id)`` opens the traffic card, and ``can_open()`` says whether there is
    one to open (no «Открыть» otherwise)."""

    employee_id = StringProperty("")
    unprocessed = NumericProperty(0)
    counter_text = StringProperty("")
    counter_short = StringProperty("")  # for a narrow status bar (tablet)

    def __init__(
        self,
        services: Any,
        popups: PopupStack,
        *,
        notify: Notify | None = None,
        open_card: Callable[[str], Any] | None = None,
        can_open: Callable[[], bool] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.popups = popups
        self.notify: Notify = notify if notify is not None else (lambda _msg, _tone: None)
        self.open_card = open_card
        self.can_open = can_open or (lambda: open_card is not None)
        self.monotonic = monotonic
        self.on_shown: list[ShownCallback] = []
        self.shown_at: dict[str, float] = {}
        self._seen: set[str] = set()  # in the inbox and already announced (or baseline)
        self._shown: dict[str, tuple[str, PopupVM]] = {}  # traffic id -> (popup id, vm)
        self._rows: dict[str, Row] = {}
        self._purposes: dict[str, str] = {}
        popups.fbind("on_dismiss", self._dismissed)
        i18n.on_lang_change(self._on_lang)
        self._update_text()

    # -- session --------------------------------------------------------------------------

    def start(self, employee_id: str) -> list[str]:
        """Follow ``employee_id``'s inbox; announces today's contacts, counts the rest."""
        self.stop()
        self.employee_id = employee_id
        self._update_text()
        today = self.services.day_start()
        for row in self.services.reader.inbox(employee_id):
            if (row.get("contact_at") or "") < today:
                self._seen.add(row["id"])
        return self.check()

    def stop(self) -> None:
        """Signed out: the popups go, nothing is counted."""
        for traffic_id in list(self._shown):
            self._withdraw(traffic_id)
        self._seen.clear()
        self._rows.clear()
        self.employee_id = ""
        self.unprocessed = 0
        self._update_text()

    # -- the look -------------------------------------------------------------------------

    def check(self, *_: Any) -> list[str]:
        """Announce what arrived since the last look; returns the ids announced now."""
        if not self.employee_id:
            return []
        reader = self.services.reader
        rows = reader.inbox(self.employee_id)
        here = {row["id"]: row for row in rows}
        for traffic_id in [t for t in self._shown if t not in here]:
            self._withdraw(traffic_id)
        self._seen &= set(here)
        self._rows = here
        for row in rows:
            row["purpose_full_name"] = self._purpose_name(row.get("purpose_id"))
        fresh = [row for row in rows if row["id"] not in self._seen]
        for row in fresh:
            self._announce(row)
        self.unprocessed = reader.unprocessed_count(self.employee_id)
        self._update_text()
        return [row["id"] for row in fresh]

    def _purpose_name(self, purpose_id: str | None) -> str:
        """The purpose's full name («Ремонт автомобиля»), as the brochure's popup shows it."""
        if not purpose_id:
            return ""
        if purpose_id not in self._purposes:
            purpose = self.services.reader.purpose(purpose_id)
            self._purposes[purpose_id] = str(purpose["full_name"]) if purpose else ""
        return self._purposes[purpose_id]

    def _announce(self, row: Row) -> None:
        traffic_id = row["id"]
        self._seen.add(traffic_id)
        if traffic_id in self._shown:
            return
        while len(self._shown) >= MAX_VISIBLE:
            self._withdraw(next(iter(self._shown)))  # the oldest gives way
        vm = contact_popup(
            row,
            take=lambda: self.take(traffic_id),
            open_card=(lambda: self.open(traffic_id)) if self.can_open() else None,
        )
        popup_id = self.popups.push(vm)
        self._shown[traffic_id] = (popup_id, vm)
        shown = self.monotonic()
        self.shown_at[traffic_id] = shown
        for callback in list(self.on_shown):
            try:
                callback(traffic_id, shown)
            except Exception:  # a benchmark's probe must not break the popup
                log.exception("on_shown callback failed")

    def _withdraw(self, traffic_id: str) -> None:
        popup_id, _vm = self._shown.pop(traffic_id, ("", None))
        if popup_id:
            self.popups.dismiss(popup_id)

    def _dismissed(self, _stack: PopupStack, entry: PopupEntry) -> None:
        for traffic_id, (popup_id, _vm) in list(self._shown.items()):
            if popup_id == entry.id:
                del self._shown[traffic_id]  # acted on or closed: stays seen, not re-announced

    def _update_text(self) -> None:
        self.counter_text = i18n.tr("inbox.counter", n=int(self.unprocessed))
        self.counter_short = i18n.tr("inbox.counter_short", n=int(self.unprocessed))

    def _on_lang(self, _lang: str) -> None:
        if not self.employee_id:
            return  # signed out (or the app stopped): nothing shown; start() writes it anew
        self._update_text()
        for traffic_id, (_pid, vm) in self._shown.items():
            row = self._rows.get(traffic_id)
            if row is None:
                continue
            fresh = contact_popup(row, take=None, open_card=None)
            vm.title, vm.text = fresh.title, fresh.text
            vm.actions = [
                (i18n.tr("inbox.open") if kind == "flat" else i18n.tr("inbox.take"), cb, kind)
                for _label, cb, kind in vm.actions
            ]

    # -- the popup's actions --------------------------------------------------------------

    def take(self, traffic_id: str) -> bool:
        """«Взять себе»: the hub decides; losing names the winner. True if it is ours now."""
        services = self.services
        session = services.session
        if session is None:
            return False
        try:
            row = services.traffic.take(traffic_id, session)
        except Taken as exc:
            self.notify(i18n.tr("inbox.taken_by", name=self._winner_name(exc)), "danger")
            return False
        except LsnodeError as exc:
            key = getattr(exc, "message_key", None)
            if key:  # the hub is not reachable: nothing changed, the popup comes back
                self.notify(i18n.tr(key), "danger")
                self._seen.discard(traffic_id)
                self._shown.pop(traffic_id, None)
                again = self._rows.get(traffic_id)
                if again is not None:
                    self._announce(again)
            else:
                self.notify(i18n.tr("inbox.take_failed", detail=str(exc)), "danger")
            return False
        client = row.get("client_full_name") or row.get("phone") or i18n.tr("inbox.no_client")
        self.notify(i18n.tr("inbox.taken", client=client), "processed")
        self.check()
        return True

    def open(self, traffic_id: str) -> None:
        """«Открыть»: the traffic card, if the app has one."""
        if self.open_card is not None:
            self.open_card(traffic_id)

    def _winner_name(self, exc: Taken) -> str:
        if exc.winner:
            emp = self.services.reader.employee(exc.winner)
            if emp is not None:
                return str(emp["short_name"])
        text = str(exc)
        prefix = "already taken by "
        if text.startswith(prefix) and text[len(prefix) :] not in ("", "someone else"):
            return text[len(prefix) :]
        return i18n.tr("inbox.someone")
