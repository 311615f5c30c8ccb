"""The one place HTTP sessions to Amazon are made: timeouts, user agent, no hidden retries.

Retries are decided by the flows (a single-use authorization code must never be resent after an
ambiguous failure), so the transport never retries on its own.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests
from requests.adapters import HTTPAdapter

from ads_connect.regions import Region, RegionEndpoints

# (connect, read) seconds. LWA and /v2/profiles answer in well under a second normally.
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 10.0)
USER_AGENT = "AmazonAdsConnect/0.1 (+self-hosted)"


class AmazonHttpClient:
    """What both Amazon clients share: the region table, one pooled session, the timeout."""

    def __init__(
        self,
        endpoints: Mapping[Region, RegionEndpoints],
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self._endpoints = endpoints
        self._session = session or new_session()
        self._timeout = timeout


def new_session(pool_size: int = 10) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # Never pick up credentials from ~/.netrc or proxies' auth by accident.
    session.trust_env = False
    return session


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (Amazon sends seconds; an HTTP date is ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
