"""Pages: one layout, escaping by construction, security headers in one place, the operator's
brand and the visitor's language."""

from __future__ import annotations

import base64
import hashlib
import re
from string import Template

import pytest
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.logic.profiles import REASON_EMPTY, REASON_FORBIDDEN
from ads_connect.models.brand import Brand, logo_data_uri
from ads_connect.models.consent import ResultProfile
from ads_connect.models.records import AccessLevel, ProfilesState
from ads_connect.models.strict import RecordError
from ads_connect.pages.errors import failure_page
from ads_connect.pages.render import Markup, escape, render, security_headers, stylesheet
from ads_connect.pages.text import REGION_NAMES, Language
from ads_connect.pages.views import PageContext, landing_page, region_label, success_page
from ads_connect.regions import REGIONS, Region
from hypothesis import given, settings
from hypothesis import strategies as st

HOSTILE = "<script>alert('x')</script>\"&"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
BRAND = Brand(display_name="Acme Reports", accent_color="#0b6e4f", support_contact="help@acme.example")
EN = PageContext(BRAND, Language.EN)


def _landing(context: PageContext = EN, **overrides: object) -> str:
    values: dict[str, object] = {
        "tenant_label": "T",
        "action": "/connect/x",
        "fixed_region": None,
        "expires": "2026-01-01 10:00 UTC",
        "form_token": "t" * 64,
    }
    values.update(overrides)
    return landing_page(context, **values).body  # type: ignore[arg-type]


def _profiles(name: str = "Shop") -> list[ResultProfile]:
    return [
        ResultProfile(
            profile_id="9007199254741093",
            name=name,
            country_code="US",
            account_type="seller",
            access_level=AccessLevel.VIEW,
        )
    ]


def test_every_substitution_is_escaped_unless_marked_safe() -> None:
    out = render(Template("<p>$a</p>$b"), a=HOSTILE, b=Markup("<em>ok</em>"))
    assert "<script>" not in out and "&lt;script&gt;" in out and "&quot;" in out and "&#x27;" in out
    assert "<em>ok</em>" in out
    assert escape(None) == "" and escape(escape("<")) == "&lt;"  # never double-escaped


def test_the_landing_page_names_the_app_and_tenant_escaped_and_offers_every_region() -> None:
    body = _landing(PageContext(Brand(display_name=HOSTILE), Language.EN), tenant_label=HOSTILE)
    assert "<script>" not in body
    assert body.count("&lt;script&gt;") >= 4  # title, header, intro (app, tenant), privacy note
    for region in Region:
        assert f'value="{region.value}"' in body
        assert escape(region_label(region, Language.EN)) in body
    assert '<html lang="en">' in body and "<legend>" in body and "<label>" in body
    assert "What will be shared" in body and 'method="post"' in body


def test_region_labels_name_the_region_in_the_language_and_list_the_tables_marketplaces() -> None:
    label = region_label(Region.EU, Language.DE)
    assert label.startswith(REGION_NAMES[Region.EU][Language.DE])
    assert label.endswith(f"({', '.join(REGIONS[Region.EU].marketplaces)})")
    assert region_label(Region.FE, Language.JA).startswith("極東 (")


def test_a_fixed_region_is_shown_not_offered() -> None:
    body = _landing(fixed_region=Region.FE)
    assert 'type="radio"' not in body and 'type="hidden" name="region" value="FE"' in body
    assert "Far East" in body


def test_the_success_page_lists_profiles_with_a_label_on_every_cell() -> None:
    page = success_page(
        EN,
        tenant_label="T",
        region=Region.NA,
        profiles=_profiles(HOSTILE),
        profiles_state=ProfilesState.OK,
        reason=None,
        view_only=True,
    )
    assert "<script>" not in page.body and "&lt;script&gt;" in page.body
    assert all(h in page.body for h in ("Account", "Marketplace", "Type", "Access", ">view<", ">US<"))
    assert "view-only" in page.body and "9007199254741093" in page.body
    # On a phone every value is shown under its column's name (stacked rows)
    cells = re.findall(r"<td data-label=\"([^\"]+)\">", page.body)
    assert cells == ["Account", "Marketplace", "Type", "Access", "Profile id"]


@pytest.mark.parametrize(
    ("state", "reason", "expected"),
    [
        (ProfilesState.EMPTY, REASON_EMPTY, "Profile erscheinen erst nach der ersten Kampagne"),
        (ProfilesState.PENDING, REASON_FORBIDDEN, "bis zu einer Stunde"),
        (ProfilesState.PENDING, HOSTILE, "werden noch ermittelt"),  # a reason the pages do not know
        (ProfilesState.EMPTY, None, "Profile erscheinen erst"),
    ],
)
def test_without_profiles_the_reason_is_explained_in_the_visitors_language(
    state: ProfilesState, reason: str | None, expected: str
) -> None:
    page = success_page(
        PageContext(BRAND, Language.DE),
        tenant_label="T",
        region=Region.EU,
        profiles=[],
        profiles_state=state,
        reason=reason,
        view_only=False,
    )
    assert "Noch keine Werbeprofile" in page.body and expected in page.body
    assert "<script>" not in page.body and "alert" not in page.body


@pytest.mark.parametrize("kind", list(FailureKind))
@pytest.mark.parametrize("language", list(Language))
def test_every_failure_has_a_friendly_page_with_the_reference_and_whom_to_ask(
    kind: FailureKind, language: Language
) -> None:
    page = failure_page(
        ConsentFlowError(kind, oauth_error="server_error"), "ref123abc", PageContext(BRAND, language)
    )
    assert 400 <= page.status < 600
    assert '<span class="ref">ref123abc</span>' in page.body and "<h1>" in page.body
    assert '<a href="mailto:help@acme.example">help@acme.example</a>' in page.body
    assert f'<html lang="{language.value}">' in page.body and page.language is language
    assert "Traceback" not in page.body and "$" not in page.body  # every placeholder was filled


def test_the_status_of_a_failure_does_not_depend_on_the_language() -> None:
    for kind in FailureKind:
        statuses = {
            failure_page(ConsentFlowError(kind), "r", PageContext(BRAND, language)).status
            for language in Language
        }
        assert len(statuses) == 1, kind


def test_a_url_support_contact_is_linked_as_it_is_and_none_falls_back_to_the_plain_words() -> None:
    web = PageContext(
        Brand(display_name="A", support_contact="https://help.acme.example/ads?x=1&y=2"), Language.EN
    )
    page = failure_page(ConsentFlowError(FailureKind.SESSION_EXPIRED), "r", web)
    assert '<a href="https://help.acme.example/ads?x=1&amp;y=2">' in page.body
    bare = failure_page(
        ConsentFlowError(FailureKind.SESSION_EXPIRED), "r", PageContext(Brand(display_name="A"), EN.language)
    )
    assert "Quote it if you contact support." in bare.body and "<a " not in bare.body


def test_landing_and_result_pages_name_the_support_contact_in_their_footer() -> None:
    assert '<footer>Questions? Contact <a href="mailto:help@acme.example">' in _landing()
    assert "<footer>Fragen?" in _landing(PageContext(BRAND, Language.DE))


def test_only_documented_oauth_codes_reach_a_page() -> None:
    page = failure_page(ConsentFlowError(FailureKind.AMAZON_ERROR, oauth_error="<i>x</i>"), "r", EN)
    assert "<i>" not in page.body and "&lt;i&gt;" not in page.body
    page = failure_page(ConsentFlowError(FailureKind.AMAZON_ERROR, oauth_error="server_error"), "r", EN)
    assert "Amazon returned an error. (error code: server_error)" in page.body


def test_invalid_scope_is_explained_for_the_operator() -> None:
    page = failure_page(ConsentFlowError(FailureKind.APP_NOT_APPROVED, oauth_error="invalid_scope"), "r", EN)
    assert "not approved" in page.body and "Ads API" in page.body and "Security Profile" in page.body


def test_security_headers_hash_the_one_inline_style_and_allow_no_script() -> None:
    sheet = stylesheet("#0b6e4f")
    headers = security_headers(sheet.sha256, form_targets=("https://www.amazon.com",))
    csp = headers["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(sheet.css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp and "img-src 'none'" in csp
    assert csp.startswith("default-src 'none'") and "script-src" not in csp and "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self' https://www.amazon.com" in csp
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "img-src data:;" in security_headers(sheet.sha256, images=True)["Content-Security-Policy"]


def test_the_accent_colour_is_in_the_hashed_style_and_nowhere_else() -> None:
    body = _landing()
    (inline,) = re.findall(r"<style>(.*?)</style>", body, re.S)
    assert inline == stylesheet("#0b6e4f").css and "#0b6e4f" in inline
    assert body.count("#0b6e4f") == inline.count("#0b6e4f")
    assert stylesheet("#0b6e4f").sha256 != stylesheet("#146eb4").sha256


def test_the_logo_is_embedded_as_a_data_uri_and_the_name_is_written_beside_it() -> None:
    logo = logo_data_uri(PNG)
    page = landing_page(
        PageContext(Brand(display_name="Acme", logo=logo), Language.EN),
        tenant_label="T",
        action="/c",
        fixed_region=None,
        expires="e",
        form_token="t",
    )
    assert page.has_images
    assert f'<header><img src="{logo}" alt=""><span class="brand-name">Acme</span></header>' in page.body
    assert not _landing_has_images()


def _landing_has_images() -> bool:
    return landing_page(
        EN, tenant_label="T", action="/c", fixed_region=None, expires="e", form_token="t"
    ).has_images


def test_pages_carry_no_script_and_no_third_party_resource() -> None:
    body = _landing(PageContext(Brand(display_name="A", logo=logo_data_uri(PNG)), Language.EN))
    assert "<script" not in body
    # Only data: images; the only absolute URLs are links a person may follow (the support contact)
    assert re.findall(r"src=\"([a-z]+):", body) == ["data"]
    assert not re.search(r"<(link|iframe|object|embed|base)\b", body)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=1, max_size=80),
    contact=st.one_of(
        st.emails(), st.text(max_size=60), st.builds(lambda p: f"https://help.example/{p}", st.text())
    ),
    tenant=st.text(max_size=60),
    language=st.sampled_from(list(Language)),
)
def test_any_brand_and_tenant_render_escaped_or_are_refused(
    name: str, contact: str, tenant: str, language: Language
) -> None:
    # Given a brand the settings accept (anything else is refused before a page exists)
    try:
        brand = Brand(display_name=name, support_contact=contact)
    except RecordError:
        return
    context = PageContext(brand, language)
    pages = [
        _landing(context, tenant_label=tenant),
        failure_page(ConsentFlowError(FailureKind.INTERNAL), "r", context).body,
    ]
    for body in pages:
        # Then what was substituted appears only escaped: the markup is the layout's own
        text_only = re.sub(
            r"<(/?)(html|head|meta|title|style|body|div|header|span|main|footer|h1|h2|p|ul|li|"
            r"strong|form|input|fieldset|legend|label|button|a)\b[^<>]*>",
            "",
            body.split("</style>")[1],
        )
        assert "<" not in text_only and ">" not in text_only
        if brand.support_href is not None:  # an empty contact is none at all
            assert f'href="{escape(brand.support_href)}"' in body


@pytest.mark.parametrize("address", ["help?subject=x@acme.example", "a#b@acme.example", "a b@acme.example"])
def test_an_address_a_mailto_link_would_misread_is_refused(address: str) -> None:
    with pytest.raises(RecordError, match="e-mail address"):
        Brand(display_name="A", support_contact=address)
