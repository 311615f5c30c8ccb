"""Amazon's regions: the one table of region codes, names, hosts and marketplaces.

Everything else derives from :data:`REGIONS` and ``Region``: the page labels (pages/text.py
names each region in every language; the marketplaces come from here), the endpoint map, the
admin API's "unknown region" message, local mode's demo sessions and the tests. The emulator
(Amazon's side, which must not import this package) keeps its own list;
``tests/unit/test_regions.py`` fails when the two differ. Adding a region: CONTRIBUTING.md.

Pure standard library (no pydantic, no powertools), so the consumer client can ship this file.

The deployed stack uses Amazon's real hosts. Tests, local mode and anyone's emulator override
them with one setting, the environment variable ``ADS_CONNECT_AMAZON_ENDPOINTS``: a JSON object
mapping every region code to ``{"authorization_url", "token_url", "api_url"}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from types import MappingProxyType
from urllib.parse import urlsplit

ENDPOINTS_ENV_VAR = "ADS_CONNECT_AMAZON_ENDPOINTS"
_MAX_URL_LENGTH = 2083


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"


class EndpointsConfigError(ValueError):
    """The endpoint override is malformed; the message names what is wrong, never a secret."""


@dataclass(frozen=True)
class RegionEndpoints:
    """Where one Amazon region lives: consent page, token endpoint, Ads API host (http(s) URLs)."""

    authorization_url: str
    token_url: str
    api_url: str

    def __post_init__(self) -> None:
        for field in fields(self):
            url = getattr(self, field.name)
            if not isinstance(url, str) or not _is_http_url(url):
                raise EndpointsConfigError(f"{field.name} must be an http(s) URL with a host")

    @property
    def api_base(self) -> str:
        """The Ads API host without a trailing slash, ready for path joining."""
        return self.api_url.rstrip("/")

    @property
    def authorization_origin(self) -> str:
        """``scheme://host[:port]`` of the consent page (the form-action the landing page allows)."""
        parts = urlsplit(self.authorization_url)
        return f"{parts.scheme}://{parts.netloc}"


def _is_http_url(url: str) -> bool:
    if len(url) > _MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@dataclass(frozen=True)
class RegionInfo:
    """One row of the region table."""

    name: str
    # Country codes as the Ads API reports them (``countryCode``), in display order.
    marketplaces: tuple[str, ...]
    endpoints: RegionEndpoints


# Amazon's hosts and marketplaces per region. Sources: Amazon Ads API "How to use the API"
# (https://advertising.amazon.com/API/docs/en-us/get-started/how-to-use-api: regional API hosts,
# marketplaces) and "Create an authorization grant" (authorization and token URLs per region).
REGIONS: Mapping[Region, RegionInfo] = MappingProxyType(
    {
        Region.NA: RegionInfo(
            name="North America",
            marketplaces=("US", "CA", "MX", "BR"),
            endpoints=RegionEndpoints(
                authorization_url="https://www.amazon.com/ap/oa",
                token_url="https://api.amazon.com/auth/o2/token",  # noqa: S106 - a URL, not a password
                api_url="https://advertising-api.amazon.com",
            ),
        ),
        Region.EU: RegionInfo(
            name="Europe, Middle East and India",
            marketplaces=tuple("UK DE FR IT ES NL BE IE SE PL TR AE SA EG IN".split()),  # noqa: SIM905
            endpoints=RegionEndpoints(
                authorization_url="https://eu.account.amazon.com/ap/oa",
                token_url="https://api.amazon.co.uk/auth/o2/token",  # noqa: S106 - a URL, not a password
                api_url="https://advertising-api-eu.amazon.com",
            ),
        ),
        Region.FE: RegionInfo(
            name="Far East",
            marketplaces=("JP", "AU", "SG"),
            endpoints=RegionEndpoints(
                authorization_url="https://apac.account.amazon.com/ap/oa",
                token_url="https://api.amazon.co.jp/auth/o2/token",  # noqa: S106 - a URL, not a password
                api_url="https://advertising-api-fe.amazon.com",
            ),
        ),
    }
)

# Views of the one table, for readers that need one column.
AMAZON_ENDPOINTS: Mapping[Region, RegionEndpoints] = MappingProxyType(
    {region: info.endpoints for region, info in REGIONS.items()}
)
REGION_CODES: tuple[str, ...] = tuple(region.value for region in Region)


def region_list() -> str:
    """``NA, EU, FE``: the codes for messages that say what is accepted."""
    return ", ".join(REGION_CODES)


def parse_endpoints(raw: str | None) -> dict[Region, RegionEndpoints]:
    """Amazon's hosts, or the override given as JSON. Every region must be present."""
    if raw is None or not raw.strip():
        return dict(AMAZON_ENDPOINTS)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EndpointsConfigError(f"{ENDPOINTS_ENV_VAR} is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise EndpointsConfigError(f"{ENDPOINTS_ENV_VAR} must be a JSON object keyed by {region_list()}")
    missing = [code for code in REGION_CODES if code not in data]
    unknown = sorted(set(data) - set(REGION_CODES))
    if missing or unknown:
        raise EndpointsConfigError(
            f"{ENDPOINTS_ENV_VAR} needs exactly the keys {region_list()} "
            f"(missing: {missing}, unknown: {unknown})"
        )
    endpoints: dict[Region, RegionEndpoints] = {}
    expected = {field.name for field in fields(RegionEndpoints)}
    for region in Region:
        entry = data[region.value]
        if not isinstance(entry, dict) or set(entry) != expected:
            raise EndpointsConfigError(
                f"{ENDPOINTS_ENV_VAR} has an invalid entry: {region.value} must be an object with "
                f"exactly {', '.join(sorted(expected))}"
            )
        try:
            endpoints[region] = RegionEndpoints(**entry)
        except EndpointsConfigError as exc:
            raise EndpointsConfigError(
                f"{ENDPOINTS_ENV_VAR} has an invalid entry: {region.value}.{exc}"
            ) from None
    return endpoints


def endpoints_from_environment(environ: Mapping[str, str] | None = None) -> dict[Region, RegionEndpoints]:
    env = os.environ if environ is None else environ
    return parse_endpoints(env.get(ENDPOINTS_ENV_VAR))
