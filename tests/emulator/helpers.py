"""Small HTTP helpers for the emulator's own tests (every call has a timeout)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from tests.fixtures.amazon import TEST_REDIRECT_URI, RunningEmulator

CAMPAIGNS = "advertising::campaign_management"
TIMEOUT = 5


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def authorize_query(em: RunningEmulator, **params: str) -> dict[str, str]:
    return {
        "client_id": em.emu.client_id,
        "scope": CAMPAIGNS,
        "response_type": "code",
        "redirect_uri": TEST_REDIRECT_URI,
        "state": "st",
        **params,
    }


def get_authorize(em: RunningEmulator, region: str = "NA", **params: str) -> requests.Response:
    return requests.get(
        f"{em.base_url}/{region}/ap/oa",
        params=authorize_query(em, **params),
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def callback_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.status_code
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def token(em: RunningEmulator, region: str, **form: str) -> requests.Response:
    data = {"client_id": em.emu.client_id, "client_secret": em.emu.client_secret, **form}
    return requests.post(f"{em.base_url}/{region}/auth/o2/token", data=data, timeout=TIMEOUT)


def exchange(em: RunningEmulator, region: str, code: str, **form: str) -> requests.Response:
    sent = {"grant_type": "authorization_code", "code": code, "redirect_uri": TEST_REDIRECT_URI, **form}
    return token(em, region, **sent)


def refresh(em: RunningEmulator, region: str, refresh_token: str) -> requests.Response:
    return token(em, region, grant_type="refresh_token", refresh_token=refresh_token)


def api(
    em: RunningEmulator,
    region: str,
    path: str,
    access_token: str | None,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    sent = {"Amazon-Advertising-API-ClientId": em.emu.client_id, **(headers or {})}
    if access_token is not None:
        sent["Authorization"] = f"Bearer {access_token}"
    return requests.get(f"{em.base_url}/{region}/api{path}", headers=sent, params=params, timeout=TIMEOUT)


def scoped(em: RunningEmulator, region: str, access_token: str, profile_id: int | str) -> requests.Response:
    return api(
        em,
        region,
        "/v2/sp/campaigns",
        access_token,
        headers={"Amazon-Advertising-API-Scope": str(profile_id)},
    )


def control(
    em: RunningEmulator, method: str, action: str, body: Any = None, **params: str
) -> requests.Response:
    return requests.request(
        method, f"{em.base_url}/__emulator__/{action}", json=body, params=params, timeout=TIMEOUT
    )
