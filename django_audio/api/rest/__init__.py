"""Conventional DRF resources over the stored data: transcripts, speech, consents, voices, usage.

Mount ``django_audio.api.rest.urls`` under a prefix of your choice (the example project uses
``/api/audio/``). Every resource is owner-scoped (staff see all), addressed by its public id,
paginated, throttled per user and described by an OpenAPI schema (drf-spectacular).
"""
