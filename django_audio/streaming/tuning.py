"""Process tuning for servers that relay live captions: the garbage collector.

CPython collects its youngest generation every 700 net allocations of container objects.
A process relaying 100 caption sessions holds thousands of young, live objects at any
moment (each in-flight upstream read is a chain of async generators and coroutines), so
every such collection walks them all: about 3 ms on the benchmark machine, several times
a second, and every event arriving meanwhile waits. Full collections walk everything the
process imported as well (tens of milliseconds), but seldom.

:func:`tune_gc` is opt-in and belongs in the project's ``asgi.py``, after the application
is built (a reusable app must not change the collector of the process it is imported into
by itself)::

    application = ProtocolTypeRouter({...})

    from django_audio.streaming.tuning import tune_gc

    tune_gc()

``benchmarks/ws_relay.py`` measures the effect (see ``docs/websockets.md``).
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "tune_gc"]

#: Net allocations between young collections (CPython's default is 700).
YOUNG_THRESHOLD = 20_000


def tune_gc(young: int = YOUNG_THRESHOLD) -> None:
    """Collect the young generation every ``young`` net allocations instead of 700.

    Cyclic garbage is still collected, in fewer, larger batches; the older generations
    keep their thresholds. (:func:`gc.freeze` is no help here: it shrinks what the full
    collections count as long-lived, so they come more often, and they measured worse.)
    """
    if young < 1:
        raise ValueError(f"young must be a positive number of allocations; got {young!r}.")
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, old)
