"""Pages: escaping by construction, one layout, security headers, hashed inline style."""

from __future__ import annotations

import base64
import hashlib
import re

from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.models.consent import ResultProfile
from ads_connect.models.records import AccessLevel
from ads_connect.pages.errors import failure_page
from ads_connect.pages.render import STYLE, Markup, escape, security_headers
from ads_connect.pages.views import error_page, landing_page, success_page
from ads_connect.regions import Region

PAYLOAD = "<script>alert('x')</script>\"&"


def test_every_substituted_value_is_escaped() -> None:
    page = landing_page(
        app_name=PAYLOAD, tenant_label=PAYLOAD, action=PAYLOAD, fixed_region=None, expires=PAYLOAD
    )
    assert "<script>" not in page.body and "&lt;script&gt;" in page.body
    profiles = [ResultProfile(profile_id="1", name=PAYLOAD, country_code=PAYLOAD, account_type=PAYLOAD)]
    success = success_page(
        app_name="A", tenant_label=PAYLOAD, region=Region.EU, profiles=profiles, reason=None, view_only=False
    )
    assert "<script>" not in success.body
    error = error_page(status=400, heading=PAYLOAD, message=PAYLOAD, reference=PAYLOAD, hint=PAYLOAD)
    assert "<script>" not in error.body


def test_markup_passes_through_and_plain_text_does_not() -> None:
    assert escape(Markup("<b>ok</b>")) == "<b>ok</b>"
    assert escape("<b>") == "&lt;b&gt;"
    assert escape(None) == ""


def test_landing_page_offers_each_region_unless_fixed() -> None:
    choose = landing_page(app_name="A", tenant_label="T", action="/c", fixed_region=None, expires="e").body
    assert all(f'value="{r.value}"' in choose for r in Region) and choose.count('type="radio"') == 3
    fixed = landing_page(
        app_name="A", tenant_label="T", action="/c", fixed_region=Region.FE, expires="e"
    ).body
    assert 'type="radio"' not in fixed and 'value="FE"' in fixed


def test_success_page_lists_profiles_or_explains_why_there_are_none() -> None:
    listed = success_page(
        app_name="A",
        tenant_label="T",
        region=Region.NA,
        view_only=True,
        reason=None,
        profiles=[
            ResultProfile(
                profile_id="9",
                name="Shop",
                country_code="US",
                account_type="seller",
                access_level=AccessLevel.VIEW,
            )
        ],
    )
    assert "Shop" in listed.body and "view-only" in listed.body and ">view<" in listed.body
    empty = success_page(
        app_name="A", tenant_label="T", region=Region.NA, view_only=False, reason="no campaigns", profiles=[]
    )
    assert "No advertising profiles yet" in empty.body and "no campaigns" in empty.body


def test_security_headers_allow_only_the_hashed_style_and_the_given_form_targets() -> None:
    headers = security_headers(("https://www.amazon.com",))
    csp = headers["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self' https://www.amazon.com" in csp
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    assert (
        headers["X-Content-Type-Options"] == "nosniff" and "max-age" in headers["Strict-Transport-Security"]
    )


def test_every_failure_kind_has_a_page_with_its_reference_and_no_5xx_for_input_errors() -> None:
    input_kinds = {
        FailureKind.SESSION_UNKNOWN,
        FailureKind.SESSION_EXPIRED,
        FailureKind.SESSION_USED,
        FailureKind.INVALID_REGION,
        FailureKind.STATE_MISSING,
        FailureKind.STATE_UNKNOWN,
        FailureKind.STATE_EXPIRED,
        FailureKind.STATE_OTHER_BROWSER,
        FailureKind.RESULT_UNKNOWN,
        FailureKind.BAD_REQUEST,
        FailureKind.NOT_FOUND,
        FailureKind.METHOD_NOT_ALLOWED,
    }
    for kind in FailureKind:
        page = failure_page(ConsentFlowError(kind), "ref123")
        assert "ref123" in page.body and re.search(r"<h1>.+</h1>", page.body)
        if kind in input_kinds:
            assert 400 <= page.status < 500


def test_only_documented_oauth_errors_are_shown() -> None:
    shown = failure_page(ConsentFlowError(FailureKind.AMAZON_ERROR, oauth_error="server_error"), "r")
    assert "server_error" in shown.body
    hidden = failure_page(ConsentFlowError(FailureKind.AMAZON_ERROR, oauth_error="<img src=x>"), "r")
    assert "img" not in hidden.body
