"""The OpenAI-compatible surface: mount ``django_audio.api.openai.urls`` at ``v1/``.

Point the official SDKs at it with ``base_url="https://your.site/v1"`` and a key made by
``manage.py create_audio_api_key``. Every operation goes through :mod:`django_audio.services`,
so what is sent and produced is stored. See ``docs/openai-api.md``.
"""
