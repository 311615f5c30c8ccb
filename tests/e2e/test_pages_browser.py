"""Every public page, in every language, on a phone (360 px) and on a desktop, in headless
Chromium against local mode: no sideways scrolling, the operator's brand and support contact,
and an axe-core audit with no violation. Screenshots of each go to test-artifacts/pages/.

Cheap by design: two consent flows (one with profiles, one without) make the result pages; every
other page is a plain GET. Each page is then re-rendered per language (Accept-Language) in the
same browser, whose cookie the result pages belong to.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ads_connect.pages.text import Language

from emulator import seller_profile, vendor_profile
from tests.e2e.conftest import REPO, LocalModeHandle

pytestmark = pytest.mark.e2e

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 900}}
# What each language's browser sends (a German phone sends exactly this).
ACCEPT_LANGUAGE = {
    Language.EN: "en-US,en;q=0.9",
    Language.DE: "de-DE,de;q=0.9,en;q=0.8",
    Language.FR: "fr-FR,fr;q=0.9",
    Language.ES: "es-ES,es;q=0.9",
    Language.IT: "it-IT,it;q=0.9",
    Language.JA: "ja-JP,ja;q=0.9",
}
# local/template.py LOCAL_DEMO_BRAND: local mode's demo colour and support contact
DEMO_CONTACT = "help@demo-operator.invalid"
# How many elements of the page's content reach past the right edge of its box.
SPILLING = (
    "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right"
    " > document.querySelector('main').getBoundingClientRect().right + 1).length"
)
LONG_NAME = "Outdoor Equipment & Camping Supplies Europe GmbH (Deutschland) — Hauptkonto"


@dataclass(frozen=True)
class PublicPage:
    name: str
    url: str
    status: int


@dataclass
class Audit:
    page: PublicPage
    language: Language
    width: str
    status: int
    lang: str
    scroll_width: int
    inner_width: int
    spilling: int  # elements reaching past the card's content box
    violations: list[dict[str, Any]]
    rules_passed: int
    logo_width: int
    text: str


def _connect(browser_page: Any, local_mode: LocalModeHandle, consent_url: str, user: str) -> str:
    """One consent flow in the browser: region NA, allow as ``user``; returns the result URL."""
    browser_page.goto(consent_url)
    browser_page.check('input[name="region"][value="NA"]')
    with browser_page.expect_navigation(url=f"{local_mode.emulator_url}/**"):
        browser_page.click('button[type="submit"]')
    browser_page.check(f'input[name="user"][value="{user}"]')
    with browser_page.expect_navigation(url=f"{local_mode.base_url}/result/**"):
        browser_page.click("#allow")
    return str(browser_page.url)


# What the checks say about a page broken on purpose (filled by the fixture below).
controls: dict[str, Any] = {}


@pytest.fixture(scope="module")
def audits(local_mode: LocalModeHandle, browser: Any, artifacts: Path) -> Iterator[list[Audit]]:
    emu = local_mode.emulator
    emu.headless = None  # Amazon's real consent page, whatever an earlier test left set
    emu.add_user(
        "pages-profiles",
        name="Advertiser with profiles",
        profiles={
            "NA": [
                seller_profile(4440000000001, "US", LONG_NAME),
                vendor_profile(2**53 + 404, "CA", "Vendor CA", currency="CAD", marketplace="A2EUQ1WTGCTBG2"),
            ]
        },
    )
    emu.add_user("pages-empty", name="Advertiser without campaigns", has_campaigns=False, profiles={"NA": []})
    context = browser.new_context()
    tab = context.new_page()
    with_profiles = _connect(
        tab, local_mode, local_mode.create_session("pages-profiles", display_name=LONG_NAME), "pages-profiles"
    )
    without_profiles = _connect(tab, local_mode, local_mode.create_session("pages-empty"), "pages-empty")
    base = local_mode.base_url
    pages = [
        PublicPage("landing", local_mode.create_session("pages-landing", display_name="Acme Shop"), 200),
        PublicPage("landing-fixed-region", local_mode.create_session("pages-fixed", region="EU"), 200),
        PublicPage("result-profiles", with_profiles, 200),
        PublicPage("result-no-profiles", without_profiles, 200),
        PublicPage("error-unknown-link", f"{base}/connect/{'x' * 43}", 404),
        PublicPage("error-no-state", f"{base}/callback?error=access_denied", 400),
        PublicPage("error-unknown-result", f"{base}/result/{'y' * 43}", 404),
    ]
    axe_source = AXE.read_text()
    shots = artifacts / "pages"
    shots.mkdir(exist_ok=True)
    results: list[Audit] = []
    began = time.monotonic()
    controls.clear()
    for language, accept in ACCEPT_LANGUAGE.items():
        context.set_extra_http_headers({"Accept-Language": accept})
        for width, viewport in WIDTHS.items():
            tab.set_viewport_size(viewport)
            for public in pages:
                response = tab.goto(public.url)
                assert response is not None
                # The page's CSP allows no script: axe runs through the DevTools protocol
                # (page.evaluate), which the page's CSP does not govern, as an extension would.
                tab.evaluate(axe_source)
                report = tab.evaluate("axe.run(document, {resultTypes: ['violations']})")
                measured = tab.evaluate(
                    "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
                    " lang: document.documentElement.lang,"
                    f" spill: {SPILLING},"
                    " logo: (document.querySelector('header img') || {naturalWidth: 0}).naturalWidth})"
                )
                tab.screenshot(
                    path=str(shots / f"{public.name}-{language.value}-{width}.png"), full_page=True
                )
                results.append(
                    Audit(
                        public,
                        language,
                        width,
                        response.status,
                        measured["lang"],
                        measured["scroll"],
                        measured["inner"],
                        measured["spill"],
                        report["violations"],
                        len(report["passes"]),
                        measured["logo"],
                        tab.inner_text("body"),
                    )
                )
    print(f"\n{len(results)} page renders audited in {time.monotonic() - began:.1f} s")
    # The two checks can fail: a page made too wide scrolls sideways, an image without alt is
    # an axe violation (measured on the last page, then thrown away).
    tab.evaluate(
        "() => { const wide = document.createElement('div'); wide.style.width = '2000px';"
        " wide.textContent = 'wide'; const image = document.createElement('img'); image.src = 'data:,';"
        " document.querySelector('main').append(wide, image); }"
    )
    controls["scroll"] = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    controls["spill"] = tab.evaluate(SPILLING)
    controls["violations"] = [
        v["id"] for v in tab.evaluate("axe.run(document, {resultTypes: ['violations']})")["violations"]
    ]
    yield results
    context.close()


def test_every_page_was_walked_in_every_language_at_both_widths(audits: list[Audit]) -> None:
    walked = {(a.page.name, a.language, a.width) for a in audits}
    assert len(walked) == 7 * len(Language) * len(WIDTHS) == len(audits)
    assert all(a.status == a.page.status for a in audits), [(a.page.name, a.status) for a in audits]


def test_the_checks_catch_a_page_broken_on_purpose(audits: list[Audit]) -> None:
    assert controls["scroll"] > 0 and controls["spill"] > 0
    assert "image-alt" in controls["violations"]
    assert min(a.rules_passed for a in audits) >= 20  # axe really ran its rules on every page


def test_no_page_scrolls_sideways_on_a_phone_or_a_desktop(audits: list[Audit]) -> None:
    wide = [
        (a.page.name, a.language.value, a.width, a.scroll_width)
        for a in audits
        if a.scroll_width > a.inner_width
    ]
    assert wide == []


def test_axe_finds_no_violation_on_any_page_in_any_language(audits: list[Audit]) -> None:
    found = [
        (a.page.name, a.language.value, a.width, v["id"], [n["target"] for n in v["nodes"]][:3])
        for a in audits
        for v in a.violations
    ]
    assert found == []


def test_each_page_is_served_in_the_browsers_language_with_the_brand(audits: list[Audit]) -> None:
    for audit in audits:
        assert audit.lang == audit.language.value, (audit.page.name, audit.lang)
        assert audit.logo_width > 0, "the demo logo renders (CSP img-src data:)"


def test_every_error_page_says_whom_to_ask(audits: list[Audit]) -> None:
    errors = [a for a in audits if a.page.name.startswith("error-")]
    assert errors and all(DEMO_CONTACT in a.text for a in errors)
    landing = [a for a in audits if a.page.name == "landing"]
    assert all(DEMO_CONTACT in a.text for a in landing)  # the footer of the other pages


def test_a_german_advertiser_reads_the_pages_in_german(audits: list[Audit]) -> None:
    german = {a.page.name: a.text for a in audits if a.language is Language.DE and a.width == "phone"}
    assert "Verbinden Sie Ihr Amazon Ads-Konto" in german["landing"]
    assert "Amazon Ads ist verbunden" in german["result-profiles"] and LONG_NAME in german["result-profiles"]
    assert "Noch keine Werbeprofile" in german["result-no-profiles"]
    assert "Dieser Link ist ungültig" in german["error-unknown-link"]
    assert "Referenz:" in german["error-unknown-link"]


def test_no_code_or_token_reaches_any_page_in_any_language(
    audits: list[Audit], local_mode: LocalModeHandle
) -> None:
    issued = {s for s in local_mode.emulator.issued_secrets() if len(s) >= 8}
    assert issued, "the two consent flows made the emulator issue codes and tokens"
    pages = "\n".join(a.text + a.page.url for a in audits)
    assert [s[:6] + "..." for s in issued if s in pages] == []
