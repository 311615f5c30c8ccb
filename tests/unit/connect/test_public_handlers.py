"""The consent and callback handlers with in-memory dependencies: routing, the last-resort page,
the reference id shared by page and log line, the metric."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from ads_connect.handlers import callback, consent, dependencies, http_common
from ads_connect.handlers.dependencies import PublicDependencies
from ads_connect.models.brand import DEFAULT_DISPLAY_NAME

from tests.fakes.amazon import FAKE_ACCESS_TOKEN, FAKE_REFRESH_TOKEN
from tests.fakes.browser import PUBLIC_BASE, SAME_ORIGIN_FORM_HEADERS, public_event
from tests.fakes.http_api import FakeLambdaContext

from .conftest import CLIENT, World


@pytest.fixture
def wired(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    deps = PublicDependencies(callback=world.deps)
    monkeypatch.setattr(consent, "public_dependencies", lambda: deps)
    monkeypatch.setattr(callback, "public_dependencies", lambda: deps)
    monkeypatch.setattr(http_common, "page_brand", lambda: world.settings.brand)
    return world


def _get(
    path: str,
    *,
    query: str = "",
    cookies: list[str] | None = None,
    headers: dict[str, str] | None = None,
    **params: str,
) -> dict[str, Any]:
    handler = consent.handler if path.startswith("/connect/") else callback.handler
    event = public_event(
        "GET",
        path,
        query=query,
        cookies=cookies,
        route_key=f"GET {path}",
        path_parameters=params,
        headers=headers,
    )
    return handler(event, FakeLambdaContext())


def _post(
    session_id: str,
    body: str,
    cookies: list[str] | None = None,
    headers: dict[str, str] = SAME_ORIGIN_FORM_HEADERS,
) -> dict[str, Any]:
    event = public_event(
        "POST",
        f"/connect/{session_id}",
        body=body,
        cookies=cookies,
        route_key="POST /connect/{session_id}",
        path_parameters={"session_id": session_id},
        headers=headers,
    )
    return consent.handler(event, FakeLambdaContext())


def _landing_form(session_id: str, cookies: list[str] | None = None) -> tuple[str, list[str]]:
    """GET the landing page as a browser: (the form's token, the cookies the browser now has)."""
    landing = _get(f"/connect/{session_id}", cookies=cookies, session_id=session_id)
    token = landing["body"].split('name="form_token" value="', 1)[1].split('"', 1)[0]
    kept = cookies or [c.split(";", 1)[0] for c in landing.get("cookies", [])]
    return token, kept


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
        {"sec-fetch-site": "same-site", "origin": "https://sub.connect.example.test"},
        {"sec-fetch-site": "cross-site", "origin": PUBLIC_BASE},  # the browser's word wins
        {"origin": "null"},
        {},
    ],
    ids=["cross-site", "same-site", "forged-origin", "null-origin", "no-headers"],
)
def test_a_flow_started_from_another_sites_form_starts_nothing(wired: World, headers: dict[str, str]) -> None:
    # Given another site's form posting for a session, with the visitor's own binding cookie
    session_id = wired.session()
    _, cookies = _landing_form(session_id)
    page = _post(session_id, urlencode({"region": "NA"}), cookies=cookies, headers=headers)
    assert page["statusCode"] == 403 and "Please start from the connection page" in page["body"]
    assert "cookies" not in page and wired.consent_store.states == {}


def test_without_fetch_metadata_only_the_pages_own_token_for_this_browser_is_accepted(
    wired: World,
) -> None:
    session_id, other_session = wired.session(), wired.session()
    token, cookies = _landing_form(session_id)
    other_token, other_cookies = _landing_form(session_id)  # another browser's page
    wrong = [
        ({"region": "NA"}, cookies),  # no token
        ({"region": "NA", "form_token": other_token}, cookies),  # another browser's token
        ({"region": "NA", "form_token": token}, other_cookies),  # this token, another browser
        ({"region": "NA", "form_token": token}, []),  # no binding cookie
        ({"region": "NA", "form_token": _landing_form(other_session, cookies)[0]}, cookies),
    ]
    for form, jar in wrong:
        assert _post(session_id, urlencode(form), cookies=jar, headers={})["statusCode"] == 403
    assert wired.consent_store.states == {}
    started = _post(session_id, urlencode({"region": "NA", "form_token": token}), cookies=cookies, headers={})
    assert started["statusCode"] == 302 and len(wired.consent_store.states) == 1


def test_the_landing_page_binds_the_browser_once(wired: World) -> None:
    session_id = wired.session()
    first = _get(f"/connect/{session_id}", session_id=session_id)
    (cookie,) = first["cookies"]
    assert cookie.startswith("__Host-") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    again = _get(f"/connect/{session_id}", cookies=[cookie.split(";", 1)[0]], session_id=session_id)
    assert "cookies" not in again  # an existing binding is kept (two tabs stay valid)


def test_the_landing_pages_own_form_starts_the_flow(wired: World) -> None:
    started = _post(wired.session(), urlencode({"region": "NA"}), headers={"sec-fetch-site": "same-origin"})
    assert started["statusCode"] == 302 and len(wired.consent_store.states) == 1


def test_the_whole_walk_through_both_handlers(
    wired: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    session_id = wired.session(display_name="Acme & Co")
    landing = _get(f"/connect/{session_id}", session_id=session_id)
    assert landing["statusCode"] == 200 and "Acme &amp; Co" in landing["body"]
    # the landing page's form may lead to every region's Amazon host (the 302 after the POST)
    assert "https://eu.account.amazon.com" in landing["headers"]["Content-Security-Policy"]
    started = _post(session_id, urlencode({"region": "NA"}))
    assert started["statusCode"] == 302
    cookie = started["cookies"][0].split(";", 1)[0]
    state = dict(p.split("=", 1) for p in urlsplit(started["headers"]["Location"]).query.split("&"))["state"]
    done = _get("/callback", query=urlencode({"code": "fake-code", "state": state}), cookies=[cookie])
    assert done["statusCode"] == 303 and "/result/" in done["headers"]["Location"]
    result_id = done["headers"]["Location"].rsplit("/", 1)[1]
    page = _get(f"/result/{result_id}", cookies=[cookie], result_id=result_id)
    assert page["statusCode"] == 200 and "Shop US" in page["body"]
    out = capsys.readouterr().out
    assert '"ConnectionsAuthorized"' in out and '"AmazonAdsConnect"' in out
    for secret in ("fake-code", FAKE_ACCESS_TOKEN, FAKE_REFRESH_TOKEN, CLIENT.client_secret):
        assert (
            secret not in out
            and secret not in caplog.text
            and all(secret not in json.dumps(r) for r in (started, done, page))
        )


def test_an_unexpected_exception_is_logged_with_the_reference_shown_on_the_page(
    wired: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = wired.session()

    def broken(*_: object) -> None:
        # botocore's ParamValidationError quotes parameter values like this: never logged.
        raise RuntimeError("the table is on fire, SecretString='Atzr|planted-value'")

    monkeypatch.setattr(wired.consent_store, "get_session", broken)
    page = _get(f"/connect/{session_id}", session_id=session_id)
    assert page["statusCode"] == 503 and "Something went wrong" in page["body"]
    assert "on fire" not in page["body"] and "Traceback" not in page["body"]
    reference = page["body"].split('class="ref">', 1)[1].split("<", 1)[0]
    (record,) = [r for r in caplog.records if getattr(r, "reference", None) == reference]
    assert record.levelname == "ERROR" and record.exc_info is None
    assert getattr(record, "error_type", None) == "RuntimeError"
    assert any("in broken" in frame for frame in getattr(record, "stack", []))
    assert "planted-value" not in caplog.text and "on fire" not in caplog.text


def test_every_expected_failure_page_logs_its_kind_and_reference(
    wired: World, caplog: pytest.LogCaptureFixture
) -> None:
    page = _get("/callback", query="error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E")
    assert page["statusCode"] == 400  # no state: nothing proves this browser started a flow
    reference = page["body"].split('class="ref">', 1)[1].split("<", 1)[0]
    (record,) = [r for r in caplog.records if getattr(r, "reference", None) == reference]
    assert record.failure == "state_missing"  # type: ignore[attr-defined]
    assert "<b>" not in caplog.text


@pytest.mark.parametrize(
    ("handler", "method", "path", "status"),
    [
        ("consent", "PUT", "/connect/x", 405),
        ("consent", "DELETE", "/connect/x", 405),
        ("callback", "POST", "/callback", 405),
        ("callback", "GET", "/elsewhere", 404),
        ("callback", "GET", "/result/", 404),
    ],
)
def test_unknown_methods_and_paths_get_a_page_not_a_crash(
    wired: World, handler: str, method: str, path: str, status: int
) -> None:
    event = public_event(method, path, route_key=f"{method} {path}")
    response = (consent if handler == "consent" else callback).handler(event, FakeLambdaContext())
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert response["headers"]["Cache-Control"] == "no-store"


def test_a_garbage_event_still_gets_the_generic_page(wired: World) -> None:
    for event in ({}, {"requestContext": "x"}, {"requestContext": {"http": []}, "rawPath": 5}):
        for handler in (consent.handler, callback.handler):
            response = handler(event, FakeLambdaContext())
            assert 400 <= response["statusCode"] < 600 and "Reference:" in response["body"]


ACCEPT_LANGUAGES = [
    None,
    "de-DE,de;q=0.9,en;q=0.8",
    "ja",
    "fr;q=0.1, it",
    "es;q=0, <script>alert(1)</script>",
    "x" * 5000,
]


def _without_language(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "Content-Language"}


def test_the_language_changes_the_words_never_the_headers_or_the_outcome(wired: World) -> None:
    # Given one advertiser's browser in each language
    seen: dict[str, list[Any]] = {"landing": [], "unknown": [], "start": [], "language": []}
    for accept in ACCEPT_LANGUAGES:
        headers = {"accept-language": accept} if accept is not None else None
        session_id = wired.session()
        landing = _get(f"/connect/{session_id}", headers=headers, session_id=session_id)
        unknown = _get("/connect/nope", headers=headers, session_id="nope")
        token = landing["body"].split('name="form_token" value="', 1)[1].split('"', 1)[0]
        cookie = landing["cookies"][0].split(";", 1)[0]
        start = _post(
            session_id,
            urlencode({"region": "EU", "form_token": token}),
            cookies=[cookie],
            headers={**SAME_ORIGIN_FORM_HEADERS, **(headers or {})},
        )
        seen["landing"].append((landing["statusCode"], _without_language(landing["headers"])))
        seen["unknown"].append((unknown["statusCode"], _without_language(unknown["headers"])))
        location = urlsplit(start["headers"]["Location"])
        seen["start"].append((start["statusCode"], location.netloc, location.path, len(start["cookies"])))
        seen["language"].append(landing["headers"]["Content-Language"])
        assert f'<html lang="{landing["headers"]["Content-Language"]}">' in landing["body"]
        assert "<script>" not in landing["body"] + unknown["body"]
    # Then the words follow the browser, and everything else is the same in every language
    assert seen["language"] == ["en", "de", "ja", "it", "en", "en"]
    for what in ("landing", "unknown", "start"):
        assert all(entry == seen[what][0] for entry in seen[what]), what
    assert seen["landing"][0][0] == 200 and seen["unknown"][0][0] == 404 and seen["start"][0][0] == 302


def test_a_german_browser_gets_the_error_page_in_german_with_whom_to_ask(wired: World) -> None:
    page = _get("/connect/nope", headers={"accept-language": "de-DE,de;q=0.9"}, session_id="nope")
    assert page["statusCode"] == 404 and '<html lang="de">' in page["body"]
    assert "Dieser Link ist ungültig" in page["body"]
    assert 'Hilfe erhalten Sie bei <a href="mailto:support@acme.example">' in page["body"]


def test_broken_page_settings_still_give_an_error_page_without_the_brand(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a function whose brand settings are malformed (the stack never writes these)
    dependencies.reset()
    monkeypatch.setenv("ADS_CONNECT_BRAND_ACCENT_COLOR", "#ffff00")
    try:
        page = consent.handler(
            public_event("GET", "/connect/x", route_key="GET /connect/x"), FakeLambdaContext()
        )
    finally:
        dependencies.reset()
    assert page["statusCode"] == 503 and "Something went wrong" in page["body"]
    assert DEFAULT_DISPLAY_NAME in page["body"] and "#ffff00" not in page["body"]
    assert any("page settings are invalid" in r.getMessage() for r in caplog.records)
