"""Errors of the embedded engine itself (bad input uses :class:`InvalidRequest` instead)."""

from __future__ import annotations

from ..exceptions import ProviderError


class EngineError(ProviderError):
    """The local engine failed (a library call returned an error). The server's fault."""

    status = 500
    error_type = "server_error"
    default_code = "local_engine_error"


class ModelIntegrityError(EngineError):
    """A bundled model file does not match its pinned SHA-256; the model is not loaded."""

    default_code = "model_integrity_failed"
