"""Amazon's regions, defined once: every host name the product talks to lives here.

The deployed stack uses Amazon's real hosts. Tests, local mode and anyone's emulator override
them with one setting, the environment variable ``ADS_CONNECT_AMAZON_ENDPOINTS``: a JSON object
mapping ``NA``, ``EU`` and ``FE`` to ``{"authorization_url", "token_url", "api_url"}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, HttpUrl, ValidationError

ENDPOINTS_ENV_VAR = "ADS_CONNECT_AMAZON_ENDPOINTS"


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"


class RegionEndpoints(BaseModel):
    """Where one Amazon region lives: consent page, token endpoint, Ads API host."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    authorization_url: HttpUrl
    token_url: HttpUrl
    api_url: HttpUrl

    @property
    def api_base(self) -> str:
        """The Ads API host without a trailing slash, ready for path joining."""
        return str(self.api_url).rstrip("/")


AMAZON_ENDPOINTS: Mapping[Region, RegionEndpoints] = {
    Region.NA: RegionEndpoints(
        authorization_url=HttpUrl("https://www.amazon.com/ap/oa"),
        token_url=HttpUrl("https://api.amazon.com/auth/o2/token"),
        api_url=HttpUrl("https://advertising-api.amazon.com"),
    ),
    Region.EU: RegionEndpoints(
        authorization_url=HttpUrl("https://eu.account.amazon.com/ap/oa"),
        token_url=HttpUrl("https://api.amazon.co.uk/auth/o2/token"),
        api_url=HttpUrl("https://advertising-api-eu.amazon.com"),
    ),
    Region.FE: RegionEndpoints(
        authorization_url=HttpUrl("https://apac.account.amazon.com/ap/oa"),
        token_url=HttpUrl("https://api.amazon.co.jp/auth/o2/token"),
        api_url=HttpUrl("https://advertising-api-fe.amazon.com"),
    ),
}

# Marketplaces served by each region (country codes as the Ads API reports them).
MARKETPLACES: Mapping[Region, frozenset[str]] = {
    Region.NA: frozenset({"US", "CA", "MX", "BR"}),
    Region.EU: frozenset(
        {"UK", "GB", "DE", "FR", "IT", "ES", "NL", "BE", "IE", "SE", "PL", "TR", "AE", "SA", "EG", "IN"}
    ),
    Region.FE: frozenset({"JP", "AU", "SG"}),
}

# The regions' names, in every language the pages speak, are beside the page text
# (ads_connect/pages/text.py REGION_NAMES); the pages list these marketplaces after them.


class EndpointsConfigError(ValueError):
    """The endpoint override is malformed; the message names what is wrong, never a secret."""


def parse_endpoints(raw: str | None) -> dict[Region, RegionEndpoints]:
    """Amazon's hosts, or the override given as JSON. All three regions must be present."""
    if raw is None or not raw.strip():
        return dict(AMAZON_ENDPOINTS)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EndpointsConfigError(f"{ENDPOINTS_ENV_VAR} is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise EndpointsConfigError(f"{ENDPOINTS_ENV_VAR} must be a JSON object keyed by NA, EU, FE")
    missing = [r.value for r in Region if r.value not in data]
    unknown = sorted(set(data) - {r.value for r in Region})
    if missing or unknown:
        raise EndpointsConfigError(
            f"{ENDPOINTS_ENV_VAR} needs exactly the keys NA, EU, FE (missing: {missing}, unknown: {unknown})"
        )
    try:
        return {region: RegionEndpoints.model_validate(data[region.value]) for region in Region}
    except ValidationError as exc:
        raise EndpointsConfigError(
            f"{ENDPOINTS_ENV_VAR} has an invalid entry: {exc.errors()[0]['msg']}"
        ) from None


def endpoints_from_environment(environ: Mapping[str, str] | None = None) -> dict[Region, RegionEndpoints]:
    env = os.environ if environ is None else environ
    return parse_endpoints(env.get(ENDPOINTS_ENV_VAR))
