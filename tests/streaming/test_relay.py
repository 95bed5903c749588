"""The per-viewer queue: drop deltas first, then disconnect; publishing numbers events."""

from __future__ import annotations

import asyncio
import json

from channels.layers import InMemoryChannelLayer

from django_audio.streaming.relay import CaptionPublisher, ViewerQueue, relay_message


def delta(n: int) -> dict:
    return relay_message({"type": "transcript.text.delta", "delta": str(n)})


def done(n: int) -> dict:
    return relay_message({"type": "transcript.text.done", "text": str(n)})


def payload(message: dict) -> dict:
    return json.loads(message["text"])


async def test_queue_is_fifo():
    q = ViewerQueue(10)
    for i in range(3):
        assert q.put(delta(i))
    assert [payload(await q.get())["delta"] for _ in range(3)] == ["0", "1", "2"]


async def test_full_queue_drops_new_deltas():
    q = ViewerQueue(2)
    assert q.put(done(0))
    assert q.put(done(1))
    assert q.put(delta(2))  # dropped, not an overflow
    assert q.dropped == 1
    assert len(q) == 2


async def test_full_queue_evicts_the_oldest_delta_for_a_final_event():
    q = ViewerQueue(3)
    q.put(delta(0))
    q.put(done(1))
    q.put(delta(2))
    assert q.put(done(3))
    assert [(await q.get()) for _ in range(3)] == [done(1), delta(2), done(3)]
    assert q.dropped == 1
    assert not q.overflowed


async def test_queue_full_of_finals_overflows():
    q = ViewerQueue(2)
    q.put(done(0))
    q.put(done(1))
    assert q.put(done(2)) is False
    assert q.overflowed
    assert await q.get() is None


async def test_get_waits_for_an_event():
    q = ViewerQueue(2)
    waiter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    q.put(done(7))
    assert await waiter == done(7)


async def test_publisher_numbers_and_fans_out():
    layer = InMemoryChannelLayer()
    publisher = CaptionPublisher(layer, "abc")
    channels = [await layer.new_channel() for _ in range(3)]
    for ch in channels:
        await layer.group_add(publisher.group, ch)
    for i in range(3):
        await publisher.publish(publisher.stamp({"type": "transcript.text.delta", "delta": str(i)}))
    for ch in channels:
        got = [payload(await layer.receive(ch)) for _ in range(3)]
        assert [e["seq"] for e in got] == [1, 2, 3]
        assert [e["delta"] for e in got] == ["0", "1", "2"]
