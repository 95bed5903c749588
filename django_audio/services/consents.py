"""Voice consents and custom voices, with the consent rules enforced and audited.

Rules: a voice is made only from an approved consent and speaks only while that consent is
approved and the voice is active. With ``REQUIRE_CONSENT_APPROVAL`` (the default) only staff
approve or reject; without it a consent is approved on submission. Revoking disables the
consent's voices at once and deletes them (and the consent) upstream. Every transition is
appended to :class:`~django_audio.models.ConsentEvent` with the acting user.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..conf import audio_settings
from ..contract import AudioFile, Capability, VoiceParam, validate_language_tag, validate_voice
from ..exceptions import ConsentError, InvalidRequest, NotFound, RequestCancelled
from ..models import ConsentEvent, Voice, VoiceConsent
from ..signals import (
    post_consent_change,
    post_voice_change,
    pre_consent_change,
    pre_voice_change,
    send_post,
)
from .common import atomic_with_files, error_text, get_provider, owner_filter, owner_or_none
from .uploads import AudioSource, check_audio

__all__ = [
    "ResolvedVoice",
    "approve_consent",
    "create_voice",
    "delete_consent",
    "delete_voice",
    "disable_voice",
    "reject_consent",
    "rename_consent",
    "resolve_voice",
    "revoke_consent",
    "submit_consent",
]

logger = logging.getLogger("django_audio.services")

Status = VoiceConsent.Status
Action = ConsentEvent.Action


def _actor_name(actor: Any) -> str:
    user = owner_or_none(actor)
    return str(user.get_username())[:150] if user is not None else ""


def _event(
    consent: VoiceConsent,
    action: str,
    actor: Any,
    *,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    voice: Voice | None = None,
) -> ConsentEvent:
    return ConsentEvent.objects.create(
        consent=consent,
        consent_public_id=consent.public_id,
        voice_public_id=voice.public_id if voice is not None else "",
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=owner_or_none(actor),
        actor_name=_actor_name(actor),
        note=note,
    )


def _require_staff(actor: Any, what: str) -> None:
    user = owner_or_none(actor)
    if user is None or not user.is_staff:
        raise ConsentError(f"Only staff can {what} a voice consent.", code="permission_denied")


def _require_owner_or_staff(actor: Any, consent: VoiceConsent, what: str) -> None:
    user = owner_or_none(actor)
    if user is not None and (user.is_staff or user.pk == consent.owner_id):
        return
    raise ConsentError(
        f"Only the owner or staff can {what} this voice consent.", code="permission_denied"
    )


def _recording(consent: VoiceConsent) -> AudioFile:
    return AudioFile(
        consent.recording.open("rb"),
        filename=consent.original_name or "recording",
        content_type=consent.content_type,
    )


def _register_upstream(consent: VoiceConsent) -> str:
    """The consent's upstream id, registering it first if the provider supports consents."""
    if consent.upstream_id:
        return consent.upstream_id
    _, provider = get_provider(consent.provider)
    if not provider.supports(Capability.VOICE_CONSENTS) or not consent.recording:
        return ""
    audio = _recording(consent)
    try:
        obj = provider.create_voice_consent(consent.name, audio, consent.language)
    finally:
        audio.content.close()  # type: ignore[union-attr]
    return obj.id


# --------------------------------------------------------------------------- consents


def submit_consent(
    owner: Any,
    *,
    name: str,
    recording: AudioSource,
    language: str,
    actor: Any = None,
    provider: str | None = None,
) -> VoiceConsent:
    """Store a consent recording as ``pending`` (``approved`` at once if approval is off)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("Missing required parameter: 'name'.", param="name")
    validate_language_tag(language)
    alias, _ = get_provider(provider)
    upload = check_audio(
        recording, param="recording", max_size=audio_settings.MAX_VOICE_SAMPLE_SIZE
    )
    actor = actor if actor is not None else owner
    consent = VoiceConsent(
        owner=owner_or_none(owner),
        name=name.strip()[:200],
        language=language,
        provider=alias,
        submitted_by=owner_or_none(actor),
        **upload.metadata(),
    )
    names: list[str] = []
    try:
        with atomic_with_files(names):
            names.append(upload.save_to(consent.recording))
            consent.save()
            _event(consent, Action.SUBMITTED, actor, to_status=Status.PENDING)
            pre_consent_change.send(
                VoiceConsent,
                consent=consent,
                action=Action.SUBMITTED,
                actor=actor,
                to_status=Status.PENDING,
            )
    except RequestCancelled as exc:
        consent.pk = None
        _post_consent(consent, Action.SUBMITTED, actor, "", Status.PENDING, "cancelled", exc)
        raise
    _post_consent(consent, Action.SUBMITTED, actor, "", Status.PENDING, "completed", None)
    if not audio_settings.REQUIRE_CONSENT_APPROVAL:
        _decide(consent, Status.APPROVED, None, "Approval is not required on this site.")
    return consent


def _post_consent(
    consent: VoiceConsent,
    action: str,
    actor: Any,
    from_status: str,
    to_status: str,
    outcome: str,
    error: BaseException | None,
) -> None:
    send_post(
        post_consent_change,
        VoiceConsent,
        consent=consent,
        action=action,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        outcome=outcome,
        error=error,
    )


def _pre_consent(
    consent: VoiceConsent, action: str, actor: Any, from_status: str, to_status: str
) -> None:
    """Send ``pre_consent_change``; on cancellation send the ``post_`` with ``cancelled``."""
    try:
        pre_consent_change.send(
            VoiceConsent, consent=consent, action=action, actor=actor, to_status=to_status
        )
    except RequestCancelled as exc:
        _post_consent(consent, action, actor, from_status, to_status, "cancelled", exc)
        raise


def _post_voice(
    voice: Voice, action: str, actor: Any, outcome: str, error: BaseException | None
) -> None:
    """Send ``post_voice_change`` (always, whatever the outcome)."""
    send_post(
        post_voice_change, Voice, voice=voice, action=action, actor=actor, outcome=outcome,
        error=error,
    )  # fmt: skip


def _pre_voice(voice: Voice, action: str, actor: Any) -> None:
    """Send ``pre_voice_change``; on cancellation send the ``post_`` with ``cancelled``."""
    try:
        pre_voice_change.send(Voice, voice=voice, action=action, actor=actor)
    except RequestCancelled as exc:
        _post_voice(voice, action, actor, "cancelled", exc)
        raise


_ACTIONS = {Status.APPROVED: Action.APPROVED, Status.REJECTED: Action.REJECTED}


def _decide(consent: VoiceConsent, to: str, actor: Any, note: str) -> VoiceConsent:
    """Move a consent to approved/rejected, registering it upstream on approval."""
    action = _ACTIONS[Status(to)]
    from_status = consent.status
    allowed = {Status.PENDING, Status.REJECTED} if to == Status.APPROVED else {Status.PENDING}
    if from_status not in allowed:
        raise InvalidRequest(
            f"A {from_status} consent cannot be {to}.", param="status", code="invalid_transition"
        )
    _pre_consent(consent, action, actor, from_status, to)
    upstream_id = ""
    if to == Status.APPROVED:
        try:
            upstream_id = _register_upstream(consent)
        except Exception as exc:
            _post_consent(consent, action, actor, from_status, to, "failed", exc)
            raise
    with transaction.atomic():
        consent.status = to
        consent.decided_by = owner_or_none(actor)
        consent.decided_at = timezone.now()
        consent.decision_note = note
        if upstream_id and upstream_id != consent.upstream_id:
            consent.upstream_id = upstream_id
            _event(consent, Action.REGISTERED, actor, note=f"upstream id {upstream_id}")
        consent.save()
        _event(consent, action, actor, from_status=from_status, to_status=to, note=note)
    _post_consent(consent, action, actor, from_status, to, "completed", None)
    return consent


def approve_consent(consent: VoiceConsent, *, actor: Any, note: str = "") -> VoiceConsent:
    """Approve a pending (or previously rejected) consent; staff only."""
    _require_staff(actor, "approve")
    return _decide(consent, Status.APPROVED, actor, note)


def reject_consent(consent: VoiceConsent, *, actor: Any, reason: str = "") -> VoiceConsent:
    """Reject a pending consent; staff only."""
    _require_staff(actor, "reject")
    return _decide(consent, Status.REJECTED, actor, reason)


def revoke_consent(consent: VoiceConsent, *, actor: Any, reason: str = "") -> VoiceConsent:
    """Revoke a consent: its voices stop at once, then are deleted upstream."""
    _require_owner_or_staff(actor, consent, "revoke")
    from_status = consent.status
    if from_status == Status.REVOKED:
        return consent
    _pre_consent(consent, Action.REVOKED, actor, from_status, Status.REVOKED)
    now = timezone.now()
    with transaction.atomic():
        # Lock the row so a concurrent approval cannot undo the revocation.
        VoiceConsent.objects.select_for_update().filter(pk=consent.pk).first()
        consent.status = Status.REVOKED
        consent.decided_by, consent.decided_at = owner_or_none(actor), now
        consent.decision_note = reason
        consent.save()
        _event(
            consent,
            Action.REVOKED,
            actor,
            from_status=from_status,
            to_status=Status.REVOKED,
            note=reason,
        )
        voices = list(consent.voices.filter(status=Voice.Status.ACTIVE))
        consent.voices.filter(status=Voice.Status.ACTIVE).update(
            status=Voice.Status.DISABLED,
            disabled_at=now,
            disabled_reason="consent revoked",
            updated_at=now,
        )
        for voice in voices:
            _event(
                consent,
                Action.VOICE_DISABLED,
                actor,
                from_status=Voice.Status.ACTIVE,
                to_status=Voice.Status.DISABLED,
                note="consent revoked",
                voice=voice,
            )
    # Outside the transaction: local use is already blocked; upstream cleanup is best effort.
    _delete_upstream_voices(consent)
    _delete_upstream_consent(consent)
    _post_consent(consent, Action.REVOKED, actor, from_status, Status.REVOKED, "completed", None)
    return consent


def _delete_upstream_voices(consent: VoiceConsent) -> None:
    for voice in consent.voices.exclude(upstream_id=""):
        _delete_upstream_voice(voice)


def _delete_upstream_voice(voice: Voice) -> bool:
    _, provider = get_provider(voice.provider)
    if not voice.upstream_id or not provider.supports(Capability.VOICES):
        return False
    try:
        provider.delete_voice(voice.upstream_id)
    except Exception as exc:
        logger.warning("Could not delete voice %s upstream: %s", voice.public_id, error_text(exc))
        return False
    return True


def _delete_upstream_consent(consent: VoiceConsent) -> None:
    _, provider = get_provider(consent.provider)
    if not consent.upstream_id or not provider.supports(Capability.VOICE_CONSENTS):
        return
    try:
        provider.delete_voice_consent(consent.upstream_id)
    except Exception as exc:
        logger.warning(
            "Could not delete consent %s upstream: %s", consent.public_id, error_text(exc)
        )


def rename_consent(consent: VoiceConsent, *, name: str, actor: Any) -> VoiceConsent:
    """Change a consent's name (also upstream when registered)."""
    _require_owner_or_staff(actor, consent, "rename")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("Missing required parameter: 'name'.", param="name")
    old = consent.name
    if consent.upstream_id:
        _, provider = get_provider(consent.provider)
        if provider.supports(Capability.VOICE_CONSENTS):
            provider.update_voice_consent(consent.upstream_id, name.strip())
    with transaction.atomic():
        consent.name = name.strip()[:200]
        consent.save(update_fields=["name", "updated_at"])
        _event(consent, Action.RENAMED, actor, note=f"{old} → {consent.name}")
    return consent


def delete_consent(consent: VoiceConsent, *, actor: Any) -> None:
    """Revoke (if needed) and delete a consent, its voices and files; the audit trail stays."""
    _require_owner_or_staff(actor, consent, "delete")
    if consent.status != Status.REVOKED:
        revoke_consent(consent, actor=actor, reason="deleted")
    with transaction.atomic():
        _event(consent, Action.DELETED, actor, from_status=consent.status)
        consent.delete()  # voices cascade; files go once this commits


# --------------------------------------------------------------------------- voices


def _get_consent(owner: Any, consent: VoiceConsent | str) -> VoiceConsent:
    if isinstance(consent, VoiceConsent):
        return consent
    found = VoiceConsent.objects.filter(public_id=consent, **owner_filter(owner)).first()
    if found is None:
        raise NotFound(f"No voice consent with id '{consent}'.", param="consent")
    return found


def create_voice(
    owner: Any,
    *,
    name: str,
    sample: AudioSource,
    consent: VoiceConsent | str,
    actor: Any = None,
) -> Voice:
    """Make a custom voice from ``sample`` under an approved consent of ``owner``."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("Missing required parameter: 'name'.", param="name")
    cons = _get_consent(owner, consent)
    if owner_or_none(owner) is not None and cons.owner_id != owner_or_none(owner).pk:
        raise NotFound(f"No voice consent with id '{cons.public_id}'.", param="consent")
    if not cons.is_approved:
        raise ConsentError(
            f"Voice consent '{cons.public_id}' is {cons.status}; "
            "a voice needs an approved consent.",
            param="consent",
        )
    upload = check_audio(
        sample, param="audio_sample", max_size=audio_settings.MAX_VOICE_SAMPLE_SIZE
    )
    actor = actor if actor is not None else owner
    voice = Voice(
        owner=cons.owner,
        name=name.strip()[:200],
        consent=cons,
        provider=cons.provider,
        **upload.metadata(),
    )
    _pre_voice(voice, Action.VOICE_CREATED, actor)
    _, provider = get_provider(cons.provider)
    registered = ""
    try:
        if provider.supports(Capability.VOICES):
            upstream_consent = _register_upstream(cons)
            if upstream_consent != cons.upstream_id:
                registered = upstream_consent
            obj = provider.create_voice(
                voice.name, upload.audio, upstream_consent or cons.public_id
            )
            voice.upstream_id = obj.id
        names: list[str] = []
        try:
            with atomic_with_files(names):
                names.append(upload.save_to(voice.sample))
                if registered:
                    cons.upstream_id = registered
                    cons.save(update_fields=["upstream_id", "updated_at"])
                    _event(cons, Action.REGISTERED, actor, note=f"upstream id {registered}")
                voice.save()
                _event(
                    cons, Action.VOICE_CREATED, actor, to_status=Voice.Status.ACTIVE, voice=voice
                )
        except Exception:
            _delete_upstream_voice(voice)  # not stored here: do not leave it upstream
            raise
    except Exception as exc:
        _post_voice(voice, Action.VOICE_CREATED, actor, "failed", exc)
        raise
    _post_voice(voice, Action.VOICE_CREATED, actor, "completed", None)
    return voice


def _check_voice_actor(voice: Voice, actor: Any, what: str) -> None:
    user = owner_or_none(actor)
    if user is None or not (user.is_staff or user.pk == voice.owner_id):
        raise ConsentError(
            f"Only the owner or staff can {what} this voice.", code="permission_denied"
        )


def disable_voice(voice: Voice, *, actor: Any, reason: str = "") -> Voice:
    """Stop a voice from speaking (it stays stored)."""
    _check_voice_actor(voice, actor, "disable")
    if voice.status == Voice.Status.DISABLED:
        return voice
    _pre_voice(voice, Action.VOICE_DISABLED, actor)
    with transaction.atomic():
        voice.status = Voice.Status.DISABLED
        voice.disabled_at = timezone.now()
        voice.disabled_reason = reason
        voice.save(update_fields=["status", "disabled_at", "disabled_reason", "updated_at"])
        _event(
            voice.consent,
            Action.VOICE_DISABLED,
            actor,
            from_status=Voice.Status.ACTIVE,
            to_status=Voice.Status.DISABLED,
            note=reason,
            voice=voice,
        )
    _post_voice(voice, Action.VOICE_DISABLED, actor, "completed", None)
    return voice


def delete_voice(voice: Voice, *, actor: Any) -> None:
    """Delete a voice upstream and here; its sample file goes once the deletion commits."""
    _check_voice_actor(voice, actor, "delete")
    _pre_voice(voice, Action.VOICE_DELETED, actor)
    if voice.upstream_id:
        _, provider = get_provider(voice.provider)
        if provider.supports(Capability.VOICES):
            try:
                provider.delete_voice(voice.upstream_id)
            except Exception as exc:
                if getattr(exc, "upstream_status", None) != 404:  # already gone upstream
                    _post_voice(voice, Action.VOICE_DELETED, actor, "failed", exc)
                    raise
    with transaction.atomic():
        _event(voice.consent, Action.VOICE_DELETED, actor, from_status=voice.status, voice=voice)
        voice.delete()
    _post_voice(voice, Action.VOICE_DELETED, actor, "completed", None)


# --------------------------------------------------------------------------- resolving


@dataclass(frozen=True)
class ResolvedVoice:
    """A ``voice`` parameter checked against the rules: a built-in name or a usable voice."""

    name: str
    voice: Voice | None = None

    @property
    def provider_param(self) -> VoiceParam:
        """What the provider is given: the name, or ``{"id": <upstream voice id>}``."""
        if self.voice is None:
            return self.name
        return {"id": self.voice.upstream_id or self.voice.public_id}


def resolve_voice(owner: Any, voice: VoiceParam, param: str = "voice") -> ResolvedVoice:
    """Check a ``voice`` parameter: a built-in name, or one of ``owner``'s usable voices.

    Raises :class:`NotFound` for unknown voices and other users' voices, and
    :class:`ConsentError` for a disabled voice or one whose consent is not approved.
    """
    validate_voice(voice, param)
    vid = voice["id"] if isinstance(voice, Mapping) else voice
    if isinstance(voice, str) and not voice.startswith("voice_"):
        return ResolvedVoice(name=voice)
    found = (
        Voice.objects.select_related("consent").filter(public_id=vid, **owner_filter(owner)).first()
    )
    if found is None:
        raise NotFound(f"No voice with id '{vid}'.", param=param)
    if found.status != Voice.Status.ACTIVE:
        raise ConsentError(f"Voice '{vid}' is disabled.", param=param, code="voice_disabled")
    if not found.consent.is_approved:
        raise ConsentError(
            f"Voice '{vid}' cannot be used: its consent is {found.consent.status}.",
            param=param,
        )
    return ResolvedVoice(name=found.public_id, voice=found)
