"""Reading HTTP API 2.0 events defensively: forms, query strings, the public base URL
(the binding cookie: test_cookies.py)."""

from __future__ import annotations

import base64

import pytest
from ads_connect.handlers import http_common as web
from ads_connect.logic.consent_errors import ConsentFlowError

from .conftest import pages_settings


def test_form_bodies_plain_base64_oversized_and_broken() -> None:
    assert web.form_params({"body": "region=EU&region=NA"}) == {"region": "EU"}
    encoded = base64.b64encode(b"region=FE").decode()
    assert web.form_params({"body": encoded, "isBase64Encoded": True}) == {"region": "FE"}
    for event in (
        {"body": "!!!", "isBase64Encoded": True},
        {"body": base64.b64encode(b"\xff\xfe").decode(), "isBase64Encoded": True},
        {"body": "a=" + "x" * (web.MAX_BODY_BYTES + 1)},
        {"body": {"json": "object"}},
    ):
        with pytest.raises(ConsentFlowError):
            web.form_params(event)


def test_query_strings_keep_the_first_value() -> None:
    assert web.query_params({"rawQueryString": "state=a&state=b&code="}) == {"state": "a", "code": ""}
    assert web.query_params({}) == {}


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("$default", "https://abc.execute-api.example.test"),
        ("prod", "https://abc.execute-api.example.test/prod"),
    ],
)
def test_the_public_base_url_is_derived_from_the_request_when_not_configured(
    stage: str, expected: str
) -> None:
    settings = pages_settings(public_base_url=None)
    event = {"requestContext": {"domainName": "abc.execute-api.example.test", "stage": stage}}
    assert web.public_base_url(event, settings) == expected


def test_a_configured_base_url_wins_and_a_hostile_domain_is_refused() -> None:
    assert web.public_base_url({}, pages_settings(public_base_url="http://localhost:8080/")) == (
        "http://localhost:8080"
    )
    settings = pages_settings(public_base_url=None)
    for domain in ("", "evil.example/x", "a@b", "x?y"):
        with pytest.raises(ConsentFlowError):
            web.public_base_url({"requestContext": {"domainName": domain}}, settings)
