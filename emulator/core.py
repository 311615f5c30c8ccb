"""The emulator's state and rules, independent of HTTP (emulator/http.py serves them).

Faithful to the documented behaviour (docs/emulator.md lists each rule):
- codes are single-use, expire after 5 minutes, and are bound to client, redirect URI, PKCE
  verifier and region; a token from one region's token endpoint is refused (401) by another
  region's Ads host (the strict reading);
- refresh-token rotation modes: never, rotate_grace, rotate_strict, rotate_reuse_detection;
- view-only users get 403 from /v2/profiles unless accessLevel=view; accounts without campaigns
  have no profiles; newly linked profiles stay hidden (and 403 on scoped calls) until propagated;
- several clients (Security Profiles), each with its own secret and Allowed Return URLs; codes,
  refresh tokens and access tokens are bound to the client that obtained them;
- faults: status bursts, 429 with Retry-After, slow answers, dropped connections, malformed 200s,
  OAuth errors on the authorization redirect and the token endpoint, each before the request is
  processed or after it (the work is done, then the answer is lost or wrong).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode

if TYPE_CHECKING:
    from emulator.http import EmulatorServer

REGIONS = ("NA", "EU", "FE")
KNOWN_SCOPES = frozenset({"advertising::campaign_management", "profile"})
CODE_LIFETIME = 300
ACCESS_TOKEN_LIFETIME = 3600
DEAD_REFRESH_TOKEN = (
    "The request has an invalid grant parameter : refresh_token. "
    "User may have revoked or didn't grant the permission."
)
RotationMode = Literal["never", "rotate_grace", "rotate_strict", "rotate_reuse_detection"]
ROTATION_MODES: tuple[str, ...] = ("never", "rotate_grace", "rotate_strict", "rotate_reuse_detection")
# What faults.add(endpoint=...) accepts ("any" matches every Amazon endpoint).
ENDPOINTS: tuple[str, ...] = ("authorize", "token", "profiles", "campaigns")
# The Sponsored Products v3 media type (request Content-Type and Accept, answer Content-Type).
SP_CAMPAIGN_V3_MEDIA_TYPE = "application/vnd.spCampaign.v3+json"
# The error codes LWA documents for the authorization redirect and for the token endpoint: a
# fault may inject only these, so a test cannot drift to an error Amazon never sends.
AUTHORIZE_ERRORS: tuple[str, ...] = (
    "access_denied",
    "invalid_request",
    "unauthorized_client",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
)
TOKEN_ERRORS: tuple[str, ...] = (
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
)
_TOKEN_ERROR_STATUS = {"invalid_client": 401, "server_error": 500, "temporarily_unavailable": 503}
_ERROR_DESCRIPTIONS = {
    "access_denied": "The user denied the request",
    "invalid_request": "The request is missing a required parameter or is otherwise malformed",
    "invalid_client": "Client authentication failed",
    "invalid_grant": "The request has an invalid grant parameter",
    "unauthorized_client": "The client is not authorized to request an authorization code or token",
    "unsupported_response_type": "response_type must be code",
    "unsupported_grant_type": "Unsupported grant type",
    "invalid_scope": "An unknown scope was requested",
    "server_error": "Internal server error",
    "temporarily_unavailable": "The service is temporarily unavailable",
}
# Amazon's 429s always carry Retry-After (seconds); a 429 fault given none sends this many.
DEFAULT_RETRY_AFTER_SECONDS = 1
# What a "malformed 200" carries: a body cut off mid-way (as a proxy or a dropped stream leaves
# it), holding no secret, in each endpoint's content type.
_TRUNCATED_BODIES: dict[str, tuple[bytes, str]] = {
    "authorize": (b"<!doctype html><html><head><title>Amazon", "text/html; charset=utf-8"),
    "token": (b'{"access_token": "Atza|', "application/json"),
    "profiles": (b'[{"profileId": ', "application/json"),
    "campaigns": (b'[{"campaignId": ', "application/json"),
}
# Request fields and headers whose values are secret: the request log shows "***" instead.
SECRET_FIELDS = frozenset(
    {"client_secret", "code", "code_verifier", "code_challenge", "refresh_token", "access_token"}
)
# RFC 7636 4.2: an S256 code_challenge is the unpadded base64url SHA-256: 43 characters.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
SECRET_HEADERS = frozenset({"authorization", "cookie", "x-amz-security-token"})
MASK = "***"


def seller_profile(
    profile_id: int, country: str = "US", name: str = "Seller", **extra: Any
) -> dict[str, Any]:
    """A seller profile as ``/v2/profiles`` returns it. ``extra`` may set ``currency``,
    ``timezone``, ``marketplace``, ``account_id``, ``sub_type``, ``valid_payment_method``; any
    other key is added to the profile as given."""
    sub_type = extra.pop("sub_type", None)
    valid_payment = bool(extra.pop("valid_payment_method", True))
    profile: dict[str, Any] = {
        "profileId": profile_id,
        "countryCode": country,
        "currencyCode": extra.pop("currency", "USD"),
        "dailyBudget": 1000.0,
        "timezone": extra.pop("timezone", "America/Los_Angeles"),
        "accountInfo": {
            "marketplaceStringId": extra.pop("marketplace", "ATVPDKIKX0DER"),
            "id": extra.pop("account_id", f"A{profile_id % 10**12:012d}"),
            "type": "seller",
            "name": name,
            "validPaymentMethod": valid_payment,
        },
        **extra,
    }
    if sub_type:
        profile["accountInfo"]["subType"] = sub_type
    return profile


def vendor_profile(
    profile_id: int, country: str = "US", name: str = "Vendor", **extra: Any
) -> dict[str, Any]:
    """A vendor profile: no ``dailyBudget``, an ``ENTITY...`` account id."""
    account_id = extra.pop("account_id", f"ENTITY{profile_id % 10**10:010d}")
    profile = seller_profile(profile_id, country, name, **extra)
    profile.pop("dailyBudget")  # absent for vendors
    profile["accountInfo"].update({"type": "vendor", "id": account_id})
    return profile


def agency_profile(
    profile_id: int, country: str = "US", name: str = "Agency", **extra: Any
) -> dict[str, Any]:
    """An agency (DSP) profile: Sponsored Products calls answer "Advertiser ID cannot be decrypted"."""
    profile = vendor_profile(profile_id, country, name, **extra)
    profile["accountInfo"]["type"] = "agency"
    return profile


def check_profile(profile: dict[str, Any]) -> None:
    """Refuse a profile Amazon would never return (so a test cannot drift from the documented shape)."""
    info = profile.get("accountInfo")
    if (
        not isinstance(profile.get("profileId"), int)
        or isinstance(profile.get("profileId"), bool)
        or not isinstance(info, dict)
        or info.get("type") not in ("seller", "vendor", "agency")
        or not all(isinstance(profile.get(k), str) for k in ("countryCode", "currencyCode", "timezone"))
        or not all(isinstance(info.get(k), str) for k in ("marketplaceStringId", "id", "name"))
    ):
        raise ValueError(
            "a profile needs an integer profileId, countryCode, currencyCode, timezone and "
            "accountInfo{marketplaceStringId, id, type seller|vendor|agency, name}"
        )


@dataclass
class User:
    user_id: str
    name: str
    profiles: dict[str, list[dict[str, Any]]]
    view_only: bool = False
    has_campaigns: bool = True
    decision: Literal["allow", "deny"] | None = None
    # profileId -> emulator time at which it becomes visible
    available_at: dict[str, float] = field(default_factory=dict)
    # Applied to profiles linked later (link_profile without an explicit delay).
    propagation_delay: float = 0.0


@dataclass
class PendingCode:
    user_id: str
    region: str
    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    scope: str
    expires_at: float
    used: bool = False
    grant_id: str | None = None


@dataclass
class Grant:
    grant_id: str
    user_id: str
    region: str
    client_id: str
    generation: int = 1
    revoked: bool = False
    token_calls: int = 0  # successful token answers for this grant (code exchange + refreshes)
    refresh_calls: int = 0  # successful refreshes
    rejected_refresh_calls: int = 0  # refresh attempts answered invalid_grant
    refresh_token_id: str = ""  # short hash of the current refresh token (never the token)
    revoked_reason: str | None = None
    created_at: float = 0.0


@dataclass
class RefreshRecord:
    grant_id: str
    generation: int
    valid_until: float | None = None  # None: valid while current / never rotated


@dataclass
class AccessRecord:
    grant_id: str
    region: str
    client_id: str
    expires_at: float


@dataclass
class Client:
    """One LWA Security Profile: its client id, secret and Allowed Return URLs (matched exactly)."""

    client_id: str
    client_secret: str
    redirect_uris: set[str] = field(default_factory=set)


@dataclass
class FaultRule:
    """One injected fault, used on the next ``count`` matching requests (None: until cleared).

    What the client gets: ``status`` in the endpoint's own error shape; with ``status`` 200 the
    real answer (late by ``delay_seconds``); ``drop_connection``: no answer at all (the socket is
    closed); ``malformed``: a 200 whose body is cut off; ``oauth_error``: that OAuth error, as a
    redirect back to the client (``authorize``) or a token-endpoint error body (``token``).

    When: before the request is processed (nothing happens at "Amazon"), or with
    ``after_processing`` once the emulator has done the work (a code redeemed, a refresh token
    rotated, a consent recorded): the client then cannot tell whether it worked."""

    endpoint: str  # authorize | token | profiles | campaigns | any
    region: str | None = None
    status: int = 503
    count: int | None = 1  # None: until removed
    retry_after: int | None = None
    delay_seconds: float = 0.0
    drop_connection: bool = False
    after_processing: bool = False
    malformed: bool = False
    oauth_error: str | None = None
    error_description: str | None = None
    hits: int = 0

    def matches(self, endpoint: str, region: str) -> bool:
        return self.endpoint in (endpoint, "any") and self.region in (None, region) and self.count != 0

    def answer(self, endpoint: str) -> Answer | None:
        """The injected answer, or None when the real answer goes out (after any delay). An
        ``oauth_error`` at ``authorize`` is a redirect the emulator builds itself (it needs the
        validated redirect_uri): see ``Emulator.authorize(..., forced_error=...)``."""
        if self.drop_connection:
            return Answer(0, drop=True)
        if self.malformed:
            truncated, content_type = _TRUNCATED_BODIES[endpoint]
            return Answer(200, truncated, content_type)
        if self.oauth_error and endpoint == "token":
            description = self.error_description or default_error_description(self.oauth_error)
            answer = _oauth_error(self.status, self.oauth_error, description)
            return dataclasses.replace(answer, headers=answer.headers + self._retry_after_headers())
        if self.status == 200 or self.oauth_error:
            return None
        headers = self._retry_after_headers()
        phrase = _phrase(self.status)
        if endpoint == "authorize":
            page = _error_page(self.status, f"{phrase}. Please try again later.")
            return dataclasses.replace(page, headers=headers)
        if endpoint == "token":
            error = (
                "temporarily_unavailable"
                if self.status in (429, 503)
                else "server_error"
                if self.status >= 500
                else "invalid_request"
            )
            answer = _oauth_error(self.status, error, phrase)
            return dataclasses.replace(answer, headers=answer.headers + headers)
        body = {"code": str(self.status), "details": phrase, "requestId": _request_id()}
        return _json(self.status, body, headers)

    def redirect_error(self, endpoint: str) -> tuple[str, str] | None:
        """(error, error_description) for the authorization redirect, when this fault injects one."""
        if endpoint != "authorize" or not self.oauth_error:
            return None
        return self.oauth_error, self.error_description or default_error_description(self.oauth_error)

    def _retry_after_headers(self) -> tuple[tuple[str, str], ...]:
        seconds = self.retry_after
        if seconds is None and self.status == 429:
            seconds = DEFAULT_RETRY_AFTER_SECONDS
        return () if seconds is None else (("Retry-After", str(seconds)),)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer the server writes: JSON, HTML, a redirect, or a dropped connection."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False
    delay: float = 0.0


def _json(status: int, body: Any, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    # json.dumps writes Python ints exactly, so profile ids above 2^53 stay exact.
    return Answer(status, json.dumps(body).encode(), "application/json", headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _request_id() -> str:
    return secrets.token_hex(10).upper()


def token_id(token: str) -> str:
    """A short, non-reversible name for a token (grant_state shows it instead of the token)."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _challenge(verifier: str, method: str) -> str:
    if method == "S256":
        return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier


class Emulator:
    """Amazon's side for the LWA Security Profile given here (the default client) and any added
    with ``add_client``. Thread-safe: every state change happens under one lock, so concurrent
    workers can hammer it."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str] | tuple[str, ...] = (),
        rotation: RotationMode = "never",
        grace_seconds: float = 300.0,
    ) -> None:
        self._lock = threading.RLock()
        self._default_client_id = client_id
        self.clients: dict[str, Client] = {client_id: Client(client_id, client_secret, set(redirect_uris))}
        self.rotation: RotationMode = rotation
        self.grace_seconds = grace_seconds
        self.headless: Literal["allow", "deny"] | None = None
        self.approved_for_ads = True
        self.allow_listed = True
        self.app_name = "Amazon Ads Connect"
        self.users: dict[str, User] = {}
        self.signed_in: str | None = None
        self.faults: _Faults = _Faults(self._lock)
        self._offset = 0.0
        self.clock: Callable[[], float] = lambda: time.time() + self._offset
        self._codes: dict[str, PendingCode] = {}
        self._grants: dict[str, Grant] = {}
        self._refresh: dict[str, RefreshRecord] = {}
        self._access: dict[str, AccessRecord] = {}
        self._pending: dict[str, dict[str, str]] = {}
        self._issued: set[str] = {client_secret}
        self._masking_order: list[str] = []
        self._log: list[dict[str, Any]] = []
        self._server: Any = None

    # --- configuration -------------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        """The default client's id (the one given to the constructor)."""
        return self._default_client_id

    @property
    def client_secret(self) -> str:
        """The default client's current secret."""
        with self._lock:
            return self.clients[self._default_client_id].client_secret

    @property
    def redirect_uris(self) -> set[str]:
        """The default client's Allowed Return URLs (the live set)."""
        return self.clients[self._default_client_id].redirect_uris

    def add_client(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | tuple[str, ...] = ()
    ) -> Client:
        """Register another Security Profile. Its codes and tokens are its own: another client
        presenting them gets ``invalid_grant`` (token endpoint) or 401 (Ads API)."""
        if not client_id or not client_secret:
            raise ValueError("a client needs a non-empty client_id and client_secret")
        with self._lock:
            if client_id in self.clients:
                raise ValueError(f"client {client_id!r} is already registered")
            client = Client(client_id, client_secret, set(redirect_uris))
            self.clients[client_id] = client
            self._issued.add(client_secret)
            return client

    def _client(self, client_id: str | None) -> Client:
        client = self.clients.get(client_id or self._default_client_id)
        if client is None:
            raise KeyError(client_id)
        return client

    def register_redirect_uri(self, uri: str, client_id: str | None = None) -> None:
        """Add an Allowed Return URL to a client (default: the default client)."""
        with self._lock:
            self._client(client_id).redirect_uris.add(uri)

    def rotate_client_secret(self, new_secret: str, client_id: str | None = None) -> None:
        """The operator rotated a client's secret: the old one gets 401 ``invalid_client``."""
        with self._lock:
            self._client(client_id).client_secret = new_secret
            self._issued.add(new_secret)

    def add_user(
        self,
        user_id: str,
        *,
        profiles: dict[str, list[dict[str, Any]]] | None = None,
        name: str | None = None,
        view_only: bool = False,
        has_campaigns: bool = True,
        decision: Literal["allow", "deny"] | None = None,
        propagation_delay_seconds: float = 0.0,
    ) -> User:
        """An Amazon account. ``profiles`` maps region to profile dicts (see seller_profile...);
        ``decision`` makes this user answer the consent page alone (headless per user);
        ``propagation_delay_seconds`` hides its profiles (and 403s scoped calls) that long."""
        unknown = set(profiles or {}) - set(REGIONS)
        if unknown or decision not in (None, "allow", "deny"):
            raise ValueError(f"unknown region or decision: {sorted(unknown)} {decision!r}")
        for listed in (profiles or {}).values():
            for profile in listed:
                check_profile(profile)
        with self._lock:
            user = User(
                user_id,
                name or user_id,
                {r: list((profiles or {}).get(r, [])) for r in REGIONS},
                view_only,
                has_campaigns,
                decision,
                propagation_delay=propagation_delay_seconds,
            )
            if propagation_delay_seconds:
                ready = self.clock() + propagation_delay_seconds
                user.available_at = {str(p["profileId"]): ready for ps in user.profiles.values() for p in ps}
            self.users[user_id] = user
            if self.signed_in is None:
                self.signed_in = user_id
            return user

    def sign_in(self, user_id: str) -> None:
        with self._lock:
            if user_id not in self.users:
                raise KeyError(user_id)
            self.signed_in = user_id

    def link_profile(
        self, user_id: str, region: str, profile: dict[str, Any], *, delay_seconds: float | None = None
    ) -> None:
        """Link a profile later (e.g. after the first campaign). It stays hidden, and scoped calls
        on it get 403, for ``delay_seconds`` (default: the user's propagation delay)."""
        if region not in REGIONS:
            raise ValueError(f"unknown region {region!r}")
        check_profile(profile)
        with self._lock:
            user = self.users[user_id]
            user.profiles[region].append(profile)
            delay = user.propagation_delay if delay_seconds is None else delay_seconds
            if delay:
                user.available_at[str(profile["profileId"])] = self.clock() + delay

    def revoke(self, user_id: str) -> None:
        """The user removed the application's access: every grant of theirs dies."""
        with self._lock:
            for grant in self._grants.values():
                if grant.user_id == user_id and not grant.revoked:
                    grant.revoked, grant.revoked_reason = True, "user_revoked"

    def advance(self, seconds: float) -> None:
        """Move the default clock forward (a clock you set yourself is yours to move)."""
        with self._lock:
            self._offset += seconds

    # --- persistence (local mode's --state-dir) ------------------------------------------------

    _PERSISTED: tuple[tuple[str, type[Any]], ...] = (
        ("users", User),
        ("_grants", Grant),
        ("_refresh", RefreshRecord),
        ("_access", AccessRecord),
    )

    def export_state(self) -> dict[str, Any]:
        """Everything a restart must keep so stored refresh tokens still work (JSON-ready)."""
        with self._lock:
            data: dict[str, Any] = {
                name: {key: dataclasses.asdict(value) for key, value in getattr(self, name).items()}
                for name, _ in self._PERSISTED
            }
            data.update(issued=sorted(self._issued), signed_in=self.signed_in, rotation=self.rotation)
        return data

    def import_state(self, data: dict[str, Any]) -> None:
        with self._lock:
            for name, klass in self._PERSISTED:
                getattr(self, name).update({key: klass(**value) for key, value in data.get(name, {}).items()})
            self._issued.update(data.get("issued", []))
            if data.get("signed_in") in self.users:
                self.signed_in = data["signed_in"]
            if data.get("rotation") in ROTATION_MODES:
                self.rotation = data["rotation"]

    # --- inspection ----------------------------------------------------------------------------

    def issued_secrets(self) -> set[str]:
        with self._lock:
            return set(self._issued)

    def received_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._log]

    def token_calls(self, region: str | None = None, grant_type: str | None = None) -> int:
        """Requests the token endpoints received (faulted and dropped ones included)."""
        with self._lock:
            return sum(
                1
                for e in self._log
                if e["endpoint"] == "token"
                and region in (None, e["region"])
                and grant_type in (None, e.get("grant_type"))
            )

    def grant_state(self, user_id: str, region: str) -> dict[str, Any] | None:
        with self._lock:
            grants = [g for g in self._grants.values() if g.user_id == user_id and g.region == region]
            if not grants:
                return None
            grant = grants[-1]
            return {
                "grant_id": grant.grant_id,
                "user_id": grant.user_id,
                "region": grant.region,
                "generation": grant.generation,
                "refresh_token_id": grant.refresh_token_id,
                "revoked": grant.revoked,
                "revoked_reason": grant.revoked_reason,
                "token_calls": grant.token_calls,
                "refresh_calls": grant.refresh_calls,
                "rejected_refresh_calls": grant.rejected_refresh_calls,
                "grants": len(grants),
            }

    def log_request(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._log.append(entry)

    def record(
        self,
        *,
        method: str,
        path: str,
        region: str,
        endpoint: str,
        status: int,
        query: str,
        form: Mapping[str, str],
        headers: Mapping[str, str],
        fault: bool,
        fault_after_processing: bool = False,
    ) -> None:
        """Log one request with every secret masked: secret fields and headers by name, and any
        value this emulator issued wherever it appears."""
        self.log_request(
            {
                "method": method,
                "path": path,
                "region": region,
                "endpoint": endpoint,
                "status": status,
                "grant_type": form.get("grant_type"),
                "query": urlencode(self.mask_fields(dict(parse_qsl(query, keep_blank_values=True)))),
                "params": self.mask_fields(dict(parse_qsl(query, keep_blank_values=True))),
                "form": self.mask_fields(form),
                "headers": {
                    name: _mask_header(value) if name.lower() in SECRET_HEADERS else self.mask(value)
                    for name, value in headers.items()
                },
                "has_scope_header": "amazon-advertising-api-scope" in {h.lower() for h in headers},
                "fault": fault,
                "fault_after_processing": fault_after_processing,
                "time": self.clock(),
            }
        )

    def mask_fields(self, fields: Mapping[str, str]) -> dict[str, str]:
        return {k: MASK if k in SECRET_FIELDS and v else self.mask(v) for k, v in fields.items()}

    def mask(self, text: str) -> str:
        """Replace every issued secret in ``text`` (logs of this emulator never hold one)."""
        with self._lock:
            # The set only grows, so its size tells whether the longest-first order is stale.
            if len(self._masking_order) != len(self._issued):
                self._masking_order = sorted(self._issued, key=len, reverse=True)
            for value in self._masking_order:
                if value and value in text:
                    text = text.replace(value, MASK)
        return text

    # --- authorization page ----------------------------------------------------------------------

    def authorize(
        self, region: str, params: dict[str, str], forced_error: tuple[str, str] | None = None
    ) -> Answer | dict[str, Any]:
        """Validate an authorization request. Returns an Answer (error page or redirect) or, when
        a person must decide, the context of the consent page. ``forced_error`` (an injected
        ``oauth_error`` fault: code, description) redirects back with that error once the client
        and redirect_uri are known good: Amazon never redirects to an unvalidated address."""
        with self._lock:
            client = self.clients.get(params.get("client_id", ""))
            redirect_uri = params.get("redirect_uri", "")
            if client is None:
                return _error_page(400, "The application is unknown (client_id).")
            if redirect_uri not in client.redirect_uris:
                return _error_page(400, "The redirect_uri is not on the application's Allowed Return URLs.")
            state = params.get("state")
            if forced_error is not None:
                return _redirect_error(redirect_uri, *forced_error, state)
            if params.get("response_type") != "code":
                return _redirect(
                    redirect_uri,
                    {"error": "unsupported_response_type", "error_description": "response_type must be code"},
                    state,
                )
            scopes = params.get("scope", "").split()
            if not scopes or any(s not in KNOWN_SCOPES for s in scopes) or not self.approved_for_ads:
                return _redirect(
                    redirect_uri,
                    {"error": "invalid_scope", "error_description": "An unknown scope was requested"},
                    state,
                )
            method = params.get("code_challenge_method") or "plain"
            challenge = params.get("code_challenge")
            if method not in ("plain", "S256") or (params.get("code_challenge_method") and not challenge):
                return _redirect_error(redirect_uri, "invalid_request", "Invalid PKCE parameters", state)
            if method == "S256" and not _S256_CHALLENGE.fullmatch(challenge or ""):
                return _redirect_error(
                    redirect_uri,
                    "invalid_request",
                    "code_challenge must be the 43-character base64url SHA-256 of the code_verifier",
                    state,
                )
            user = self.users.get(self.signed_in or "")
            decision = self.headless or (user.decision if user else None)
            if decision and user:
                return self._decide(region, params, user.user_id, decision)
            txid = secrets.token_urlsafe(16)
            self._pending[txid] = {**params, "region": region}
            return {
                "txid": txid,
                "users": [(u.user_id, u.name) for u in self.users.values()],
                "signed_in": self.signed_in,
                "scope": " ".join(scopes),
                "app_name": self.app_name,
            }

    def decide(
        self, txid: str, decision: str, user_id: str | None, forced_error: tuple[str, str] | None = None
    ) -> Answer:
        """The consent form's POST. ``forced_error`` as in ``authorize``: the pending request's
        redirect_uri was validated when the page was shown."""
        with self._lock:
            params = self._pending.pop(txid, None)
            if params is None:
                return _error_page(400, "This consent request expired or was already answered.")
            if forced_error is not None:
                return _redirect_error(params["redirect_uri"], *forced_error, params.get("state"))
            chosen = user_id or self.signed_in
            if chosen not in self.users:
                return _error_page(400, "Choose who is signed in.")
            assert chosen is not None
            return self._decide(params["region"], params, chosen, "allow" if decision == "allow" else "deny")

    def _decide(self, region: str, params: dict[str, str], user_id: str, decision: str) -> Answer:
        redirect_uri, state = params["redirect_uri"], params.get("state")
        if decision != "allow":
            return _redirect(
                redirect_uri,
                {"error": "access_denied", "error_description": "The user denied the request"},
                state,
            )
        code = "ANc" + secrets.token_urlsafe(18)
        self._issued.add(code)
        self._codes[code] = PendingCode(
            user_id=user_id,
            region=region,
            client_id=params["client_id"],
            redirect_uri=redirect_uri,
            challenge=params.get("code_challenge"),
            method=params.get("code_challenge_method") or "plain",
            scope=params.get("scope", ""),
            expires_at=self.clock() + CODE_LIFETIME,
        )
        return _redirect(redirect_uri, {"code": code, "scope": params.get("scope", "")}, state)

    # --- token endpoint --------------------------------------------------------------------------

    def token(self, region: str, form: dict[str, str], basic: tuple[str, str] | None) -> Answer:
        with self._lock:
            client_id, client_secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
            client = self.clients.get(client_id)
            if client is None or not client_secret or client_secret != client.client_secret:
                return _oauth_error(401, "invalid_client", "Client authentication failed")
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                return self._exchange(region, form, client)
            if grant_type == "refresh_token":
                return self._refresh_grant(region, form, client)
            if not grant_type:
                return _oauth_error(
                    400, "invalid_request", "The request is missing a required parameter : grant_type"
                )
            return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type")

    def _exchange(self, region: str, form: dict[str, str], client: Client) -> Answer:
        for required in ("code", "redirect_uri"):
            if not form.get(required):
                return _oauth_error(
                    400, "invalid_request", f"The request is missing a required parameter : {required}"
                )
        verifier = form.get("code_verifier", "")
        if len(verifier) >= 43:  # a real PKCE verifier (RFC 7636: 43-128 chars) is a secret too
            self._issued.add(verifier)
        code = form["code"]
        pending = self._codes.get(code)
        if pending is None:
            return _oauth_error(400, "invalid_grant", "The request has an invalid grant parameter : code")
        if pending.used:
            # A replayed code: like real servers, revoke what it produced.
            if pending.grant_id and pending.grant_id in self._grants:
                grant = self._grants[pending.grant_id]
                grant.revoked, grant.revoked_reason = True, grant.revoked_reason or "code_replayed"
            return _oauth_error(400, "invalid_grant", "The request has an invalid grant parameter : code")
        problems = (
            pending.expires_at < self.clock()
            or pending.region != region
            or pending.client_id != client.client_id
            or pending.redirect_uri != form.get("redirect_uri")
            or (pending.challenge is not None and _challenge(verifier, pending.method) != pending.challenge)
        )
        pending.used = True
        if problems:
            return _oauth_error(400, "invalid_grant", "The request has an invalid grant parameter : code")
        grant = Grant(
            secrets.token_hex(8), pending.user_id, region, client.client_id, created_at=self.clock()
        )
        self._grants[grant.grant_id] = grant
        pending.grant_id = grant.grant_id
        grant.token_calls += 1
        refresh_token = self._new_refresh_token(grant)
        return self._token_answer(grant, refresh_token)

    def _refresh_grant(self, region: str, form: dict[str, str], client: Client) -> Answer:
        token = form.get("refresh_token", "")
        if not token:
            return _oauth_error(
                400, "invalid_request", "The request is missing a required parameter : refresh_token"
            )
        record = self._refresh.get(token)
        dead = _oauth_error(400, "invalid_grant", DEAD_REFRESH_TOKEN)
        if record is None:
            return dead
        grant = self._grants[record.grant_id]
        # Bound to the client that obtained it: another (valid) client's refresh is invalid_grant.
        if grant.revoked or grant.region != region or grant.client_id != client.client_id:
            grant.rejected_refresh_calls += 1
            return dead
        now = self.clock()
        if record.generation != grant.generation:
            # An older token of a rotated grant: dead, except inside rotate_grace's grace period.
            in_grace = record.valid_until is not None and now <= record.valid_until
            if self.rotation == "rotate_reuse_detection" or not in_grace:
                grant.rejected_refresh_calls += 1
                if self.rotation == "rotate_reuse_detection":
                    grant.revoked, grant.revoked_reason = True, "refresh_token_reused"
                return dead
        grant.token_calls += 1
        grant.refresh_calls += 1
        new_refresh = None
        if self.rotation != "never":
            if self.rotation == "rotate_grace":
                # The current token lives on for grace_seconds. In the other modes an old
                # generation has valid_until None, which means dead at once.
                for other in self._refresh.values():
                    if other.grant_id == grant.grant_id and other.generation == grant.generation:
                        other.valid_until = now + self.grace_seconds
            grant.generation += 1
            new_refresh = self._new_refresh_token(grant)
        return self._token_answer(grant, new_refresh)

    def _new_refresh_token(self, grant: Grant) -> str:
        token = "Atzr|" + secrets.token_urlsafe(96)
        self._issued.add(token)
        self._refresh[token] = RefreshRecord(grant.grant_id, grant.generation)
        grant.refresh_token_id = token_id(token)
        return token

    def _token_answer(self, grant: Grant, refresh_token: str | None) -> Answer:
        # Real access tokens are a few hundred bytes (at most 2048).
        access = "Atza|" + secrets.token_urlsafe(384)
        self._issued.add(access)
        self._access[access] = AccessRecord(
            grant.grant_id, grant.region, grant.client_id, self.clock() + ACCESS_TOKEN_LIFETIME
        )
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME,
        }
        if refresh_token:
            body["refresh_token"] = refresh_token
        return _json(200, body, (("Cache-Control", "no-store"), ("Pragma", "no-cache")))

    # --- Ads API ---------------------------------------------------------------------------------

    def _authenticate(self, region: str, headers: dict[str, str]) -> tuple[User | None, Answer | None]:
        unauthorized = _json(
            401, {"code": "401", "details": "Authentication failed", "requestId": _request_id()}
        )
        auth = headers.get("authorization", "")
        client_id = headers.get("amazon-advertising-api-clientid", "")
        if not auth.startswith("Bearer ") or client_id not in self.clients or not self.allow_listed:
            return None, unauthorized
        record = self._access.get(auth[7:])
        if record is None or record.expires_at < self.clock() or record.region != region:
            return None, unauthorized
        if record.client_id != client_id:  # the token was issued to another client
            return None, unauthorized
        grant = self._grants[record.grant_id]
        if grant.revoked:
            return None, unauthorized
        return self.users[grant.user_id], None

    def _visible_profiles(self, user: User, region: str) -> list[dict[str, Any]]:
        if not user.has_campaigns:
            return []
        now = self.clock()
        return [p for p in user.profiles[region] if user.available_at.get(str(p["profileId"]), 0) <= now]

    def profiles(self, region: str, headers: dict[str, str], query: dict[str, str]) -> Answer:
        """``GET /v2/profiles``: only this region's profiles, with the documented filters
        (``accessLevel``, ``profileTypeFilter``, ``validPaymentMethodFilter``; ``apiProgram`` is
        accepted and does not narrow)."""
        with self._lock:
            user, error = self._authenticate(region, headers)
            if error or user is None:
                return error or _json(401, {})
            access_level = query.get("accessLevel", "edit")
            if access_level not in ("edit", "view"):
                return _json(
                    400, {"code": "400", "details": "Invalid accessLevel", "requestId": _request_id()}
                )
            if user.view_only and access_level != "view":
                return _forbidden("Forbidden")
            found = self._visible_profiles(user, region)
            types = {t for t in query.get("profileTypeFilter", "").lower().split(",") if t}
            if types:
                found = [p for p in found if p["accountInfo"]["type"] in types]
            payment = query.get("validPaymentMethodFilter", "").lower()
            if payment in ("true", "false"):
                wanted = payment == "true"
                found = [p for p in found if bool(p["accountInfo"].get("validPaymentMethod")) is wanted]
            return _json(200, found)

    def campaigns(self, region: str, headers: dict[str, str], *, v3: bool = False) -> Answer:
        """``GET /v2/sp/campaigns``, or with ``v3`` the Sponsored Products v3 list
        (``POST /sp/campaigns/list``, the one python-amazon-ad-api calls): same checks, v3 shape."""
        with self._lock:
            user, error = self._authenticate(region, headers)
            if error or user is None:
                return error or _json(401, {})
            scope = headers.get("amazon-advertising-api-scope", "").strip()
            if not scope:
                return _forbidden("Missing Amazon-Advertising-API-Scope header")
            # Still propagating, another account's, or another region's: all 403 at Amazon.
            profile = next(
                (p for p in self._visible_profiles(user, region) if str(p["profileId"]) == scope), None
            )
            if profile is None:
                return _forbidden("Not authorized to access this scope")
            if profile["accountInfo"]["type"] == "agency":
                return _json(
                    400,
                    {
                        "code": "400",
                        "details": "Advertiser ID cannot be decrypted",
                        "requestId": _request_id(),
                    },
                )
            campaign_id = int(str(profile["profileId"])[-6:]) + 1
            if v3:
                return Answer(
                    200,
                    json.dumps(
                        {
                            "campaigns": [
                                {
                                    "campaignId": str(campaign_id),
                                    "name": "Always On",
                                    "targetingType": "AUTO",
                                    "state": "ENABLED",
                                    "budget": {"budget": 10.0, "budgetType": "DAILY"},
                                    "startDate": "2026-01-01",
                                }
                            ],
                            "totalResults": 1,
                        }
                    ).encode(),
                    SP_CAMPAIGN_V3_MEDIA_TYPE,
                )
            return _json(
                200,
                [
                    {
                        "campaignId": campaign_id,
                        "name": "Always On",
                        "campaignType": "sponsoredProducts",
                        "targetingType": "auto",
                        "state": "enabled",
                        "dailyBudget": 10.0,
                        "startDate": "20260101",
                    }
                ],
            )

    # --- serving -----------------------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Start a threaded HTTP server (daemon threads) on ``host:port`` (0: a free port)."""
        from emulator.http import EmulatorServer  # noqa: PLC0415 - http imports this module

        server = EmulatorServer(self, host, port)
        self._server = server
        return server

    def endpoints_json(self, base_url: str) -> str:
        """The value of ``ADS_CONNECT_AMAZON_ENDPOINTS`` for an emulator at ``base_url``."""
        base = base_url.rstrip("/")
        return json.dumps(
            {
                r: {
                    "authorization_url": f"{base}/{r}/ap/oa",
                    "token_url": f"{base}/{r}/auth/o2/token",
                    "api_url": f"{base}/{r}/api",
                }
                for r in REGIONS
            }
        )


class _Faults:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.rules: list[FaultRule] = []

    def add(self, endpoint: str, **options: Any) -> FaultRule:
        """Inject a fault on the next ``count`` matching requests (first added, first used).
        ``options`` are ``fault_rule``'s."""
        rule = fault_rule(endpoint, **options)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def take(self, endpoint: str, region: str) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(endpoint, region):
                    if rule.count is not None:
                        rule.count -= 1
                    rule.hits += 1
                    return rule
            return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dataclasses.asdict(rule) for rule in self.rules if rule.count != 0]


def fault_rule(
    endpoint: str,
    region: str | None = None,
    status: int | None = None,
    count: int | None = 1,
    retry_after: float | None = None,
    delay_seconds: float = 0.0,
    drop_connection: bool = False,
    after_processing: bool = False,
    malformed: bool = False,
    oauth_error: str | None = None,
    error_description: str | None = None,
) -> FaultRule:
    """A validated fault (``faults.add`` and the standalone ``--fault`` both build it here).

    ``status`` defaults to 503; to 200 for ``malformed``; for ``oauth_error`` to 302 at
    ``authorize`` (a redirect) and at ``token`` to 401 for invalid_client, 500 for
    server_error, 503 for temporarily_unavailable, else 400. ``retry_after`` is whole seconds
    (the header's format): a fractional value is refused, never truncated."""
    if endpoint not in (*ENDPOINTS, "any") or region not in (None, *REGIONS):
        raise ValueError(f"unknown fault endpoint or region: {endpoint!r} {region!r}")
    for name, flag in (
        ("drop_connection", drop_connection),
        ("after_processing", after_processing),
        ("malformed", malformed),
    ):
        strict_bool(flag, name)
    if drop_connection + malformed + (oauth_error is not None) > 1:
        raise ValueError("a fault is one of drop_connection, malformed or oauth_error")
    if oauth_error is not None:
        status = _oauth_fault_status(endpoint, oauth_error, status, after_processing)
    elif error_description is not None:
        raise ValueError("error_description goes with oauth_error")
    if error_description is not None and not isinstance(error_description, str):
        raise ValueError("error_description must be a string")
    if malformed and status not in (None, 200):
        raise ValueError("a malformed answer is a 200")
    resolved = (200 if malformed else 503) if status is None else status
    if isinstance(resolved, bool) or not isinstance(resolved, int) or not 100 <= resolved <= 599:
        raise ValueError("fault status must be an HTTP status (an integer 100-599)")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise ValueError("fault count must be a non-negative integer or None")
    delay = _number(delay_seconds, "delay_seconds")
    if delay < 0:
        raise ValueError("delay_seconds must not be negative")
    return FaultRule(
        endpoint,
        region,
        resolved,
        count,
        _whole_seconds(retry_after),
        delay,
        drop_connection,
        after_processing,
        malformed,
        oauth_error,
        error_description,
    )


def default_error_description(error: str) -> str:
    """The ``error_description`` an injected OAuth error carries when the test gives none."""
    return _ERROR_DESCRIPTIONS.get(error, "Error")


def strict_bool(value: object, name: str) -> bool:
    """``value`` when it is a real boolean. JSON's "false" (a string) or 0 is refused, never read
    as its truthiness."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _whole_seconds(value: object) -> int | None:
    if value is None:
        return None
    seconds = _number(value, "retry_after")
    if seconds < 0 or not seconds.is_integer():
        raise ValueError("retry_after must be whole seconds, not negative (Retry-After is an integer)")
    return int(seconds)


def _oauth_fault_status(endpoint: str, error: str, status: int | None, after_processing: bool) -> int:
    if endpoint == "authorize":
        if error not in AUTHORIZE_ERRORS:
            raise ValueError(
                f"the authorization redirect never carries {error!r} ({', '.join(AUTHORIZE_ERRORS)})"
            )
        if after_processing or status not in (None, 302):
            raise ValueError("an authorize oauth_error is a redirect (302) instead of the real answer")
        return 302
    if endpoint == "token":
        if error not in TOKEN_ERRORS:
            raise ValueError(f"the token endpoint never answers {error!r} ({', '.join(TOKEN_ERRORS)})")
        chosen = _TOKEN_ERROR_STATUS.get(error, 400) if status is None else status
        if not isinstance(chosen, int) or isinstance(chosen, bool) or not 400 <= chosen <= 599:
            raise ValueError("a token oauth_error needs an error status (400-599)")
        return chosen
    raise ValueError("oauth_error applies to the authorize or token endpoint only")


def _redirect_error(redirect_uri: str, error: str, description: str, state: str | None) -> Answer:
    return _redirect(redirect_uri, {"error": error, "error_description": description}, state)


def _redirect(redirect_uri: str, params: dict[str, str], state: str | None) -> Answer:
    if state is not None:
        params = {**params, "state": state}
    separator = "&" if "?" in redirect_uri else "?"
    return Answer(302, b"", "text/plain", (("Location", f"{redirect_uri}{separator}{urlencode(params)}"),))


def _oauth_error(status: int, error: str, description: str) -> Answer:
    return _json(
        status,
        {
            "error": error,
            "error_description": description,
            "error_index": secrets.token_hex(6),
            "request_id": _request_id(),
        },
        (("Cache-Control", "no-store"),),
    )


def _forbidden(details: str) -> Answer:
    return _json(403, {"code": "403", "details": details, "requestId": _request_id()})


def _mask_header(value: str) -> str:
    scheme, _, rest = value.partition(" ")
    return f"{scheme} {MASK}" if rest else MASK


def _error_page(status: int, message: str) -> Answer:
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Amazon</title></head>'
        f"<body><h1>We're sorry</h1><p>{html.escape(message)}</p></body></html>"
    )
    return Answer(status, body.encode(), "text/html; charset=utf-8")
