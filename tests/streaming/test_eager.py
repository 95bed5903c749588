"""run_eagerly: a coroutine runs in the caller's step, and in a task only once it waits."""

from __future__ import annotations

import asyncio
import logging

import pytest

from django_audio.streaming.eager import run_eagerly


async def test_a_coroutine_that_never_waits_finishes_at_once():
    done = []

    async def send(x: int) -> None:
        done.append(x)

    assert run_eagerly(send(1)) is None
    assert done == [1]  # before the caller gave the loop a turn


async def test_a_coroutine_that_waits_is_finished_by_a_task():
    gate = asyncio.get_running_loop().create_future()
    steps = []

    async def send() -> None:
        steps.append("before")
        steps.append(await gate)
        steps.append("after")

    task = run_eagerly(send())
    assert task is not None
    assert steps == ["before"]
    gate.set_result("resumed")
    await task
    assert steps == ["before", "resumed", "after"]


async def test_a_bare_yield_is_given_one_turn():
    steps = []

    async def send() -> None:
        steps.append(1)
        await asyncio.sleep(0)
        steps.append(2)

    task = run_eagerly(send())
    assert task is not None
    assert steps == [1]
    await task
    assert steps == [1, 2]


async def test_the_awaited_future_failing_raises_inside_the_coroutine():
    gate = asyncio.get_running_loop().create_future()
    seen = []

    async def send() -> None:
        try:
            await gate
        except ValueError as exc:
            seen.append(str(exc))

    task = run_eagerly(send())
    assert task is not None
    gate.set_exception(ValueError("upstream"))
    await task
    assert seen == ["upstream"]


async def test_cancelling_the_task_cancels_the_coroutine():
    gate = asyncio.get_running_loop().create_future()
    seen = []

    async def send() -> None:
        try:
            await gate
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    task = run_eagerly(send())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled"]
    assert gate.cancelled()


async def test_cancellation_after_the_future_finished_is_still_thrown_in():
    gate = asyncio.get_running_loop().create_future()
    seen = []

    async def send() -> None:
        try:
            await gate
            seen.append("resumed")
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    task = run_eagerly(send())
    assert task is not None
    await asyncio.sleep(0)  # the task now waits on ``gate``
    gate.set_result(None)  # its wake-up is scheduled ...
    task.cancel()  # ... and the cancellation comes first
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled"]


async def test_failures_are_logged_not_raised(caplog):
    gate = asyncio.get_running_loop().create_future()

    async def at_once() -> None:
        raise RuntimeError("boom now")

    async def later() -> None:
        await gate
        raise RuntimeError("boom later")

    with caplog.at_level(logging.ERROR, logger="django_audio.streaming"):
        assert run_eagerly(at_once()) is None
        task = run_eagerly(later())
        assert task is not None
        gate.set_result(None)
        await asyncio.wait([task])
    messages = [r.exc_info[1].args[0] for r in caplog.records if r.exc_info]
    assert messages == ["boom now", "boom later"]


async def test_a_yield_that_is_not_a_future_is_refused():
    class Odd:
        def __await__(self):
            yield "not a future"

    seen = []

    async def send() -> None:
        try:
            await Odd()
        except RuntimeError as exc:
            seen.append(str(exc))

    task = run_eagerly(send())
    assert task is not None
    await task
    assert len(seen) == 1
    assert "Bad yield" in seen[0]
