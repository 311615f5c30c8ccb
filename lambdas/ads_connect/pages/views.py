"""The pages of the consent flow, in the visitor's language and the operator's brand.

The words are in ``pages/text.py`` (every language; adding a page text: CONTRIBUTING.md); each
failure page's status and words are chosen in ``pages/errors.py``; the marketplaces beside a
region's name come from the region table (``regions.py``). This module only arranges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Template

from ads_connect.logic.callback import REASON_DISCOVERING
from ads_connect.logic.profiles import REASON_EMPTY, REASON_FORBIDDEN, REASON_UNAUTHORIZED, REASON_UNAVAILABLE
from ads_connect.models.brand import Brand
from ads_connect.models.consent import ResultProfile
from ads_connect.models.records import AccessLevel, ProfilesState
from ads_connect.pages.render import Markup, escape, join, page, render, stylesheet, table
from ads_connect.pages.text import REGION_NAMES, Language, text
from ads_connect.regions import REGIONS, Region


@dataclass(frozen=True)
class PageContext:
    """Who is looking (their language) and whose pages they are (the operator's brand)."""

    brand: Brand
    language: Language


@dataclass(frozen=True)
class HtmlPage:
    status: int
    body: str
    language: Language
    style_sha256: str
    has_images: bool


def words(context: PageContext, key: str, **values: object) -> Markup:
    """One message in the visitor's language, escaped, with its placeholders filled (escaped
    too, unless already ``Markup``)."""
    return render(Template(escape(text(key, context.language))), **values)


def region_label(region: Region, language: Language) -> str:
    """The region's name in the language and the marketplaces it serves (the region table's)."""
    return f"{REGION_NAMES[region][language]} ({', '.join(REGIONS[region].marketplaces)})"


def _strong(value: str) -> Markup:
    return render(Template("<strong>$v</strong>"), v=value)


def support_link(brand: Brand) -> Markup | None:
    if brand.support_href is None:
        return None
    return render(
        Template('<a href="$href">$label</a>'), href=brand.support_href, label=brand.support_contact
    )


def _html_page(
    context: PageContext, status: int, title: Markup, body: Markup, *, kind: str = "page"
) -> HtmlPage:
    brand = context.brand
    contact = support_link(brand)
    # Error pages name the contact beside their reference; the others in the footer.
    footer = words(context, "help.footer", contact=contact) if contact and kind != "error" else Markup("")
    html = page(
        title,
        body,
        lang=context.language.value,
        brand_name=brand.display_name,
        logo=brand.logo,
        accent_color=brand.accent_color,
        footer=footer,
        kind=kind,
    )
    return HtmlPage(
        status, html, context.language, stylesheet(brand.accent_color).sha256, brand.logo is not None
    )


_LANDING = Template(
    "<h1>$heading</h1><p>$intro</p><h2>$shared</h2><ul><li>$profiles</li><li>$permission</li></ul>"
    "<p>$privacy</p>"
    '<form method="post" action="$action">'
    '<input type="hidden" name="form_token" value="$form_token">$choice'
    '<button type="submit">$button</button></form>'
    '<p class="note">$expires</p>'
)
_REGION_CHOICE = Template("<fieldset><legend>$question</legend>$options</fieldset>")
_REGION_OPTION = Template(
    '<label><input type="radio" name="region" value="$value"$checked required><span>$label</span></label>'
)
_FIXED_REGION = Template('<p>$label</p><input type="hidden" name="region" value="$value">')


def landing_page(
    context: PageContext,
    *,
    tenant_label: str,
    action: str,
    fixed_region: Region | None,
    expires: str,
    form_token: str,
) -> HtmlPage:
    language = context.language
    if fixed_region is not None:
        label = words(context, "landing.fixed_region", region=_strong(region_label(fixed_region, language)))
        choice = render(_FIXED_REGION, label=label, value=fixed_region.value)
    else:
        options = join(
            render(
                _REGION_OPTION,
                value=region.value,
                label=region_label(region, language),
                checked=Markup(" checked") if region is Region.NA else Markup(""),
            )
            for region in Region
        )
        choice = render(_REGION_CHOICE, question=words(context, "landing.region_question"), options=options)
    app = context.brand.display_name
    body = render(
        _LANDING,
        heading=words(context, "landing.heading"),
        intro=words(context, "landing.intro", app=_strong(app), tenant=_strong(tenant_label)),
        shared=words(context, "landing.shared_heading"),
        profiles=words(context, "landing.shared_profiles"),
        permission=words(context, "landing.shared_permission"),
        privacy=words(context, "landing.privacy", app=app),
        action=action,
        form_token=form_token,
        choice=choice,
        button=words(context, "landing.continue"),
        expires=words(context, "landing.expires", expires=expires),
    )
    return _html_page(context, 200, words(context, "landing.title", app=app), body)


_SUCCESS = Template('<h1>$heading</h1><p>$summary</p>$details<p class="note">$close</p>')
_NO_PROFILES = Template("<h2>$heading</h2><p>$reason</p>")
# What the connection's stored reason (written for the operator, in English) means for the
# advertiser; a reason not listed is one the pages do not know yet: "still being checked".
_REASON_TEXT = {
    REASON_EMPTY: "profiles.empty",
    REASON_FORBIDDEN: "profiles.propagating",
    REASON_UNAUTHORIZED: "profiles.not_allow_listed",
    REASON_UNAVAILABLE: "profiles.pending",
    REASON_DISCOVERING: "profiles.pending",
}
_ACCESS_TEXT = {AccessLevel.EDIT: "success.access_edit", AccessLevel.VIEW: "success.access_view"}
_COLUMNS = (
    "success.column_account",
    "success.column_marketplace",
    "success.column_type",
    "success.column_access",
    "success.column_profile_id",
)


def success_page(
    context: PageContext,
    *,
    tenant_label: str,
    region: Region,
    profiles: Sequence[ResultProfile],
    profiles_state: ProfilesState,
    reason: str | None,
    view_only: bool,
) -> HtmlPage:
    if profiles:
        rows = [
            (
                p.name or words(context, "success.unnamed"),
                p.country_code or "",
                p.account_type or "",
                words(context, _ACCESS_TEXT[p.access_level]),
                p.profile_id,
            )
            for p in profiles
        ]
        note = (
            render(Template('<p class="note">$n</p>'), n=words(context, "success.view_only"))
            if view_only
            else Markup("")
        )
        details = Markup(
            render(Template("<h2>$h</h2>"), h=words(context, "success.profiles_heading"))
            + table([words(context, key) for key in _COLUMNS], rows)
            + note
        )
    else:
        fallback = "profiles.empty" if profiles_state is ProfilesState.EMPTY else "profiles.pending"
        details = render(
            _NO_PROFILES,
            heading=words(context, "success.no_profiles_heading"),
            reason=words(context, _REASON_TEXT.get(reason or "", fallback)),
        )
    app = context.brand.display_name
    body = render(
        _SUCCESS,
        heading=words(context, "success.heading"),
        summary=words(
            context,
            "success.body",
            tenant=_strong(tenant_label),
            app=_strong(app),
            region=region_label(region, context.language),
        ),
        details=details,
        close=words(context, "success.close"),
    )
    return _html_page(context, 200, words(context, "success.title"), body)


_ERROR = Template('<h1>$heading</h1><p>$message</p>$hint<p class="note">$reference <span>$contact</span></p>')


def error_page(
    context: PageContext,
    *,
    status: int,
    heading: Markup,
    message: Markup,
    reference: str,
    hint: Markup | None = None,
) -> HtmlPage:
    contact = support_link(context.brand)
    body = render(
        _ERROR,
        heading=heading,
        message=message,
        hint=render(Template("<p>$hint</p>"), hint=hint) if hint else Markup(""),
        reference=words(
            context, "error.reference", reference=render(Template('<span class="ref">$r</span>'), r=reference)
        ),
        contact=(
            words(context, "error.contact", contact=contact)
            if contact
            else words(context, "error.contact_unset")
        ),
    )
    return _html_page(context, status, heading, body, kind="error")
