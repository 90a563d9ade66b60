"""The app's one background loop: hand-offs both ways, bounded waits, clean stop (no Kivy)."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Iterator

import pytest

from lsnode.runtime import Runtime, RuntimeNotRunning


class MainThread:
    """Stands in for Kivy's Clock: posted callables wait here until the test runs them."""

    def __init__(self) -> None:
        self.inbox: queue.Queue[Callable[[], None]] = queue.Queue()

    def post(self, fn: Callable[[], None]) -> None:
        self.inbox.put(fn)

    def run_one(self, timeout: float = 10.0) -> None:
        self.inbox.get(timeout=timeout)()


@pytest.fixture
def main() -> MainThread:
    return MainThread()


@pytest.fixture
def runtime(main: MainThread) -> Iterator[Runtime]:
    rt = Runtime(poster=main.post)
    rt.start()
    yield rt
    rt.stop()


def test_submit_runs_the_coroutine_on_the_loop_thread(runtime: Runtime) -> None:
    async def where() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    assert runtime.submit(where()).result(10) == runtime.name
    assert not runtime.in_loop_thread()


def test_call_blocking_returns_the_result_and_raises_the_coroutines_error(
    runtime: Runtime,
) -> None:
    async def double(x: int) -> int:
        return 2 * x

    async def fail() -> None:
        raise ValueError("refused")

    assert runtime.call_blocking(double(21), timeout=10) == 42
    with pytest.raises(ValueError, match="refused"):
        runtime.call_blocking(fail(), timeout=10)


def test_call_blocking_gives_up_and_cancels_after_its_timeout(runtime: Runtime) -> None:
    cancelled = threading.Event()

    async def hang() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    with pytest.raises(TimeoutError):
        runtime.call_blocking(hang(), timeout=0.05)
    assert cancelled.wait(10)


def test_call_blocking_from_the_loop_thread_is_refused_not_deadlocked(runtime: Runtime) -> None:
    async def noop() -> None:
        return None

    async def nested() -> str:
        try:
            runtime.call_blocking(noop(), timeout=1)
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    assert "deadlock" in runtime.submit(nested()).result(10)


def test_post_runs_the_callable_on_the_main_thread(runtime: Runtime, main: MainThread) -> None:
    seen: list[tuple[str, int]] = []

    async def report() -> None:
        runtime.post(lambda n: seen.append((threading.current_thread().name, n)), 7)

    runtime.submit(report()).result(10)
    assert seen == []  # nothing runs until the main thread takes it
    main.run_one()
    assert seen == [(threading.main_thread().name, 7)]


def test_a_failing_posted_callback_does_not_escape_into_the_frame_loop(
    runtime: Runtime, main: MainThread
) -> None:
    def boom() -> None:
        raise RuntimeError("bug in a screen")

    runtime.post(boom)
    main.run_one()  # logged, not raised


def test_stop_cancels_what_still_runs_and_a_stopped_runtime_refuses_work(main: MainThread) -> None:
    rt = Runtime(poster=main.post)
    rt.start()
    started, unwound = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            unwound.set()

    fut = rt.submit(forever())
    assert started.wait(10)
    rt.stop()
    assert unwound.is_set()
    assert fut.cancelled()
    assert not rt.running

    async def late() -> None:
        return None

    with pytest.raises(RuntimeNotRunning):
        rt.submit(late())


def test_a_runtime_can_be_started_again_after_a_stop(main: MainThread) -> None:
    rt = Runtime(poster=main.post)
    for _ in range(2):
        rt.start()

        async def one() -> int:
            return 1

        assert rt.call_blocking(one(), timeout=10) == 1
        rt.stop()


def test_post_without_a_poster_is_a_clear_error() -> None:
    with pytest.raises(RuntimeNotRunning, match="poster"):
        Runtime().post(print)
