"""Shared fixtures. Provider tests talk to the fake OpenAI upstream over real HTTP."""

from __future__ import annotations
