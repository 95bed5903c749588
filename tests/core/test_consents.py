"""Consent rules and the audit trail, enforced by the services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from django_audio import services
from django_audio.exceptions import (
    ConsentError,
    InvalidRequest,
    NotFound,
    RequestCancelled,
    UpstreamServerError,
)
from django_audio.models import ConsentEvent, Voice, VoiceConsent
from django_audio.providers.test import TestProvider
from django_audio.signals import post_consent_change, pre_consent_change
from django_audio.testing.audio import make_wav

from .conftest import stored_files

pytestmark = pytest.mark.django_db


def _trail(consent: VoiceConsent) -> list[tuple[str, str, str, str]]:
    return [
        (e.action, e.from_status, e.to_status, e.actor_name)
        for e in ConsentEvent.objects.filter(consent_public_id=consent.public_id)
    ]


def _approved(user: Any, staff: Any) -> VoiceConsent:
    consent = services.submit_consent(user, name="Ann", recording=make_wav(1.0), language="en-US")
    return services.approve_consent(consent, actor=staff, note="heard it")


def test_submit_is_pending_and_audited(provider: TestProvider, media: Path, user: Any) -> None:
    consent = services.submit_consent(user, name="Ann", recording=make_wav(1.0), language="en")
    consent.refresh_from_db()
    assert consent.status == VoiceConsent.Status.PENDING
    assert consent.public_id.startswith("cons_")
    assert consent.submitted_by == user
    assert consent.recording.read()[:4] == b"RIFF"
    assert _trail(consent) == [("submitted", "", "pending", "alice")]
    assert provider.calls == []  # registered upstream only once approved


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"name": "", "recording": make_wav(0.2), "language": "en"}, "name"),
        ({"name": "Ann", "recording": make_wav(0.2), "language": "english!"}, "language"),
        ({"name": "Ann", "recording": b"GIF89a....", "language": "en"}, "recording"),
    ],
)
def test_bad_submissions_store_nothing(
    provider: TestProvider, media: Path, user: Any, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        services.submit_consent(user, **kwargs)
    assert err.value.param == param
    assert not VoiceConsent.objects.exists()
    assert not ConsentEvent.objects.exists()
    assert stored_files(media) == []


def test_only_staff_approve_and_approval_registers_upstream(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    consent = services.submit_consent(user, name="Ann", recording=make_wav(1.0), language="en")
    with pytest.raises(ConsentError):
        services.approve_consent(consent, actor=user)
    services.approve_consent(consent, actor=staff, note="heard it")
    consent.refresh_from_db()
    assert consent.status == VoiceConsent.Status.APPROVED
    assert consent.decided_by == staff
    assert consent.decision_note == "heard it"
    assert consent.upstream_id in provider.consents
    assert [a for a, *_ in _trail(consent)] == ["submitted", "registered", "approved"]
    assert _trail(consent)[-1] == ("approved", "pending", "approved", "reviewer")


def test_upstream_failure_leaves_consent_pending(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    consent = services.submit_consent(user, name="Ann", recording=make_wav(1.0), language="en")
    provider.fail_next(500, operation="create_voice_consent")
    with pytest.raises(UpstreamServerError):
        services.approve_consent(consent, actor=staff)
    consent.refresh_from_db()
    assert consent.status == VoiceConsent.Status.PENDING
    assert [a for a, *_ in _trail(consent)] == ["submitted"]


def test_reject_then_no_voice(provider: TestProvider, media: Path, user: Any, staff: Any) -> None:
    consent = services.submit_consent(user, name="Ann", recording=make_wav(1.0), language="en")
    services.reject_consent(consent, actor=staff, reason="not the same person")
    assert consent.status == VoiceConsent.Status.REJECTED
    with pytest.raises(ConsentError):
        services.create_voice(user, name="v", sample=make_wav(1.0), consent=consent)
    assert _trail(consent)[-1] == ("rejected", "pending", "rejected", "reviewer")


def test_voice_needs_an_approved_consent(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    consent = services.submit_consent(user, name="Ann", recording=make_wav(1.0), language="en")
    with pytest.raises(ConsentError):
        services.create_voice(user, name="v", sample=make_wav(1.0), consent=consent.public_id)
    assert not Voice.objects.exists()
    services.approve_consent(consent, actor=staff)
    voice = services.create_voice(user, name="Ann's voice", sample=make_wav(1.0), consent=consent)
    assert voice.public_id.startswith("voice_")
    assert voice.upstream_id in provider.voices
    assert voice.status == Voice.Status.ACTIVE
    call = provider.calls_for("create_voice")[0]
    assert call["consent"] == consent.upstream_id
    assert _trail(consent)[-1][0] == "voice_created"


def test_other_users_consent_is_not_found(
    provider: TestProvider, media: Path, user: Any, other: Any, staff: Any
) -> None:
    consent = _approved(user, staff)
    with pytest.raises(NotFound):
        services.create_voice(other, name="v", sample=make_wav(1.0), consent=consent.public_id)
    with pytest.raises(NotFound):
        services.create_voice(other, name="v", sample=make_wav(1.0), consent=consent)


def test_resolve_voice_rules(
    provider: TestProvider, media: Path, user: Any, other: Any, staff: Any
) -> None:
    consent = _approved(user, staff)
    voice = services.create_voice(user, name="v", sample=make_wav(1.0), consent=consent)
    assert services.resolve_voice(user, "alloy").voice is None
    resolved = services.resolve_voice(user, {"id": voice.public_id})
    assert resolved.voice == voice
    assert resolved.provider_param == {"id": voice.upstream_id}
    assert services.resolve_voice(user, voice.public_id).voice == voice
    with pytest.raises(NotFound):
        services.resolve_voice(other, {"id": voice.public_id})
    with pytest.raises(NotFound):
        services.resolve_voice(user, {"id": "voice_doesnotexist"})
    with pytest.raises(InvalidRequest):
        services.resolve_voice(user, {"id": ""})
    services.disable_voice(voice, actor=user, reason="not needed")
    with pytest.raises(ConsentError) as err:
        services.resolve_voice(user, {"id": voice.public_id})
    assert err.value.code == "voice_disabled"


def test_revoke_disables_voices_deletes_upstream_and_blocks_use(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    consent = _approved(user, staff)
    v1 = services.create_voice(user, name="one", sample=make_wav(1.0), consent=consent)
    v2 = services.create_voice(user, name="two", sample=make_wav(1.0), consent=consent)
    services.revoke_consent(consent, actor=user, reason="changed my mind")
    consent.refresh_from_db()
    assert consent.status == VoiceConsent.Status.REVOKED
    for voice in (v1, v2):
        voice.refresh_from_db()
        assert voice.status == Voice.Status.DISABLED
        assert voice.upstream_id not in provider.voices
        with pytest.raises(ConsentError):
            services.resolve_voice(user, {"id": voice.public_id})
    assert consent.upstream_id not in provider.consents
    actions = [a for a, *_ in _trail(consent)]
    assert actions[-3:] == ["revoked", "voice_disabled", "voice_disabled"]
    with pytest.raises(InvalidRequest):
        services.approve_consent(consent, actor=staff)  # revoked is final


def test_revoke_by_a_stranger_is_refused(
    provider: TestProvider, media: Path, user: Any, other: Any, staff: Any
) -> None:
    consent = _approved(user, staff)
    with pytest.raises(ConsentError):
        services.revoke_consent(consent, actor=other)
    consent.refresh_from_db()
    assert consent.status == VoiceConsent.Status.APPROVED


def test_revoke_survives_upstream_failure(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    consent = _approved(user, staff)
    voice = services.create_voice(user, name="one", sample=make_wav(1.0), consent=consent)
    provider.fail_next(500, times=5)
    services.revoke_consent(consent, actor=staff)
    voice.refresh_from_db()
    assert voice.status == Voice.Status.DISABLED  # blocked here even though upstream failed


def test_approval_not_required_setting(
    provider: TestProvider, media: Path, user: Any, settings: Any
) -> None:
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "REQUIRE_CONSENT_APPROVAL": False}
    consent = services.submit_consent(user, name="Ann", recording=make_wav(1.0), language="en")
    assert consent.status == VoiceConsent.Status.APPROVED
    assert _trail(consent)[-1][:3] == ("approved", "pending", "approved")
    assert _trail(consent)[-1][3] == ""  # the system, not a person
    services.create_voice(user, name="v", sample=make_wav(1.0), consent=consent)


def test_rename_and_delete_keep_the_audit_trail(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    consent = _approved(user, staff)
    services.create_voice(user, name="v", sample=make_wav(1.0), consent=consent)
    services.rename_consent(consent, name="Ann B.", actor=user)
    assert provider.consents[consent.upstream_id].name == "Ann B."
    public_id = consent.public_id
    assert len(stored_files(media)) == 2
    services.delete_consent(consent, actor=user)
    assert not VoiceConsent.objects.exists()
    assert not Voice.objects.exists()
    actions = [e.action for e in ConsentEvent.objects.filter(consent_public_id=public_id)]
    assert actions[-4:] == ["renamed", "revoked", "voice_disabled", "deleted"]


@pytest.mark.django_db(transaction=True)
def test_deleted_consent_and_voice_files_leave_storage(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    consent = _approved(user, staff)
    voice = services.create_voice(user, name="v", sample=make_wav(1.0), consent=consent)
    assert len(stored_files(media)) == 2
    services.delete_voice(voice, actor=user)
    assert voice.upstream_id not in provider.voices
    assert len(stored_files(media)) == 1
    services.delete_consent(consent, actor=staff)
    assert stored_files(media) == []


def test_consent_signals(provider: TestProvider, media: Path, user: Any, staff: Any) -> None:
    seen: list[tuple[str, str]] = []

    def veto(sender: Any, action: str, **kw: Any) -> None:
        if action == "approved":
            raise RequestCancelled("Second reviewer required.")

    def after(sender: Any, action: str, outcome: str, **kw: Any) -> None:
        seen.append((action, outcome))

    pre_consent_change.connect(veto)
    post_consent_change.connect(after)
    try:
        consent = services.submit_consent(user, name="Ann", recording=make_wav(1.0), language="en")
        with pytest.raises(RequestCancelled):
            services.approve_consent(consent, actor=staff)
    finally:
        pre_consent_change.disconnect(veto)
        post_consent_change.disconnect(after)
    consent.refresh_from_db()
    assert consent.status == VoiceConsent.Status.PENDING
    assert seen == [("submitted", "completed"), ("approved", "cancelled")]
    assert provider.calls == []
