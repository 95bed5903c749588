"""The OpenAPI schema: generated without warnings, valid, served with browsable docs."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

from .conftest import API, session_client


@pytest.fixture
def no_warnings() -> Any:
    """Fail the test if drf-spectacular reported any warning or error."""
    GENERATOR_STATS.reset()
    yield
    assert not GENERATOR_STATS, "drf-spectacular emitted warnings or errors"


def test_spectacular_validate_fail_on_warn(no_warnings: Any, tmp_path: Any) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    paths = {p for p in schema["paths"] if p.startswith(f"{API}/")}
    assert {
        f"{API}/transcripts/",
        f"{API}/transcripts/{{id}}/",
        f"{API}/transcripts/{{id}}/audio/",
        f"{API}/transcripts/{{id}}/export/{{fmt}}/",
        f"{API}/speech/{{id}}/audio/",
        f"{API}/consents/{{id}}/approve/",
        f"{API}/voices/{{id}}/disable/",
        f"{API}/usage/",
        f"{API}/usage/users/",
    } <= paths
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_served_schema_covers_only_the_mounted_resources(client: Any, no_warnings: Any) -> None:
    response = client.get(f"{API}/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["info"]["title"] == "django-audio REST API"
    assert all(path.startswith(f"{API}/") for path in schema["paths"])
    assert f"{API}/schema/" not in schema["paths"]
    create = schema["paths"][f"{API}/transcripts/"]["post"]
    assert "multipart/form-data" in create["requestBody"]["content"]
    audio = schema["paths"][f"{API}/speech/{{id}}/audio/"]["get"]["responses"]
    assert {"200", "206", "416"} <= set(audio)
    from drf_spectacular.validation import validate_schema

    validate_schema(schema)
    yaml_response = client.get(f"{API}/schema/")
    assert yaml.safe_load(io.BytesIO(yaml_response.content))["openapi"].startswith("3.")


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_browsable_docs(client: Any, page: str) -> None:
    response = client.get(f"{API}/{page}/")
    assert response.status_code == 200
    assert f"{API}/schema/".encode() in response.content


def test_errors_are_documented_in_the_openai_shape(client: Any) -> None:
    schema = json.loads(client.get(f"{API}/schema/", {"format": "json"}).content)
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"message", "type", "param", "code"}
    create = schema["paths"][f"{API}/transcripts/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "429", "502"} <= set(create)
    approve = schema["paths"][f"{API}/consents/{{id}}/approve/"]["post"]["responses"]
    assert {"403", "404"} <= set(approve)


def test_browsable_api(alice: Any) -> None:
    response = session_client(alice).get(f"{API}/transcripts/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"Transcript" in response.content
