"""The one background asyncio loop of the app (CONVENTIONS.md §12).

The Kivy main thread owns every widget and must never block on the network; the sync agent, hub
round-trips and any other coroutine run here, on one loop in one daemon thread. Nothing else in
the app starts event loops or threads for asyncio work.

Three ways across the thread boundary:

- ``submit(coro)`` — from any thread, run a coroutine on the loop; returns a
  ``concurrent.futures.Future`` (poll it, add a done-callback, or cancel it).
- ``call_blocking(coro, timeout)`` — from the UI thread, a *short* hub round-trip (an intent:
  «Взять себе») that the user waits for anyway; bounded by ``timeout`` and refused on the loop
  thread itself, where it would deadlock.
- ``post(fn, *args)`` — from the loop (or any) thread, run ``fn`` on the UI's main thread. This
  module does not import Kivy: the UI hands in a *poster* at construction, normally
  ``lambda fn: Clock.schedule_once(lambda _dt: fn())`` (Kivy's scheduling is thread-safe).

Usage::

    runtime = Runtime(poster=kivy_poster)
    runtime.start()
    fut = runtime.submit(agent.run_forever())
    result = runtime.call_blocking(agent.intent(...), timeout=3.0)
    runtime.stop()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger("lsavto.runtime")

T = TypeVar("T")

Poster = Callable[[Callable[[], None]], None]
"""Runs a zero-argument callable later on the UI's main thread (e.g. via ``Clock``)."""

STOP_TIMEOUT_S = 5.0


class RuntimeNotRunning(RuntimeError):
    """Work was handed to a runtime that is not started (or already stopped): a local bug."""


class Runtime:
    """One asyncio loop in one daemon thread, with thread-safe hand-offs both ways."""

    def __init__(self, poster: Poster | None = None, name: str = "lsavto-runtime") -> None:
        self.name = name
        self._poster = poster
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop thread and wait until the loop runs; idempotent while running."""
        if self.running:
            return
        self._ready.clear()
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Cancel what still runs on the loop, let it unwind, and join the thread.

        Graceful goodbyes (closing the hub connection) are the owner's job *before* this, with
        ``call_blocking(agent.stop(), …)``; here every task left is cancelled."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if threading.current_thread() is thread:
            raise RuntimeError("the runtime cannot stop itself from its own loop thread")
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("runtime loop did not stop within %.1f s", timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._loop is not None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (for ``call_soon_threadsafe``); raises when not started."""
        if self._loop is None or not self.running:
            raise RuntimeNotRunning("the app's runtime loop is not running")
        return self._loop

    def in_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            try:
                tasks = asyncio.all_tasks(loop)
                for task in tasks:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                self._loop = None
                asyncio.set_event_loop(None)
                loop.close()
                self._ready.set()  # a start() that raced a crash must not hang

    # --- into the loop ------------------------------------------------------------------

    def submit(
        self, coro: Coroutine[Any, Any, T], *, log_errors: bool = True
    ) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop; safe from any thread. With ``log_errors`` (the default)
        a failure is logged when it happens, so a crashed background task is never silent;
        callers that read the result themselves pass ``False``."""
        try:
            loop = self.loop
        except RuntimeNotRunning:
            coro.close()
            raise
        fut = asyncio.run_coroutine_threadsafe(coro, loop)
        if log_errors:
            fut.add_done_callback(_log_failure)
        return fut

    def call_blocking(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop and wait for its result, at most ``timeout`` seconds.

        Meant for short hub round-trips started by a tap, where the user waits anyway. On
        timeout the coroutine is cancelled and ``TimeoutError`` raised."""
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError("call_blocking on the runtime's own thread would deadlock")
        fut = self.submit(coro, log_errors=False)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise TimeoutError(f"no answer within {timeout:.1f} s") from None

    def call_soon(self, fn: Callable[..., object], *args: object) -> None:
        """Run a plain callable on the loop thread (e.g. set an ``asyncio.Event`` safely)."""
        self.loop.call_soon_threadsafe(fn, *args)

    # --- back to the UI -----------------------------------------------------------------

    def set_poster(self, poster: Poster | None) -> None:
        self._poster = poster

    def post(self, fn: Callable[..., object], *args: object) -> None:
        """Run ``fn(*args)`` on the UI's main thread, through the poster the UI gave."""
        poster = self._poster
        if poster is None:
            raise RuntimeNotRunning("no main-thread poster: the UI did not hand one in")
        poster(lambda: _call_logged(fn, args))


def _call_logged(fn: Callable[..., object], args: tuple[object, ...]) -> None:
    try:
        fn(*args)
    except Exception:  # a posted callback must not kill the UI's frame loop
        log.exception("callback posted to the main thread failed: %r", fn)


def _log_failure(fut: concurrent.futures.Future[Any]) -> None:
    if fut.cancelled():
        return
    exc = fut.exception()
    if exc is not None and not isinstance(exc, asyncio.CancelledError):
        log.error("runtime task failed: %s", exc, exc_info=exc)
