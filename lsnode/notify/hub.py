"""The notifier as the hub runs it: its store, its key, its clock, live fan-out of what it wrote.

``hub/server.py`` starts ``HubNotifier(hub).run()`` as one task. The hub's private key (sealed
at rest by ``SecretBox``) opens channel passwords; the hub publishes its certificate in the
replicated setting ``hub_certificate`` so nodes can seal passwords to it. Tests pass
``notify_clock`` to the hub and call ``await hub.notifier.tick()`` to drive it by hand.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsnode.clock import Clock, system_clock
from lsnode.notify.channels import AppriseTransport
from lsnode.notify.outbox import Transport
from lsnode.notify.sealing import open_on_hub
from lsnode.notify.service import POLL_S, Notifier, TickReport
from lsnode.store.notify import NotifyStore

if TYPE_CHECKING:
    from hub.server import Hub

HUB_CERTIFICATE = "hub_certificate"


class HubNotifier:
    def __init__(
        self,
        hub: Hub,
        clock: Clock | None = None,
        transport: Transport | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.hub = hub
        self.clock = clock or system_clock
        self.poll_s = poll_s
        self.store = NotifyStore(hub.db, self.clock)
        key_pem = hub.certificate.key_pem
        self.notifier = Notifier(
            self.store,
            self.clock,
            transport or AppriseTransport(),
            open_secret=lambda channel_id, sealed: open_on_hub(key_pem, sealed, channel_id),
        )
        self._published = False
        self._lock = asyncio.Lock()  # the periodic task and a test's tick never interleave

    def publish_certificate(self) -> bool:
        """Put the hub's certificate into the settings once notifications are configured (a hub
        without channels writes nothing). True when it was written now."""
        if self._published or not self.store.channels():
            return False
        pem = self.hub.certificate.cert_pem.decode("ascii")
        self._published = True
        if self.store.settings().get(HUB_CERTIFICATE) == pem:
            return False
        self.store.set_setting(HUB_CERTIFICATE, pem)
        return True

    async def tick(self) -> TickReport:
        async with self._lock:
            self.publish_certificate()
            return await self.notifier.tick_async(self.hub.fan_out)

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                from lsnode.notify.service import log

                log.exception("notify tick failed; trying again in %.0f s", self.poll_s)
            await asyncio.sleep(self.poll_s)


def describe(report: TickReport) -> dict[str, Any]:
    return report.as_dict()
