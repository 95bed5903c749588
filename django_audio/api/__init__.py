"""The HTTP edges of django-audio: the OpenAI-compatible surface and shared API plumbing.

``errors`` maps every error to OpenAI's error body in one place; ``auth`` holds API-key and
session authentication for plain async views and for DRF.
"""
