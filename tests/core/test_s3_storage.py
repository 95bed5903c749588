"""Audio on S3 through django-storages, against a local moto S3 server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

from django_audio import services  # noqa: E402
from django_audio.models import SpeechAsset, Transcript  # noqa: E402
from django_audio.providers.test import TestProvider  # noqa: E402
from django_audio.testing.audio import make_wav  # noqa: E402

BUCKET = "django-audio-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 (free port) for this module."""
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """STORAGES gains an ``audio`` S3 alias and DJANGO_AUDIO points at it."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "audio": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "file_overwrite": False,
            },
        },
    }
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "STORAGE": "audio"}
    yield client
    objects = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for obj in objects:
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client: Any) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.mark.django_db(transaction=True)
def test_files_land_in_s3_and_are_deleted_there(s3: Any, provider: TestProvider, user: Any) -> None:
    wav = make_wav(1.0)
    row = services.transcribe(user, wav, model="whisper-1").transcript
    clip = services.synthesize(user, input="Stored on S3.", voice="alloy", model="tts-1").asset
    keys = _keys(s3)
    assert keys == sorted([row.audio.name, clip.audio.name])
    assert keys[0].startswith("django_audio/")
    body = s3.get_object(Bucket=BUCKET, Key=row.audio.name)["Body"].read()
    assert body == wav
    assert Transcript.objects.get(pk=row.pk).audio.read() == wav  # read back through Django

    # A failed upstream call keeps the upload in S3 too.
    provider.fail_next(500)
    with pytest.raises(Exception):
        services.transcribe(user, wav, model="whisper-1")
    assert len(_keys(s3)) == 3

    Transcript.objects.all().delete()
    SpeechAsset.objects.filter(pk=clip.pk).delete()
    assert _keys(s3) == []


@pytest.mark.django_db(transaction=True)
def test_refused_upload_leaves_no_object(s3: Any, provider: TestProvider, user: Any) -> None:
    from django_audio.exceptions import InvalidRequest

    with pytest.raises(InvalidRequest):
        services.transcribe(user, b"<?xml version='1.0'?><svg/>", model="whisper-1")
    assert _keys(s3) == []
