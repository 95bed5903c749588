"""A test provider whose streams stop after their first item until the test opens a gate.

If a response were buffered anywhere between the provider and the client, the client could
not see the first item before the gate opens, and the stream would fail after the timeout:
receiving it first proves the reply streams.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from django_audio.contract import Stream
from django_audio.providers.test import TestProvider

GATE = threading.Event()
#: How long a gated stream waits before failing the test.
GATE_TIMEOUT = 15.0


class GatedProvider(TestProvider):
    """:class:`TestProvider` holding every stream after its first item until ``GATE`` opens."""

    def _stream(self, items: list[Any], failure: Any, request_id: str, content_type: str) -> Any:
        inner = super()._stream(items, failure, request_id, content_type)

        def gated() -> Iterator[Any]:
            it = iter(inner)
            for i, item in enumerate(it):
                if i == 1 and not GATE.wait(GATE_TIMEOUT):
                    raise TimeoutError("the first item never reached the client")
                yield item

        return Stream(gated(), close=inner.close, content_type=content_type, request_id=request_id)
