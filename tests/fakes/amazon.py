"""In-memory stand-ins for Amazon's two ports (``LwaClient``, ``AdsApiClient``), for unit tests.

Each answers from a script: a queue of outcomes (a value to return, or an exception to raise)
consumed call by call, falling back to a default. Every call is recorded, so a test can assert
how often Amazon was asked and with what (a code must be sent once, a 403 retried once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ads_connect.logic.ports import ClientCredentials, TokenGrant
from ads_connect.models.records import AccessLevel
from ads_connect.regions import Region

FAKE_ACCESS_TOKEN = "Atza|fake-access-token-for-tests"  # obviously fake
FAKE_REFRESH_TOKEN = "Atzr|fake-refresh-token-for-tests"  # obviously fake

Outcome = TokenGrant | Exception


def fake_grant(
    access_token: str = FAKE_ACCESS_TOKEN,
    refresh_token: str | None = FAKE_REFRESH_TOKEN,
    expires_in: int = 3600,
) -> TokenGrant:
    return TokenGrant(access_token=access_token, refresh_token=refresh_token, expires_in=expires_in)


@dataclass(frozen=True)
class ExchangeCall:
    region: Region
    code: str = field(repr=False)
    redirect_uri: str
    code_verifier: str = field(repr=False)
    client_id: str


@dataclass
class FakeLwa:
    """``exchange_code`` and ``refresh`` answer the next scripted outcome, else ``default``."""

    exchange_script: list[Outcome] = field(default_factory=list)
    refresh_script: list[Outcome] = field(default_factory=list)
    default: TokenGrant = field(default_factory=fake_grant)
    exchanges: list[ExchangeCall] = field(default_factory=list)
    refreshes: list[tuple[Region, str]] = field(default_factory=list)
    # The client id each refresh was sent with.
    refresh_clients: list[str] = field(default_factory=list)

    def exchange_code(
        self,
        region: Region,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        credentials: ClientCredentials,
    ) -> TokenGrant:
        self.exchanges.append(ExchangeCall(region, code, redirect_uri, code_verifier, credentials.client_id))
        return _answer(self.exchange_script, self.default)

    def refresh(self, region: Region, *, refresh_token: str, credentials: ClientCredentials) -> TokenGrant:
        self.refreshes.append((region, refresh_token))
        self.refresh_clients.append(credentials.client_id)
        return _answer(self.refresh_script, self.default)


def _answer(script: list[Outcome], default: TokenGrant) -> TokenGrant:
    outcome = script.pop(0) if script else default
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


ProfilesOutcome = Sequence[dict[str, Any]] | Exception


@dataclass
class FakeAdsApi:
    """``list_profiles`` answers per access level: ``edit`` (no parameter) and ``view``
    (``accessLevel=view``) have separate scripts, so a view-only user is "403 then a list"."""

    profiles: list[dict[str, Any]] = field(default_factory=list)
    script: list[ProfilesOutcome] = field(default_factory=list)
    view_script: list[ProfilesOutcome] = field(default_factory=list)
    calls: list[tuple[Region, AccessLevel | None, str]] = field(default_factory=list)

    def list_profiles(
        self,
        region: Region,
        *,
        access_token: str,
        client_id: str,
        access_level: AccessLevel | None = None,
    ) -> Sequence[dict[str, Any]]:
        self.calls.append((region, access_level, client_id))
        script = self.view_script if access_level is AccessLevel.VIEW else self.script
        outcome = script.pop(0) if script else self.profiles
        if isinstance(outcome, Exception):
            raise outcome
        return list(outcome)


def api_profile(
    profile_id: int | str,
    country: str = "US",
    name: str = "Shop",
    account_type: str = "seller",
    marketplace: str = "ATVPDKIKX0DER",
) -> dict[str, Any]:
    """One ``/v2/profiles`` entry as the adapter returns it (integers already strings)."""
    return {
        "profileId": str(profile_id),
        "countryCode": country,
        "currencyCode": "USD",
        "timezone": "America/Los_Angeles",
        "accountInfo": {
            "marketplaceStringId": marketplace,
            "id": f"A{profile_id}",
            "type": account_type,
            "name": name,
            "validPaymentMethod": True,
        },
    }
