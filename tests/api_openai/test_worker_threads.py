"""``WorkerThreads``: sync work of one request on one lent thread that outlives it."""

from __future__ import annotations

import asyncio
import threading

from asgiref.sync import sync_to_async

from django_audio.api.asgi import WorkerThreads


def _thread() -> str:
    return threading.current_thread().name


async def _names_in_one_request(threads: WorkerThreads, hold: float = 0.0) -> set[str]:
    async with threads.lend():
        first = await sync_to_async(_thread)()
        await asyncio.sleep(hold)
        second = await sync_to_async(_thread)()
    return {first, second}


async def test_a_request_keeps_one_thread_and_the_next_reuses_it() -> None:
    threads = WorkerThreads(2)
    one = await _names_in_one_request(threads)
    two = await _names_in_one_request(threads)
    assert len(one) == 1
    assert one == two


async def test_busy_threads_make_room_with_a_thread_of_its_own() -> None:
    threads = WorkerThreads(1)
    a, b = await asyncio.gather(
        _names_in_one_request(threads, hold=0.05), _names_in_one_request(threads, hold=0.05)
    )
    assert len(a) == len(b) == 1
    assert a != b  # the second request did not queue behind the first
    again = await _names_in_one_request(threads)
    assert again in (a, b)  # the pooled thread is lent again
