"""django-audio: audio AI for Django sites — transcription, translation, speech, consented voices."""

__version__ = "0.1.0.dev0"
