"""django-audio: audio AI for Django — transcription, translation, speech, consented voices."""

__version__ = "0.1.0.dev0"
