"""``ad_api_client``: a ``python-amazon-ad-api`` client running on a connection's access token.

The library builds its clients from a refresh token and a client secret (or ``AD_API_*``
environment variables, or a ``credentials.yml``) and a marketplace whose host it hard-codes;
it has no default timeout, and its report download sends the bearer token to the download host.
Here none of that applies: the client is bound to one connection and reads, on every request,
the access token, client id and region's Ads API host from the consumer secret (the same
cache as ``get_session``), so it never holds a placeholder secret and never a stale token.

- The token goes to the connection's Ads API origin only: a request whose URL leaves it raises
  ``ValueError`` before anything is sent; ``endpoint`` cannot be reassigned.
- A report or snapshot download on another host (S3) is fetched without the connection's
  headers; on the Ads API origin requests itself drops ``Authorization`` when it redirects off
  the host.
- Every request has a timeout (``DEFAULT_TIMEOUT`` unless given).
- A 401 re-reads the secret once and retries once, as ``get_session`` does.
- ``debug`` stays off: the library's debug mode logs the request headers, bearer token included.

``python-amazon-ad-api`` is imported only when a client is built (extra ``[ad-api]``).
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from .session import (
    DEFAULT_STAGE,
    DEFAULT_TIMEOUT,
    AccessTokenCache,
    connection_cache,
    origin_of,
)

ApiClass = TypeVar("ApiClass")

_bound_classes: dict[type[Any], type[Any]] = {}
_bound_classes_lock = threading.Lock()


def ad_api_client(
    api_class: type[ApiClass],
    tenant_id: str,
    region: str,
    profile_id: str | int | None = None,
    *,
    stage: str = DEFAULT_STAGE,
    secret_prefix: str | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    secrets_client: Any = None,
) -> ApiClass:
    """An instance of ``api_class`` (any ``ad_api.api`` resource, e.g. ``Profiles`` or
    ``sp.CampaignsV3``) for ``tenant_id``'s connection in ``region`` (``NA``, ``EU``, ``FE``);
    with ``profile_id`` it sends the ``Amazon-Advertising-API-Scope`` header."""
    cache = connection_cache(
        tenant_id, region, stage=stage, secret_prefix=secret_prefix, secrets_client=secrets_client
    )
    bound: Any = _bound_class(api_class)
    client: ApiClass = bound(cache, None if profile_id is None else str(profile_id), timeout)
    return client


def _bound_class(api_class: type[Any]) -> type[Any]:
    with _bound_classes_lock:
        bound = _bound_classes.get(api_class)
        if bound is None:
            bound = _bound_classes[api_class] = _bind(api_class)
        return bound


def _bind(api_class: type[Any]) -> type[Any]:
    # Imported here: the library is an optional extra. ad_api.base first, because importing
    # ad_api.auth on its own fails on the library's circular import.
    try:
        import ad_api.base  # noqa: PLC0415
    except ModuleNotFoundError as missing:
        raise ImportError(
            "ad_api_client needs python-amazon-ad-api: pip install 'amazon-ads-connect-client[ad-api]'"
        ) from missing
    from ad_api.auth import AccessTokenResponse  # noqa: PLC0415
    from ad_api.base.exceptions import AdvertisingApiUnauthorizedException  # noqa: PLC0415

    BaseClient, Client = ad_api.base.BaseClient, ad_api.base.Client

    if not (isinstance(api_class, type) and issubclass(api_class, Client)):
        raise TypeError("api_class must be a python-amazon-ad-api client class, such as ad_api.api.Profiles")

    class ConnectionBound(api_class):  # type: ignore[misc]
        """``api_class`` reading its credentials and host from one connection's consumer secret."""

        def __init__(self, cache: AccessTokenCache, profile_id: str | None, timeout: Any) -> None:
            # Client.__init__ is skipped on purpose: it demands a refresh token and a client
            # secret, and lets AD_API_* environment variables replace the credentials given.
            BaseClient.__init__(self)  # the library's User-Agent
            self._connection = cache
            self._profile_id = profile_id
            self._access_token = None
            self._auth = None
            self.timeout = timeout
            self.proxies = None
            self.verify = True

        @property
        def credentials(self) -> dict[str, str]:
            secret = self._connection.get()
            credentials = {"client_id": str(secret["client_id"])}
            if self._profile_id is not None:
                credentials["profile_id"] = self._profile_id
            return credentials

        @property
        def auth(self) -> Any:
            return AccessTokenResponse(access_token=self._connection.get()["access_token"])

        @property
        def endpoint(self) -> str:
            return str(self._connection.get()["api_url"]).rstrip("/")

        @endpoint.setter
        def endpoint(self, _value: str) -> None:
            raise AttributeError("the Ads API host comes from the connection's region and cannot be changed")

        @property
        def debug(self) -> bool:
            return False

        @debug.setter
        def debug(self, value: bool) -> None:
            if value:
                raise ValueError("debug mode would log the bearer token: it stays off")

        def _request(
            self,
            path: str,
            data: str | None = None,
            params: dict[str, Any] | None = None,
            headers: Any = None,
        ) -> Any:
            endpoint = self.endpoint
            target = origin_of(endpoint + path)
            if target != origin_of(endpoint):
                raise ValueError(
                    f"this client sends the Amazon Ads token only to {origin_of(endpoint)}; "
                    f"refusing a request to {target}"
                )
            retry_params = dict(params or {})  # the library pops "method" out of params
            try:
                return super()._request(path, data=data, params=dict(retry_params), headers=headers)
            except AdvertisingApiUnauthorizedException:
                # The token may have been refreshed since it was cached: re-read once, retry once.
                self._connection.get(force=True)
                return super()._request(path, data=data, params=retry_params, headers=headers)

        @staticmethod
        def _download(client: Any, params: dict[str, Any] | None = None, headers: Any = None) -> Any:
            # (A static method taking the client, as the library defines and calls it.)
            location = str((params or {}).get("url") or "")
            if origin_of(location) != origin_of(client.endpoint):
                # A report file on the download host (S3, presigned): no connection header.
                headers = {"User-Agent": client.user_agent}
            return api_class._download(client, params=params, headers=headers)

    ConnectionBound.__name__ = ConnectionBound.__qualname__ = f"ConnectionBound{api_class.__name__}"
    return ConnectionBound
