"""The per-viewer queue: drop deltas first, then disconnect; publishing numbers events."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.layers import InMemoryChannelLayer

from django_audio.streaming.relay import (
    CaptionPublisher,
    LocalFanout,
    ViewerQueue,
    local_fanout,
    relay_message,
)


def delta(n: int) -> dict:
    return relay_message({"type": "transcript.text.delta", "delta": str(n)})


def done(n: int) -> dict:
    return relay_message({"type": "transcript.text.done", "text": str(n)})


def payload(message: dict) -> dict:
    return json.loads(message["text"])


class SharedLayer:
    """An in-memory layer standing for a networked one (shared by several processes)."""

    def __init__(self) -> None:
        self.inner = InMemoryChannelLayer()

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


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
    layer = SharedLayer()
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


async def test_fanout_subscribes_a_process_once_per_session():
    layer = InMemoryChannelLayer()
    fanout = LocalFanout()
    group = "django_audio.captions.s1"
    queues = [ViewerQueue(10) for _ in range(3)]
    for q in queues:
        await fanout.join(layer, group, q)
    # Three viewers on this process, one layer channel in the group.
    assert len(layer.groups[group]) == 1
    assert fanout.viewers(layer, group) == 3
    for i in range(3):  # from "another process": no origin of ours
        await layer.group_send(group, relay_message({"type": "done", "text": str(i), "seq": i}))
    for q in queues:
        got = [payload(await asyncio.wait_for(q.get(), 5)) for _ in range(3)]
        assert [e["seq"] for e in got] == [0, 1, 2]
    for q in queues[:2]:
        await fanout.leave(layer, group, q)
    assert len(layer.groups[group]) == 1
    await fanout.leave(layer, group, queues[2])
    assert not layer.groups.get(group)
    assert fanout.viewers(layer, group) == 0


async def test_publisher_delivers_locally_once_and_relays_to_other_processes():
    layer = SharedLayer()
    publisher = CaptionPublisher(layer, "s2")
    here = ViewerQueue(10)
    await local_fanout().join(layer, publisher.group, here)
    other_process = await layer.new_channel()  # stands for another process's subscription
    await layer.group_add(publisher.group, other_process)
    for i in range(3):
        await publisher.publish(publisher.stamp({"type": "transcript.text.delta", "delta": str(i)}))
    remote = [payload(await layer.receive(other_process)) for _ in range(3)]
    assert [e["seq"] for e in remote] == [1, 2, 3]
    local = [payload(await asyncio.wait_for(here.get(), 5)) for _ in range(3)]
    assert [e["seq"] for e in local] == [1, 2, 3]
    await asyncio.sleep(0.05)  # the reader has seen the layer's copies: they must be skipped
    assert len(here) == 0
    await local_fanout().leave(layer, publisher.group, here)


async def test_fanout_applies_the_slow_viewer_policy_per_viewer():
    layer = InMemoryChannelLayer()
    fanout = LocalFanout()
    group = "django_audio.captions.s3"
    slow, fast = ViewerQueue(2), ViewerQueue(10)
    await fanout.join(layer, group, slow)
    await fanout.join(layer, group, fast)
    for i in range(3):
        fanout.deliver(layer, group, done(i))
    assert slow.overflowed
    assert await slow.get() is None
    assert [payload(await fast.get())["text"] for _ in range(3)] == ["0", "1", "2"]
    await fanout.leave(layer, group, slow)
    await fanout.leave(layer, group, fast)


async def test_in_memory_layer_is_not_used_for_this_process_viewers():
    layer = InMemoryChannelLayer()
    publisher = CaptionPublisher(layer, "s4")
    here = ViewerQueue(10)
    await local_fanout().join(layer, publisher.group, here)
    stray = await layer.new_channel()
    await layer.group_add(publisher.group, stray)
    await publisher.publish(publisher.stamp({"type": "transcript.text.delta", "delta": "x"}))
    assert payload(await asyncio.wait_for(here.get(), 5))["seq"] == 1
    # No group_send: the in-memory layer cannot reach another process anyway.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(stray), 0.1)
    await local_fanout().leave(layer, publisher.group, here)


async def test_an_event_for_a_waiting_reader_is_sent_at_once():
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(json.loads(text)["delta"])

    q = ViewerQueue(10, send=send)
    reader = asyncio.create_task(q.get())
    await asyncio.sleep(0)  # the reader now waits
    assert q.put(delta(1))
    assert q.put(delta(2))
    assert sent == ["1", "2"]  # in put(), without a turn of the loop
    assert len(q) == 0
    assert not reader.done()  # nothing was queued for it
    reader.cancel()


async def test_without_a_waiting_reader_events_are_queued():
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    q = ViewerQueue(10, send=send)
    q.put(delta(1))  # the reader is busy (not in get()): keep the order through the queue
    assert sent == []
    assert payload(await q.get())["delta"] == "1"


async def test_a_direct_send_that_waits_keeps_the_order():
    gate = asyncio.Event()
    sent: list[str] = []

    async def send(text: str) -> None:
        await gate.wait()  # a client applying back-pressure
        sent.append(json.loads(text)["delta"])

    q = ViewerQueue(10, send=send)
    reader = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.put(delta(1))  # sent directly, but it has to wait
    q.put(delta(2))  # so this one is queued behind it
    q.put(delta(3))
    assert len(q) == 2
    await asyncio.sleep(0.01)
    assert not reader.done()  # the reader waits for the direct send to finish first
    gate.set()
    assert payload(await reader)["delta"] == "2"
    assert sent == ["1"]
    assert payload(await q.get())["delta"] == "3"
