"""The opt-in garbage collector tuning for caption servers."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from django_audio.streaming.tuning import YOUNG_THRESHOLD, tune_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_tune_gc_raises_the_young_threshold_only() -> None:
    _, middle, old = gc.get_threshold()
    tune_gc()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
    tune_gc(5000)
    assert gc.get_threshold() == (5000, middle, old)


@pytest.mark.usefixtures("restored_gc")
def test_cycles_are_still_collected_automatically_after_tuning() -> None:
    assert gc.isenabled()
    tune_gc(young=100)
    freed: list[int] = []

    class Node:
        other: object = None

    for i in range(50):  # cycles only the collector can free, never gc.collect() here
        a, b = Node(), Node()
        a.other, b.other = b, a
        weakref.finalize(a, freed.append, i)
    del a, b
    for _ in range(1000):  # allocations that trigger young collections
        [[] for _ in range(10)]
    assert len(freed) >= 40


def test_a_threshold_below_one_is_refused() -> None:
    thresholds = gc.get_threshold()
    with pytest.raises(ValueError, match="positive"):
        tune_gc(0)
    assert gc.get_threshold() == thresholds
