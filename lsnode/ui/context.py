"""The app's connection to its data and to the hub: one ``NodeContext`` per running app.

- **Store.** ``open()`` opens the node's store (``open_store(data_dir)``) on the Kivy main
  thread: screens and view-models read and write through ``ctx.db``, on the main thread only.
- **Sync.** If the data dir is paired (``NodeIdentity.load``), a ``NodeAgent`` with its *own*
  store connection runs ``run_forever()`` on the runtime loop (``lsnode.runtime``). Its
  ``SyncStatus`` reaches the Kivy properties ``online``, ``offline_since``, ``pending`` …
  through the runtime's main-thread poster, never by touching them from the loop thread.
- **Change notices.** Every ~50 ms a Clock tick reads ``PRAGMA data_version`` of the main
  connection: it moves when any *other* connection commits (the agent applying the hub's
  changes, a CLI command). A move dispatches one ``on_data_changed``; the agent's ``on_applied``
  hook triggers the same check at once. After the UI itself writes, it calls
  ``notify_local_change()``: screens refresh and the agent pushes without waiting for its poll.
- **Contested actions.** ``claim(table, row_id, column, value, expect)`` asks the hub to decide
  («Взять себе»): runs ``NodeAgent.intent`` on the loop and waits at most ``CLAIM_TIMEOUT_S``.
  With no hub it raises ``HubUnavailable`` (a ``SyncError``) whose ``reason`` names an i18n key
  for the message; nothing changes locally.

``apply_status(SyncStatus)`` is public so tests (and a future pairing screen) can feed a status
without a hub.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from sqlite_utils import Database

from lsnode.runtime import Runtime
from lsnode.store.db import open_store
from lsnode.store.replica import pending_count
from lsnode.sync.client import NodeAgent, SyncError, SyncStatus
from lsnode.sync.messages import IntentResult
from lsnode.sync.pairing import NodeIdentity
from lsnode.ui import i18n

log = logging.getLogger("lsavto.ui.context")

WATCH_INTERVAL_S = 0.05
CLAIM_TIMEOUT_S = 3.0
AGENT_STOP_TIMEOUT_S = 2.0

STRINGS = {
    "ctx.offline": (
        "Нет связи с хабом: это действие требует его. Повторите, когда связь появится",
        "The hub is not reachable: this action needs it. Try again when it is back",
    ),
    "ctx.not_paired": (
        "Устройство не подключено к хабу: подключите его в Настройках",
        "This device is not paired with a hub: pair it in Settings",
    ),
    "ctx.timeout": (
        "Хаб не ответил вовремя. Проверьте сеть и повторите",
        "The hub did not answer in time. Check the network and try again",
    ),
}
i18n.register(STRINGS)

AgentFactory = Callable[..., NodeAgent]


class HubUnavailable(SyncError):
    """A hub-decided action could not be asked: ``reason`` is ``offline``, ``not_paired`` or
    ``timeout``; ``i18n.tr(err.message_key)`` is the user's message."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.message_key = f"ctx.{reason}"
        super().__init__(detail or i18n.tr(self.message_key, lang="en"))


class NodeContext(EventDispatcher):  # type: ignore[misc]
    """Store, sync agent and change notices of one data dir, as Kivy properties and events."""

    paired = BooleanProperty(False)
    online = BooleanProperty(False)
    offline_since: Any = ObjectProperty(None, allownone=True)  # epoch seconds, or None
    pending = NumericProperty(0)
    hub_address = StringProperty("")
    last_error = StringProperty("")
    sync_stopped = BooleanProperty(False)  # refused for good (schema, revoked)
    data_version = NumericProperty(0)  # counts dispatched on_data_changed
    __events__ = ("on_data_changed",)

    def __init__(
        self,
        data_dir: Path,
        runtime: Runtime,
        *,
        agent_factory: AgentFactory | None = None,
        mdns_interfaces: list[str] | None = None,
        watch_interval: float = WATCH_INTERVAL_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data_dir = Path(data_dir)
        self.runtime = runtime
        self.agent_factory: AgentFactory = agent_factory or NodeAgent
        self.mdns_interfaces = mdns_interfaces
        self.watch_interval = watch_interval
        self.db: Database | None = None
        self.identity: NodeIdentity | None = None
        self.agent: NodeAgent | None = None
        self._agent_run: Future[None] | None = None
        self._seen_version = 0
        self._watch: Any = None

    # --- lifecycle (main thread) ------------------------------------------------------------

    def open(self) -> None:
        """Open the store and start watching it; starts nothing on the network."""
        if self.db is not None:
            return
        self.db = open_store(self.data_dir)
        self._seen_version = self._read_version()
        self.identity = NodeIdentity.load(self.data_dir)
        self.paired = self.identity is not None
        self.offline_since = time.time()
        self.refresh_pending()
        self._watch = Clock.schedule_interval(self.check_data_version, self.watch_interval)

    def start_sync(self) -> None:
        """If paired, start the agent on the runtime loop (the runtime must be running)."""
        if self.identity is None or self.agent is not None:
            return
        agent = self.agent_factory(
            self.data_dir,
            self.identity,
            mdns_interfaces=self.mdns_interfaces,
            on_status=self._status_from_loop,
            on_applied=self._applied_from_loop,
        )
        self.agent = agent
        self.apply_status(agent.status)
        self._agent_run = self.runtime.submit(agent.run_forever())

    def restart_sync(self) -> None:
        """Pairing from the app saved a new identity: stop the old agent (bounded), load the
        identity and start syncing with it (``lsnode.ui.screens.pairing``)."""
        agent, self.agent = self.agent, None
        if agent is not None:
            if self.runtime.running:
                try:
                    self.runtime.call_blocking(agent.stop(), AGENT_STOP_TIMEOUT_S)
                except Exception as exc:  # the new hub matters more than a clean goodbye
                    log.warning("sync agent did not stop cleanly: %s", exc)
                if self._agent_run is not None:
                    self._agent_run.cancel()
            agent.db.close()
        self.identity = NodeIdentity.load(self.data_dir)
        self.paired = self.identity is not None
        self.start_sync()

    def close(self) -> None:
        """Say goodbye to the hub (bounded), stop watching, close the store."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        agent, self.agent = self.agent, None
        if agent is not None and self.runtime.running:
            try:
                self.runtime.call_blocking(agent.stop(), AGENT_STOP_TIMEOUT_S)
            except Exception as exc:  # closing anyway: a stuck socket must not block exit
                log.warning("sync agent did not stop cleanly: %s", exc)
            if self._agent_run is not None:
                self._agent_run.cancel()
        if agent is not None:
            agent.db.close()
        if self.db is not None:
            self.db.close()
            self.db = None

    # --- sync status ---------------------------------------------------------------------

    def _status_from_loop(self, status: SyncStatus) -> None:
        self.runtime.post(self.apply_status, status)

    def _applied_from_loop(self, _changed: int) -> None:
        self.runtime.post(self.check_data_version)

    def apply_status(self, status: SyncStatus) -> None:
        """Reflect a ``SyncStatus`` in the properties (main thread)."""
        self.online = status.online
        self.offline_since = None if status.online else (status.offline_since or time.time())
        self.pending = status.pending
        self.hub_address = status.hub_address
        self.last_error = status.last_error
        self.sync_stopped = status.stopped

    # --- change notices ------------------------------------------------------------------

    def _read_version(self) -> int:
        assert self.db is not None
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def check_data_version(self, *_: Any) -> bool:
        """Dispatch ``on_data_changed`` if another connection committed since the last look."""
        if self.db is None:
            return False
        version = self._read_version()
        if version == self._seen_version:
            return False
        self._seen_version = version
        self._changed()
        return True

    def notify_local_change(self) -> None:
        """The UI committed a write: refresh the screens, and wake the agent to push it."""
        agent = self.agent
        if agent is not None and self.runtime.running:
            self.runtime.call_soon(agent.notify_local_change)  # asyncio.Event is not thread-safe
        self.refresh_pending()
        self._changed()

    def refresh_pending(self) -> None:
        """Count the changes waiting for the hub from the store itself (shown at once; the
        agent's status keeps it current after each push)."""
        if self.db is not None:
            self.pending = pending_count(self.db)

    def _changed(self) -> None:
        if self.agent is None:  # no agent reports status: count what waits ourselves
            self.refresh_pending()
        self.data_version += 1
        self.dispatch("on_data_changed")

    def on_data_changed(self) -> None:
        pass

    # --- hub-decided actions -------------------------------------------------------------

    def claim(
        self,
        table: str,
        row_id: str,
        column: str,
        value: object,
        expect: object = None,
        timeout: float = CLAIM_TIMEOUT_S,
    ) -> IntentResult:
        """Ask the hub to set ``column`` to ``value`` if it still holds ``expect`` (main thread,
        blocks at most ``timeout``). ``result.ok`` false: someone else won — ``result.current``
        says who. Raises ``HubUnavailable`` when the hub cannot be asked."""
        agent = self.agent
        if agent is None:
            raise HubUnavailable("not_paired")
        if not self.online:
            raise HubUnavailable("offline")
        try:
            return self.runtime.call_blocking(
                agent.intent(table, row_id, column, value, expect, timeout=timeout),
                timeout + 0.5,
            )
        except TimeoutError:
            raise HubUnavailable("timeout") from None
        except HubUnavailable:
            raise
        except SyncError as exc:
            raise HubUnavailable("offline", str(exc)) from None
