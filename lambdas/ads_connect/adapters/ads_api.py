"""AdsApiClient: a region's Amazon Ads API host (``/v2/profiles``).

``profileId`` values can exceed 2^53, so integers in the body are parsed as strings and never
pass through a float.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import requests

from ads_connect.adapters.http import AmazonHttpClient, retry_after_seconds
from ads_connect.logic.ports import (
    AdsApiForbiddenError,
    AdsApiUnauthorizedError,
    AmazonRequestRejectedError,
    TransientAmazonError,
)
from ads_connect.models.records import AccessLevel
from ads_connect.regions import Region


class HttpAdsApiClient(AmazonHttpClient):
    def list_profiles(
        self,
        region: Region,
        *,
        access_token: str,
        client_id: str,
        access_level: AccessLevel | None = None,
    ) -> Sequence[dict[str, Any]]:
        url = f"{self._endpoints[region].api_base}/v2/profiles"
        params = {"accessLevel": access_level.value} if access_level else None
        where = f"Ads API /v2/profiles in {region.value}"
        try:
            response = self._session.get(
                url,
                params=params,
                headers={
                    "Authorization": f"Bearer {access_token}",
                    "Amazon-Advertising-API-ClientId": client_id,
                    "Accept": "application/json",
                },
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            # A GET is safe to repeat: every transport failure is transient here.
            raise TransientAmazonError(
                f"{where}: {type(error).__name__}", error_code="connection_error"
            ) from None
        status = response.status_code
        if status == 200:
            try:
                body = json.loads(response.text, parse_int=str)
            except ValueError:
                raise TransientAmazonError(
                    f"{where}: malformed body", error_code="malformed_response", status=200
                ) from None
            if not isinstance(body, list) or not all(isinstance(p, dict) for p in body):
                raise TransientAmazonError(
                    f"{where}: unexpected body", error_code="malformed_response", status=200
                )
            return body
        if status == 403:
            raise AdsApiForbiddenError(f"{where}: forbidden (HTTP 403)", error_code="forbidden", status=403)
        if status == 401:
            raise AdsApiUnauthorizedError(
                f"{where}: unauthorized (HTTP 401)", error_code="unauthorized", status=401
            )
        if status == 429 or status >= 500:
            raise TransientAmazonError(
                f"{where}: HTTP {status}",
                error_code="throttled" if status == 429 else "server_error",
                status=status,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        raise AmazonRequestRejectedError(
            f"{where}: HTTP {status}", error_code=f"http_{status}", status=status
        )
