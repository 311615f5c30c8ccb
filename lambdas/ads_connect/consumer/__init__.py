"""Consumer helper for the operator's other services: a ready ``requests`` session for one
tenant's Amazon Ads connection, the tenant's profile mappings, and clients of
``python-amazon-ad-api`` built from the same connection.

One source, two ways to ship it: inside the Lambda code as ``ads_connect.consumer``, and as the
``amazon-ads-connect-client`` wheel (``make dist``), whose ``amazon_ads_connect_client`` package
is built from these very files (docs/decisions.md, "What consumers and operators install"). It
depends on boto3 and requests only: what it needs of the product (the table's key builder, the
AWS client settings) it imports relatively from ``table_schema`` and ``adapters/aws.py``, which
the wheel ships beside it.

    from amazon_ads_connect_client import get_session
    session = get_session("acme", "EU", profile_id="3456789012345")
    campaigns = session.get("/v2/sp/campaigns").json()
"""

from __future__ import annotations

from ..adapters.aws import AWS_CLIENT_CONFIG
from .amazon_ad_api import ad_api_client
from .profiles import list_profiles
from .session import (
    CLOCK_SKEW_SECONDS,
    CONNECTION_HEADERS,
    DEFAULT_STAGE,
    DEFAULT_TIMEOUT,
    EXPIRY_MARGIN_SECONDS,
    MAX_CACHE_SECONDS,
    AccessTokenCache,
    AdsApiSession,
    access_secret_name,
    get_session,
    secret_prefix_for,
)

__all__ = [
    "AWS_CLIENT_CONFIG",
    "CLOCK_SKEW_SECONDS",
    "CONNECTION_HEADERS",
    "DEFAULT_STAGE",
    "DEFAULT_TIMEOUT",
    "EXPIRY_MARGIN_SECONDS",
    "MAX_CACHE_SECONDS",
    "AccessTokenCache",
    "AdsApiSession",
    "access_secret_name",
    "ad_api_client",
    "get_session",
    "list_profiles",
    "secret_prefix_for",
]
