"""The domain as the screens use it: one ``Services`` per app, over the app's store connection.

Screens and view-models never build use cases themselves; they ask ``app.services``:

- ``traffic``: ``lsnode.crm.traffic.Traffic`` — register / take / assign / transfer / process /
  ignore / lose / cancel. Contested actions («Взять себе», «Назначить») go to the hub through
  ``ContextArbiter`` (``NodeContext.claim``); offline they raise ``HubUnavailable`` with a
  translatable message, and a lost race raises ``lsnode.crm.traffic.Taken`` naming the winner.
- ``reader``: ``SqliteTraffic`` (journal, queue, inbox, history, employees, purposes, reference
  lists); ``clients``: ``SqliteClients``; ``search(text)``: the foundation's search.
- ``session``: the signed-in employee (``lsnode.crm.staff.Session``) or ``None``;
  ``sign_in(employee_id, pin)`` / ``sign_out()``; ``set_presence(state, note)``.

Every write goes through ``writer`` (``NotifyingWriter``): when the outermost transaction
commits, the context hears of it at once (screens refresh, the sync agent pushes without
waiting for its poll) — this is what keeps «registered on node A → popup on node B» short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from lsnode.clock import Clock, local_day_start, system_clock
from lsnode.crm.search import search
from lsnode.crm.staff import Session, SignIn, set_presence
from lsnode.crm.traffic import Claim, Traffic
from lsnode.errors import InputError
from lsnode.store.changes import Writer
from lsnode.store.repos import SqliteClients
from lsnode.store.traffic import SqliteTraffic


class NotifyingWriter(Writer):
    """``Writer`` that tells the app after each committed write (outermost transaction)."""

    def __init__(self, db: Any, on_commit: Callable[[], None], **kw: Any) -> None:
        super().__init__(db, **kw)
        self._on_commit = on_commit
        self._depth = 0

    @contextmanager
    def _outer(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self._depth == 0:
            self._on_commit()

    def transaction(self) -> AbstractContextManager[object]:
        @contextmanager
        def both() -> Iterator[object]:
            with self._outer(), super(NotifyingWriter, self).transaction() as tx:
                yield tx

        return both()

    def insert_many(self, table: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        with self._outer():
            return super().insert_many(table, rows)

    def update(self, table: str, row_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        with self._outer():
            return super().update(table, row_id, changes)

    def delete(self, table: str, row_id: str) -> None:
        with self._outer():
            super().delete(table, row_id)


class ContextArbiter:
    """``lsnode.crm.traffic.Arbiter`` over the app's hub connection (``NodeContext.claim``)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def claim(self, table: str, row_id: str, column: str, value: Any, expect: Any) -> Claim:
        got = self.ctx.claim(table, row_id, column, value, expect)
        return Claim(got.ok, got.current, got.reason)


class Services:
    def __init__(self, ctx: Any, clock: Clock = system_clock, region: str = "RU") -> None:
        self.ctx = ctx
        self.clock = clock
        self.region = region
        db = ctx.db
        self.writer = NotifyingWriter(db, ctx.notify_local_change)
        self.reader = SqliteTraffic(db)
        self.clients = SqliteClients(db)
        self.traffic = Traffic(
            self.writer, self.reader, self.reader, self.clients, clock, ContextArbiter(ctx), region
        )
        self._sign_in = SignIn(self.reader)
        self.session: Session | None = None
        self.on_session: list[Callable[[Session | None], None]] = []

    # -- people ------------------------------------------------------------------------------

    def sign_in(self, employee_id: str, pin: str) -> Session:
        self.session = self._sign_in(employee_id, pin)
        for hook in self.on_session:
            hook(self.session)
        return self.session

    def sign_out(self) -> None:
        self.session = None
        for hook in self.on_session:
            hook(None)

    def require_session(self) -> Session:
        if self.session is None:
            raise InputError("sign in first")
        return self.session

    def set_presence(self, state: str, note: str | None = None) -> None:
        session = self.require_session()
        set_presence(self.writer, self.reader, session.employee_id, state, note, now=self.clock())

    def day_start(self) -> str:
        from lsnode.clock import instant

        return instant(local_day_start(self.clock()))

    # -- the client base ---------------------------------------------------------------------

    def search(self, text: str, limit: int = 20) -> Any:
        return search(self.clients, self.clients, text, limit=limit, region=self.region)
