"""The notifier: one tick generates what rules make now and sends what is due.

``Notifier.tick()`` is synchronous (the CLI's ``send-due`` and tests); ``tick_async()`` is the
hub's: database work on the loop's thread (the hub's store has one writer), each transport call
in a worker thread so a slow SMTP server never stalls sync. Both read the time from the clock
they were given — tests pass a settable one and move it by hand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from lsnode.clock import Clock
from lsnode.notify.outbox import (
    SecretOpener,
    SendReport,
    Transport,
    claim_next,
    record,
    safe_send,
    send_due,
)
from lsnode.notify.rules import GenerateReport, generate
from lsnode.store.notify import NotifyStore

log = logging.getLogger("lsavto.notify")

OnWritten = Callable[[], Awaitable[None]] | None
#: «Интервал опроса очереди сообщений»: how often the hub's notifier looks.
POLL_S = 15.0


@dataclass(slots=True)
class TickReport:
    generated: GenerateReport = field(default_factory=GenerateReport)
    sent: SendReport = field(default_factory=SendReport)

    def as_dict(self) -> dict[str, object]:
        return {
            "created": self.generated.created,
            "already_queued": self.generated.existing,
            **self.sent.as_dict(),
        }


class Notifier:
    def __init__(
        self,
        store: NotifyStore,
        clock: Clock,
        transport: Transport,
        open_secret: SecretOpener | None = None,
        batch: int = 1000,
    ) -> None:
        self.store = store
        self.clock = clock
        self.transport = transport
        self.open_secret = open_secret
        self.batch = batch

    def tick(self) -> TickReport:
        report = TickReport(generate(self.store, self.clock()))
        report.sent = send_due(
            self.store, self.clock, self.transport, self.open_secret, limit=self.batch
        )
        return report

    async def tick_async(self, on_written: OnWritten = None) -> TickReport:
        report = TickReport(generate(self.store, self.clock()))
        for _ in range(self.batch):
            out = claim_next(self.store, self.clock(), self.open_secret, report.sent)
            if out is None:
                break
            result = await asyncio.to_thread(safe_send, self.transport, out)
            record(self.store, out, result, self.clock(), report.sent)
            if on_written is not None:
                await on_written()
        if on_written is not None:
            await on_written()
        return report

    async def run(self, poll_s: float = POLL_S, on_written: OnWritten = None) -> None:
        """Tick forever; a failing tick is logged and the next one tries again."""
        while True:
            try:
                report = await self.tick_async(on_written)
                if report.generated.created or any(report.sent.as_dict().values()):
                    log.info("notify: %s", report.as_dict())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notify tick failed; trying again in %.0f s", poll_s)
            await asyncio.sleep(poll_s)
