"""Real ASGI server processes for the two-process and browser tests (see :mod:`.harness`)."""
