"""The pages of the consent flow: the landing, result and error layouts and their words.

The words of each failure page live in ``pages/errors.py`` (one table by failure kind); region
labels come from the region table (``regions.py``). Adding a page text: CONTRIBUTING.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Template

from ads_connect.models.consent import ResultProfile
from ads_connect.pages.render import Markup, join, page, render, table
from ads_connect.regions import REGION_LABELS, Region


@dataclass(frozen=True)
class HtmlPage:
    status: int
    body: str


_LANDING = Template(
    "<h1>Connect your Amazon Ads account</h1>"
    "<p><strong>$app</strong> is asking for access to your Amazon Ads account on behalf of "
    "<strong>$tenant</strong>.</p>"
    "<h2>What will be shared</h2><ul>"
    "<li>Your advertising profiles (account names, marketplaces, account types).</li>"
    "<li>Permission to manage campaigns and read reports for those profiles, as your Amazon "
    "user may.</li></ul>"
    "<p>You will sign in on Amazon's own page and approve access there. $app never sees your "
    "Amazon password or payment details, and you can remove its access in your Amazon account "
    "at any time.</p>"
    '<form method="post" action="$action">'
    '<input type="hidden" name="form_token" value="$form_token">$choice'
    '<button type="submit">Continue to Amazon</button></form>'
    '<p class="note">This link expires at $expires.</p>'
)
_REGION_CHOICE = Template("<fieldset><legend>Where is your Amazon Ads account?</legend>$options</fieldset>")
_REGION_OPTION = Template(
    '<label><input type="radio" name="region" value="$value"$checked required> $label</label>'
)
_FIXED_REGION = Template(
    '<p>Amazon region: <strong>$label</strong></p><input type="hidden" name="region" value="$value">'
)


def landing_page(
    *,
    app_name: str,
    tenant_label: str,
    action: str,
    fixed_region: Region | None,
    expires: str,
    form_token: str,
) -> HtmlPage:
    if fixed_region is not None:
        choice = render(_FIXED_REGION, label=REGION_LABELS[fixed_region], value=fixed_region.value)
    else:
        options = join(
            render(
                _REGION_OPTION,
                value=region.value,
                label=REGION_LABELS[region],
                checked=Markup(" checked") if region is Region.NA else Markup(""),
            )
            for region in Region
        )
        choice = render(_REGION_CHOICE, options=options)
    body = render(
        _LANDING,
        app=app_name,
        tenant=tenant_label,
        action=action,
        choice=choice,
        expires=expires,
        form_token=form_token,
    )
    return HtmlPage(200, page(f"Connect Amazon Ads to {app_name}", body))


_SUCCESS = Template(
    "<h1>Amazon Ads is connected</h1>"
    "<p><strong>$tenant</strong> is now connected to <strong>$app</strong> in $region.</p>$details"
    '<p class="note">You can close this window.</p>'
)
_NO_PROFILES = Template("<h2>No advertising profiles yet</h2><p>$reason</p>")
_VIEW_ONLY = Markup(
    '<p class="note">Your Amazon user has view-only access: '
    "reports can be read, campaigns cannot be changed.</p>"
)


def success_page(
    *,
    app_name: str,
    tenant_label: str,
    region: Region,
    profiles: Sequence[ResultProfile],
    reason: str | None,
    view_only: bool,
) -> HtmlPage:
    if profiles:
        rows = [
            (
                p.name or "(unnamed)",
                p.country_code or "",
                p.account_type or "",
                p.access_level.value,
                p.profile_id,
            )
            for p in profiles
        ]
        details = Markup(
            "<h2>Connected profiles</h2>"
            + table(("Account", "Marketplace", "Type", "Access", "Profile id"), rows)
            + (_VIEW_ONLY if view_only else "")
        )
    else:
        details = render(_NO_PROFILES, reason=reason or "")
    body = render(_SUCCESS, tenant=tenant_label, app=app_name, region=REGION_LABELS[region], details=details)
    return HtmlPage(200, page("Amazon Ads connected", body))


_ERROR = Template(
    "<h1>$heading</h1><p>$message</p>$hint"
    '<p class="note">Reference: <span class="ref">$reference</span>. Quote it if you contact support.</p>'
)


def error_page(
    *, status: int, heading: str, message: str, reference: str, hint: str | None = None
) -> HtmlPage:
    hint_html = render(Template("<p>$hint</p>"), hint=hint) if hint else Markup("")
    body = render(_ERROR, heading=heading, message=message, hint=hint_html, reference=reference)
    return HtmlPage(status, page(heading, body, kind="error"))
