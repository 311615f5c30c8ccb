"""Pages: one layout, escaping by construction, security headers in one place."""

from __future__ import annotations

import base64
import hashlib
import re
from string import Template

import pytest
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.models.consent import ResultProfile
from ads_connect.models.records import AccessLevel
from ads_connect.pages.errors import failure_page
from ads_connect.pages.render import STYLE, Markup, escape, render, security_headers
from ads_connect.pages.views import landing_page, success_page
from ads_connect.regions import REGION_LABELS, Region

HOSTILE = "<script>alert('x')</script>\"&"


def test_every_substitution_is_escaped_unless_marked_safe() -> None:
    out = render(Template("<p>$a</p>$b"), a=HOSTILE, b=Markup("<em>ok</em>"))
    assert "<script>" not in out and "&lt;script&gt;" in out and "&quot;" in out and "&#x27;" in out
    assert "<em>ok</em>" in out
    assert escape(None) == "" and escape(escape("<")) == "&lt;"  # never double-escaped


def test_the_landing_page_names_the_app_and_tenant_escaped_and_offers_every_region() -> None:
    page = landing_page(
        app_name=HOSTILE,
        tenant_label=HOSTILE,
        action="/connect/x",
        fixed_region=None,
        expires="soon",
        form_token="t" * 64,
    )
    assert page.status == 200 and "<script>" not in page.body
    assert page.body.count("&lt;script&gt;") >= 3  # title, app, tenant
    for region in Region:
        assert f'value="{region.value}"' in page.body and REGION_LABELS[region] in page.body
    assert '<html lang="en">' in page.body and "<legend>" in page.body and "<label>" in page.body
    assert "What will be shared" in page.body and 'method="post"' in page.body


def test_a_fixed_region_is_shown_not_offered() -> None:
    page = landing_page(
        app_name="A", tenant_label="T", action="/c", fixed_region=Region.FE, expires="e", form_token="t"
    )
    assert 'type="radio"' not in page.body and 'type="hidden" name="region" value="FE"' in page.body


def test_the_success_page_lists_profiles_or_explains_none() -> None:
    profiles = [
        ResultProfile(
            profile_id="123",
            name=HOSTILE,
            country_code="US",
            account_type="seller",
            access_level=AccessLevel.VIEW,
        )
    ]
    page = success_page(
        app_name="A", tenant_label="T", region=Region.NA, profiles=profiles, reason=None, view_only=True
    )
    assert "<script>" not in page.body and "&lt;script&gt;" in page.body
    assert all(h in page.body for h in ("Account", "Marketplace", "Type", "Access", ">view<", ">US<"))
    assert "view-only" in page.body
    empty = success_page(
        app_name="A", tenant_label="T", region=Region.EU, profiles=[], reason=HOSTILE, view_only=False
    )
    assert "No advertising profiles yet" in empty.body and "<script>" not in empty.body


@pytest.mark.parametrize("kind", list(FailureKind))
def test_every_failure_has_a_friendly_escaped_page_with_the_reference(kind: FailureKind) -> None:
    page = failure_page(ConsentFlowError(kind, oauth_error="server_error"), "ref123abc")
    assert 400 <= page.status < 600
    assert "ref123abc" in page.body and "Reference:" in page.body and "<h1>" in page.body
    assert "Traceback" not in page.body


def test_only_documented_oauth_codes_reach_a_page() -> None:
    page = failure_page(ConsentFlowError(FailureKind.AMAZON_ERROR, oauth_error="<i>x</i>"), "r")
    assert "<i>" not in page.body and "&lt;i&gt;" not in page.body
    page = failure_page(ConsentFlowError(FailureKind.AMAZON_ERROR, oauth_error="server_error"), "r")
    assert "server_error" in page.body


def test_invalid_scope_is_explained_for_the_operator() -> None:
    page = failure_page(ConsentFlowError(FailureKind.APP_NOT_APPROVED, oauth_error="invalid_scope"), "r")
    assert "not approved" in page.body and "Ads API" in page.body and "Security Profile" in page.body


def test_security_headers_hash_the_one_inline_style_and_allow_no_script() -> None:
    headers = security_headers(("https://www.amazon.com",))
    csp = headers["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert csp.startswith("default-src 'none'") and "script-src" not in csp and "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self' https://www.amazon.com" in csp
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_carry_no_script_and_no_third_party_resource() -> None:
    page = landing_page(
        app_name="A", tenant_label="T", action="/c", fixed_region=None, expires="e", form_token="t"
    )
    assert "<script" not in page.body and not re.search(r"(src|href)=\"https?://", page.body)
    # the style in the page is exactly the hashed one
    (inline,) = re.findall(r"<style>(.*?)</style>", page.body, re.S)
    assert inline == STYLE
