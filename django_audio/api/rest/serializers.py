"""Serializers: what the REST resources show, and the input each create action takes.

Output serializers are read-only views of the rows, addressed by public id. Input
serializers only describe and type-check the request: every write goes through
:mod:`django_audio.services`, which applies the real rules (content sniffing, size limits,
consent checks) and raises errors naming the parameter.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from ...contract import SPEECH_FORMATS, TIMESTAMP_GRANULARITIES, TRANSCRIPTION_FORMATS
from ...exporting import EXPORT_FORMATS
from ...models import JobStatus, SpeechAsset, Transcript, UsageRecord, Voice, VoiceConsent

#: URL namespace of the REST resources (``app_name`` in ``urls.py``).
NAMESPACE = "django_audio_rest"


class _EnumField(serializers.ChoiceField):
    """A choice field over one ``TextChoices`` class (set by :func:`enum_field`)."""

    choices_class: type[models.TextChoices]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=self.choices_class.choices, **kwargs)


def enum_field(name: str, choices_class: type[models.TextChoices]) -> type[_EnumField]:
    """A choice field class whose schema is the named component ``name``.

    Several models have a ``status`` (or ``kind``) with different choices; naming each set
    keeps the schema free of drf-spectacular's enum-collision warnings without settings.
    """
    cls = type(f"{name}Field", (_EnumField,), {"choices_class": choices_class})
    schema = {"type": "string", "enum": [value for value, _ in choices_class.choices]}
    return extend_schema_field(schema, component_name=name)(cls)


JobStatusField = enum_field("JobStatus", JobStatus)
TranscriptKindField = enum_field("TranscriptKind", Transcript.Kind)
SpeechKindField = enum_field("SpeechKind", SpeechAsset.Kind)
ConsentStatusField = enum_field("ConsentStatus", VoiceConsent.Status)
VoiceStatusField = enum_field("VoiceStatus", Voice.Status)


def _url(serializer: serializers.Serializer[Any], name: str, public_id: str, **kw: str) -> str:
    request = serializer.context.get("request")
    return reverse(f"{NAMESPACE}:{name}", kwargs={"id": public_id, **kw}, request=request)


class _OwnedSerializer(serializers.ModelSerializer[Any]):
    """Adds ``id`` (the public id) and ``owner`` (the username)."""

    id = serializers.CharField(source="public_id", read_only=True)
    owner = serializers.SerializerMethodField()

    def get_owner(self, obj: Any) -> str | None:
        """The owner's username (``None`` for rows made without a user)."""
        return obj.owner.get_username() if obj.owner_id else None


# --------------------------------------------------------------------------- transcripts


class TranscriptSerializer(_OwnedSerializer):
    """A transcript in lists: everything but the timings."""

    kind = TranscriptKindField(read_only=True)
    status = JobStatusField(read_only=True)
    audio_url = serializers.SerializerMethodField()
    export_urls = serializers.SerializerMethodField()

    class Meta:
        model = Transcript
        fields = [
            "id", "owner", "kind", "status", "model", "language", "prompt", "response_format",
            "text", "duration", "original_name", "content_type", "audio_format", "size",
            "sha256", "audio_url", "export_urls", "usage", "error", "error_code",
            "created_at", "started_at", "completed_at", "audio_purged_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_audio_url(self, obj: Transcript) -> str | None:
        """Where the source audio is downloaded (``None`` once it was purged)."""
        if not obj.audio or obj.audio_purged_at:
            return None
        return _url(self, "transcript-audio", obj.public_id)

    @extend_schema_field(
        {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}}
    )
    def get_export_urls(self, obj: Transcript) -> dict[str, str]:
        """Download URL per export format."""
        return {
            fmt: _url(self, "transcript-export", obj.public_id, fmt=fmt) for fmt in EXPORT_FORMATS
        }


class TranscriptDetailSerializer(TranscriptSerializer):
    """One transcript with its segments, words, speakers and log probabilities."""

    speakers = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(TranscriptSerializer.Meta):
        fields = [
            *TranscriptSerializer.Meta.fields,
            "segments", "words", "diarized_segments", "speakers", "logprobs",
        ]  # fmt: skip
        read_only_fields = fields


class TranscriptCreateSerializer(serializers.Serializer[Any]):
    """Upload audio to transcribe (or translate into English) and store."""

    file = serializers.FileField(help_text="The audio (wav, mp3, ogg/opus, flac, webm, m4a …).")
    model = serializers.CharField(max_length=200, help_text="The provider's model name.")
    task = serializers.ChoiceField(
        choices=["transcribe", "translate"],
        default="transcribe",
        help_text="'translate' stores an English translation instead of a transcription.",
    )
    language = serializers.CharField(max_length=35, required=False, allow_blank=True)
    prompt = serializers.CharField(required=False, allow_blank=True)
    response_format = serializers.ChoiceField(
        choices=list(TRANSCRIPTION_FORMATS),
        required=False,
        help_text="What is asked of the provider; 'verbose_json' adds segment timings.",
    )
    temperature = serializers.FloatField(min_value=0, max_value=1, required=False)
    timestamp_granularities = serializers.ListField(
        child=serializers.ChoiceField(choices=list(TIMESTAMP_GRANULARITIES)),
        required=False,
        help_text="With response_format 'verbose_json': 'word' and/or 'segment'.",
    )

    def service_params(self) -> dict[str, Any]:
        """The optional parameters the client actually sent, for the service call."""
        data = self.validated_data
        params = {
            key: data[key]
            for key in ("prompt", "response_format", "temperature", "timestamp_granularities")
            if key in data and data[key] not in ("", None, [])
        }
        if data.get("language") and data["task"] == "transcribe":
            params["language"] = data["language"]
        return params


# --------------------------------------------------------------------------- speech


class SpeechAssetSerializer(_OwnedSerializer):
    """A stored speech clip (or the audio reply of a chat completion)."""

    kind = SpeechKindField(read_only=True)
    status = JobStatusField(read_only=True)
    voice = serializers.CharField(source="voice_name", read_only=True)
    audio_url = serializers.SerializerMethodField()

    class Meta:
        model = SpeechAsset
        fields = [
            "id", "owner", "kind", "status", "model", "input", "voice", "instructions", "speed",
            "response_format", "content_type", "audio_format", "size", "duration", "sha256",
            "audio_url", "transcript", "usage", "error", "error_code", "created_at",
            "completed_at", "audio_purged_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_audio_url(self, obj: SpeechAsset) -> str | None:
        """Where the clip is played or downloaded (Range requests supported)."""
        if not obj.audio or obj.audio_purged_at:
            return None
        return _url(self, "speech-audio", obj.public_id)


class SpeechCreateSerializer(serializers.Serializer[Any]):
    """Text to synthesize and store."""

    input = serializers.CharField(help_text="The text to speak.", trim_whitespace=False)
    voice = serializers.CharField(
        max_length=100, help_text="A built-in voice name, or the id of one of your voices."
    )
    model = serializers.CharField(max_length=200)
    instructions = serializers.CharField(required=False, allow_blank=True)
    response_format = serializers.ChoiceField(choices=list(SPEECH_FORMATS), default="mp3")
    speed = serializers.FloatField(min_value=0.25, max_value=4.0, default=1.0)


# --------------------------------------------------------------------------- consents


class VoiceConsentSerializer(_OwnedSerializer):
    """A recorded consent to clone a voice, and its review state."""

    status = ConsentStatusField(read_only=True)
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = VoiceConsent
        fields = [
            "id", "owner", "name", "language", "status", "content_type", "audio_format",
            "size", "duration", "decided_by", "decided_at", "decision_note", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_decided_by(self, obj: VoiceConsent) -> str | None:
        """Username of the reviewer (``None`` while pending or when decided automatically)."""
        return obj.decided_by.get_username() if obj.decided_by is not None else None


class VoiceConsentCreateSerializer(serializers.Serializer[Any]):
    """A consent recording to submit for review."""

    name = serializers.CharField(max_length=200, help_text="Whose voice this is.")
    language = serializers.CharField(max_length=35, help_text="BCP 47 tag of the recording.")
    recording = serializers.FileField(help_text="The person stating their consent.")


class ConsentDecisionSerializer(serializers.Serializer[Any]):
    """Why a consent was approved, rejected or revoked (kept in the audit trail)."""

    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --------------------------------------------------------------------------- voices


class VoiceSerializer(_OwnedSerializer):
    """A custom voice made under an approved consent."""

    status = VoiceStatusField(read_only=True)
    consent = serializers.CharField(source="consent.public_id", read_only=True)
    usable = serializers.BooleanField(source="is_usable", read_only=True)

    class Meta:
        model = Voice
        fields = [
            "id", "owner", "name", "consent", "status", "usable", "content_type",
            "audio_format", "size", "duration", "disabled_at", "disabled_reason", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class VoiceCreateSerializer(serializers.Serializer[Any]):
    """A voice sample and the approved consent it is made under."""

    name = serializers.CharField(max_length=200)
    consent = serializers.CharField(max_length=40, help_text="Id of your approved consent.")
    audio_sample = serializers.FileField(help_text="A clean sample of the voice.")


class VoiceDisableSerializer(serializers.Serializer[Any]):
    """Why a voice is disabled."""

    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --------------------------------------------------------------------------- usage


class UsageOperationSerializer(serializers.Serializer[Any]):
    """What one kind of operation consumed."""

    operation = serializers.ChoiceField(choices=UsageRecord.Operation.choices)
    requests = serializers.IntegerField()
    cached = serializers.IntegerField(help_text="Requests answered without an upstream call.")
    seconds = serializers.FloatField(help_text="Seconds of audio.")
    characters = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


class UsageSerializer(serializers.Serializer[Any]):
    """Usage totals of one user (or of everyone), per operation."""

    user = serializers.CharField(allow_null=True, help_text="Username; null for site totals.")
    operations = UsageOperationSerializer(many=True)


#: Statuses a transcript or speech asset can have (for the filter parameter's schema).
JOB_STATUSES = [value for value, _ in JobStatus.choices]


class UsageByUserPageSerializer(serializers.Serializer[Any]):
    """A page of per-user usage totals."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = UsageSerializer(many=True)


class ErrorDetailSerializer(serializers.Serializer[Any]):
    """OpenAI's error object."""

    message = serializers.CharField()
    type = serializers.CharField(help_text="invalid_request_error, rate_limit_error …")
    param = serializers.CharField(allow_null=True, help_text="The parameter at fault, if any.")
    code = serializers.CharField(allow_null=True)


class ErrorSerializer(serializers.Serializer[Any]):
    """Every error answers ``{"error": {"message", "type", "param", "code"}}``."""

    error = ErrorDetailSerializer()
