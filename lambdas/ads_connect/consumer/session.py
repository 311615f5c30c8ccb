"""``get_session``: a ``requests`` session bound to one connection (tenant x region).

The secret is cached no longer than the access token lives (and at most five minutes); a 401
re-reads it once and retries once (the scheduled refresh may just have replaced the token).
The connection's headers go only to the Ads API origin in the secret's ``api_url``: a request
to any other origin raises ``ValueError``, and a redirect off that origin (a report download)
is followed without them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests

# The product's AWS client settings (2 s connect, 10 s read, 3 attempts): without them a stuck
# Secrets Manager or DynamoDB call would wait 60 s per attempt.
from ..adapters.aws import AWS_CLIENT_CONFIG

# Stages (docs/deploy.md): each deployment's default secret prefix is ``ads-connect/<stage>``.
DEFAULT_STAGE = "prod"
STAGE_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,15}")
DEFAULT_TIMEOUT = (3.05, 30.0)
MAX_CACHE_SECONDS = 300.0
# A token with less life than this left is not cached: every call reads the secret again.
EXPIRY_MARGIN_SECONDS = 60.0
# A token with less life than this left (clocks differ a little) counts as expired.
CLOCK_SKEW_SECONDS = 5.0
# The headers that carry the connection's credentials and profile: the Ads API origin only.
CONNECTION_HEADERS = ("Authorization", "Amazon-Advertising-API-ClientId", "Amazon-Advertising-API-Scope")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def secret_prefix_for(stage: str = DEFAULT_STAGE, secret_prefix: str | None = None) -> str:
    """The deployment's secret prefix: ``secret_prefix`` when given (the stack's
    ``secret_prefix`` setting overrides the default), else ``ads-connect/<stage>``."""
    if secret_prefix is not None:
        return secret_prefix.rstrip("/")
    if not STAGE_PATTERN.fullmatch(stage):
        raise ValueError("stage must match [a-z][a-z0-9-]{0,15} (for example prod or dev)")
    return f"ads-connect/{stage}"


def access_secret_name(prefix: str, tenant_id: str, region: str) -> str:
    """``<prefix>/access/<tenant>/<region>``: the documented consumer secret name."""
    return f"{prefix}/access/{tenant_id}/{region}"


class AccessTokenCache:
    """Reads the consumer secret; caches it until min(expiry - margin, five minutes), and never
    caches an expired token (it is read a second time, then used as it is)."""

    def __init__(
        self, secret_id: str, *, secrets_client: Any = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret_id = secret_id
        self._client = secrets_client or boto3.client("secretsmanager", config=AWS_CLIENT_CONFIG)
        self._clock = clock
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        self._valid_until = 0.0

    def get(self, *, force: bool = False) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            if force or self._value is None or now >= self._valid_until:
                value = self._read()
                if self._expires_at(value) - CLOCK_SKEW_SECONDS <= now:
                    # Expired: read while the worker was replacing it, or the refresh is
                    # failing. Read once more; a token still expired is handed out (the Ads
                    # API's 401 tells the caller) but, like any token inside the margin, not
                    # cached past now, so the next call reads the secret again.
                    value = self._read()
                self._value = value
                cache_until = min(now + MAX_CACHE_SECONDS, self._expires_at(value) - EXPIRY_MARGIN_SECONDS)
                self._valid_until = max(now, cache_until)
            return dict(self._value)

    def _read(self) -> dict[str, Any]:
        raw = self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
        value: dict[str, Any] = json.loads(raw)
        return value

    @staticmethod
    def _expires_at(value: dict[str, Any]) -> float:
        return float(value["expires_at_epoch"])


def origin_of(url: str) -> str:
    """``scheme://host:port`` (default port made explicit): where the connection's headers may go."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class AdsApiSession(requests.Session):
    """A session bound to one connection: Authorization, ClientId and (optionally) Scope headers,
    relative URLs against the region's Ads API host, a timeout on every request.

    The headers are sent to the Ads API origin of the secret's ``api_url`` only (scheme, host
    and port): an absolute URL elsewhere raises ``ValueError`` before anything is sent, and a
    redirect elsewhere (a report download on S3) is followed without them."""

    def __init__(self, cache: AccessTokenCache, profile_id: str | None = None) -> None:
        super().__init__()
        self._cache = cache
        self._profile_id = profile_id
        self._apply(cache.get())

    def _apply(self, secret: dict[str, Any]) -> None:
        self.base_url = str(secret["api_url"]).rstrip("/")
        self.api_origin = origin_of(self.base_url)
        self.headers["Authorization"] = f"Bearer {secret['access_token']}"
        self.headers["Amazon-Advertising-API-ClientId"] = str(secret["client_id"])
        if self._profile_id is not None:
            self.headers["Amazon-Advertising-API-Scope"] = str(self._profile_id)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        target = url.decode() if isinstance(url, bytes) else url
        if not target.startswith(("http://", "https://")):
            target = f"{self.base_url}/{target.lstrip('/')}"
        self._apply(self._cache.get())
        response = super().request(method, target, *args, **kwargs)
        if response.status_code == 401:
            # The token may have been refreshed since we cached it: re-read once, retry once.
            # The first answer is closed first: with ``stream=True`` its body is never read, and
            # an unclosed response keeps its pooled connection checked out.
            response.close()
            self._apply(self._cache.get(force=True))
            response = super().request(method, target, *args, **kwargs)
        return response

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """Every request of this session passes here (the session's headers are merged here)."""
        prepared = super().prepare_request(request)
        target = origin_of(prepared.url or "")
        if target != self.api_origin:
            raise ValueError(
                f"this session sends the Amazon Ads credentials only to {self.api_origin}; "
                f"refusing a request to {target} (use a separate requests session for other hosts)"
            )
        return prepared

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        """On a redirect: requests drops ``Authorization`` on a host change only; drop all the
        connection's headers whenever the redirect leaves the Ads API origin."""
        # (The requests stubs leave rebuild_auth untyped.)
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]
        if origin_of(prepared_request.url or "") != self.api_origin:
            for name in CONNECTION_HEADERS:
                prepared_request.headers.pop(name, None)


_caches: dict[str, AccessTokenCache] = {}
_caches_lock = threading.Lock()


def connection_cache(
    tenant_id: str,
    region: str,
    *,
    stage: str = DEFAULT_STAGE,
    secret_prefix: str | None = None,
    secrets_client: Any = None,
) -> AccessTokenCache:
    """The process-wide cache of one connection's consumer secret (a caller passing its own
    ``secrets_client`` gets a cache of its own)."""
    secret_id = access_secret_name(secret_prefix_for(stage, secret_prefix), tenant_id, region)
    if secrets_client is not None:
        return AccessTokenCache(secret_id, secrets_client=secrets_client)
    with _caches_lock:
        cache = _caches.get(secret_id)
        if cache is None:
            cache = _caches[secret_id] = AccessTokenCache(secret_id)
        return cache


def get_session(
    tenant_id: str,
    region: str,
    profile_id: str | int | None = None,
    *,
    stage: str = DEFAULT_STAGE,
    secret_prefix: str | None = None,
    secrets_client: Any = None,
) -> AdsApiSession:
    """A session for ``tenant_id``'s connection in ``region`` (``NA``, ``EU``, ``FE``) of the
    deployment ``stage`` (or the explicit ``secret_prefix``); with ``profile_id`` it also sends
    the ``Amazon-Advertising-API-Scope`` header."""
    cache = connection_cache(
        tenant_id, region, stage=stage, secret_prefix=secret_prefix, secrets_client=secrets_client
    )
    return AdsApiSession(cache, None if profile_id is None else str(profile_id))
