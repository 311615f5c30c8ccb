"""LwaClient: a region's Login with Amazon token endpoint.

Errors are mapped to the typed errors of ``logic.ports``. Exception messages carry the OAuth
error code and HTTP status only: never Amazon's free-text ``error_description`` and never a
token, code or secret.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from ads_connect.adapters.http import AmazonHttpClient, retry_after_seconds
from ads_connect.logic.ports import (
    AmazonRequestRejectedError,
    AmbiguousAmazonError,
    ClientCredentials,
    InvalidClientError,
    InvalidGrantError,
    TokenGrant,
    TransientAmazonError,
)
from ads_connect.regions import Region

_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_TRANSIENT_OAUTH_ERRORS = frozenset({"server_error", "temporarily_unavailable"})


class HttpLwaClient(AmazonHttpClient):
    def exchange_code(
        self,
        region: Region,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        credentials: ClientCredentials,
    ) -> TokenGrant:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
        return self._token_request(region, form, operation="code exchange")

    def refresh(self, region: Region, *, refresh_token: str, credentials: ClientCredentials) -> TokenGrant:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
        return self._token_request(region, form, operation="refresh")

    def _token_request(self, region: Region, form: dict[str, str], *, operation: str) -> TokenGrant:
        url = str(self._endpoints[region].token_url)
        where = f"LWA {operation} in {region.value}"
        try:
            response = self._session.post(
                url,
                data=form,
                headers={"Content-Type": _FORM_CONTENT_TYPE, "Accept": "application/json"},
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.ConnectTimeout:
            raise TransientAmazonError(f"{where}: connect timeout", error_code="connect_timeout") from None
        except requests.ConnectionError as error:
            # Refused before anything was sent is safe to retry; a reset mid-request is not.
            if _connection_never_established(error):
                raise TransientAmazonError(
                    f"{where}: connection failed", error_code="connection_error"
                ) from None
            raise AmbiguousAmazonError(
                f"{where}: connection dropped", error_code="connection_dropped"
            ) from None
        except requests.Timeout:
            raise AmbiguousAmazonError(f"{where}: read timeout", error_code="read_timeout") from None
        except requests.RequestException:
            raise AmbiguousAmazonError(f"{where}: request failed", error_code="request_failed") from None
        return _grant_from_response(response, where)


def _connection_never_established(error: requests.ConnectionError) -> bool:
    """True when the failure happened while connecting (refused, DNS, unreachable), so nothing
    was sent; False for a reset or close after the request went out. Decided by exception type
    (urllib3's ``NewConnectionError`` family), never by message text."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [*error.args, error.__cause__, error.__context__]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        if isinstance(current, MaxRetryError):
            pending.append(current.reason)
        pending.extend([current.__cause__, current.__context__])
    return False


def _json_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _oauth_error_code(value: object, status: int) -> str:
    """Amazon's ``error`` when it looks like an OAuth error code, else ``http_<status>``: the code
    ends up in logs and metrics, so free text from the wire never does."""
    if isinstance(value, str) and _ERROR_CODE.fullmatch(value):
        return value
    return f"http_{status}"


def _grant_from_response(response: requests.Response, where: str) -> TokenGrant:
    status = response.status_code
    body = _json_body(response)
    if status == 200:
        access_token = body.get("access_token")
        expires_in = body.get("expires_in")
        if not isinstance(access_token, str) or not access_token or not isinstance(expires_in, int):
            raise TransientAmazonError(
                f"{where}: malformed success body", error_code="malformed_response", status=200
            )
        refresh_token = body.get("refresh_token")
        return TokenGrant(
            access_token=access_token,
            refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
            expires_in=expires_in,
            token_type=str(body.get("token_type", "bearer")),
        )
    error = _oauth_error_code(body.get("error"), status)
    if status == 429 or status >= 500 or error in _TRANSIENT_OAUTH_ERRORS:
        raise TransientAmazonError(
            f"{where}: {error} (HTTP {status})",
            error_code=error,
            status=status,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    if error == "invalid_client" or (status == 401 and error not in ("invalid_grant",)):
        raise InvalidClientError(
            f"{where}: invalid_client (HTTP {status})", error_code="invalid_client", status=status
        )
    if error == "invalid_grant":
        raise InvalidGrantError(
            f"{where}: invalid_grant (HTTP {status})", error_code="invalid_grant", status=status
        )
    raise AmazonRequestRejectedError(f"{where}: {error} (HTTP {status})", error_code=error, status=status)
