"""LwaClient: a region's Login with Amazon token endpoint.

Errors are mapped to the typed errors of ``logic.ports`` by one classifier,
:func:`classify_token_error` and its table :data:`TOKEN_ERROR_TYPES`: the only place an LWA error
code is read. The flows match the types, never the code strings. Exception messages carry the
OAuth error code and HTTP status only: never Amazon's free-text ``error_description`` and never
a token, code or secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from ads_connect.adapters.http import AmazonHttpClient, retry_after_seconds
from ads_connect.logic.ports import (
    AmazonError,
    AmazonNotProcessedError,
    AmazonRequestRejectedError,
    AmbiguousAmazonError,
    ClientCredentials,
    InvalidClientError,
    InvalidGrantError,
    TokenGrant,
    TransientAmazonError,
    UnauthorizedClientError,
)
from ads_connect.regions import Region

_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
# What each error code of the token endpoint (RFC 6749 section 5.2, plus the two transient
# codes LWA answers) means to the product. A code not listed is a rejected request: never a
# tenant's revocation. tests/unit/adapters/test_lwa_classifier.py covers every code the
# emulator can answer. Sources: RFC 6749 section 5.2 (https://www.rfc-editor.org/rfc/rfc6749#section-5.2)
# and Login with Amazon "Access Token Errors" (developer.amazon.com, Authorization Code Grant).
TOKEN_ERROR_TYPES: Mapping[str, type[AmazonError]] = MappingProxyType(
    {
        "invalid_grant": InvalidGrantError,  # this code / refresh token is dead: one tenant
        "invalid_client": InvalidClientError,  # the operator's id or secret is wrong: everyone
        "unauthorized_client": UnauthorizedClientError,  # the client may not use this grant
        "invalid_request": AmazonRequestRejectedError,
        "unsupported_grant_type": AmazonRequestRejectedError,
        "invalid_scope": AmazonRequestRejectedError,
        "server_error": TransientAmazonError,  # may have been processed: a code may be spent
        "temporarily_unavailable": AmazonNotProcessedError,
    }
)
# Statuses that say the request was not acted on (RFC 6585 section 4, RFC 9110 section 15.6.4).
NOT_PROCESSED_STATUSES = frozenset({429, 503})


def classify_token_error(status: int, error_code: str) -> tuple[type[AmazonError], str]:
    """The typed error (and the code to record) for a non-200 answer of the token endpoint.

    429 and 5xx are transient whatever the body says (429 and 503: not processed); a 401 is a
    client failure unless it names ``invalid_grant`` (recorded as ``invalid_client``, as Amazon
    means it); otherwise the table.
    """
    error_type = TOKEN_ERROR_TYPES.get(error_code, AmazonRequestRejectedError)
    if status in NOT_PROCESSED_STATUSES or error_type is AmazonNotProcessedError:
        return AmazonNotProcessedError, error_code
    if status >= 500 or error_type is TransientAmazonError:
        return TransientAmazonError, error_code
    if status == 401 and error_type is not InvalidGrantError:
        return InvalidClientError, "invalid_client"
    return error_type, error_code


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
    error_type, error = classify_token_error(status, _oauth_error_code(body.get("error"), status))
    message = f"{where}: {error} (HTTP {status})"
    if issubclass(error_type, TransientAmazonError):
        raise error_type(
            message,
            error_code=error,
            status=status,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    raise error_type(message, error_code=error, status=status)
