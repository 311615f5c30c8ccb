"""Flow 2: the hosted consent page and the start of the OAuth flow."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.logic.ids import id_hash, looks_like_id, new_id, pkce_pair
from ads_connect.logic.ports import ClientCredentialsMissingError, Clock, ConsentStore, TokenVault
from ads_connect.models.consent import ConnectSessionRecord, OAuthStateRecord
from ads_connect.models.settings import PagesSettings
from ads_connect.regions import Region

STATE_LIFETIME = timedelta(minutes=10)
CAMPAIGN_SCOPE = "advertising::campaign_management"


@dataclass(frozen=True)
class ConsentStart:
    authorization_url: str
    browser_binding: str  # the cookie value (the state record keeps only its hash)


def usable_session(consent_store: ConsentStore, session_id: str, now: datetime) -> ConnectSessionRecord:
    if not looks_like_id(session_id):
        raise ConsentFlowError(FailureKind.SESSION_UNKNOWN)
    session = consent_store.get_session(session_id)
    if session is None:
        raise ConsentFlowError(FailureKind.SESSION_UNKNOWN)
    if session.used_at is not None:
        raise ConsentFlowError(FailureKind.SESSION_USED)
    if session.revoked_at is not None:
        raise ConsentFlowError(FailureKind.SESSION_REVOKED)
    if session.expires_at <= now:
        raise ConsentFlowError(FailureKind.SESSION_EXPIRED)
    return session


def browser_binding(existing: str | None) -> tuple[str, bool]:
    """The browser's binding value, reused when it has a well-formed one (so two tabs do not
    invalidate each other), else a new one; second value: whether it is new (to be set)."""
    if existing and looks_like_id(existing):
        return existing, False
    return new_id(), True


def form_token(binding: str, session_id: str) -> str:
    """The landing page form's anti-forgery token: derived from the browser's binding cookie
    (``__Host-``, HttpOnly: another site can neither read nor set it) and the session."""
    return id_hash(f"consent-form:{session_id}:{binding}")


def require_same_origin_form(
    *, sec_fetch_site: str | None, submitted_token: str | None, binding: str | None, session_id: str
) -> None:
    """Cross-site request forgery guard for the start of a flow: only the landing page's own
    form may start one. Without it another site could submit the form for a session of its
    choosing, skipping the page that names the tenant, and connect the visitor's Amazon account
    to that tenant. ``Sec-Fetch-Site`` decides where the browser sends it (every current one
    does). A browser without fetch metadata must return the form's token, which only a page
    read with this browser's binding cookie carries. (``Origin`` cannot serve: under this site's
    ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` with form posts.)"""
    if sec_fetch_site is not None:
        if sec_fetch_site.strip().lower() == "same-origin":
            return
        raise ConsentFlowError(FailureKind.CROSS_SITE_REQUEST)
    if (
        binding
        and looks_like_id(binding)
        and submitted_token is not None
        and hmac.compare_digest(submitted_token, form_token(binding, session_id))
    ):
        return
    raise ConsentFlowError(FailureKind.CROSS_SITE_REQUEST)


def callback_uri(public_base_url: str) -> str:
    return f"{public_base_url.rstrip('/')}/callback"


def parse_region(value: str | None, session: ConnectSessionRecord) -> Region:
    if session.region is not None:
        if value not in (None, session.region.value):
            raise ConsentFlowError(FailureKind.INVALID_REGION)
        return session.region
    try:
        return Region(value or "")
    except ValueError:
        raise ConsentFlowError(FailureKind.INVALID_REGION) from None


def start_consent(
    session_id: str,
    *,
    region_choice: str | None,
    existing_binding: str | None,
    public_base_url: str,
    consent_store: ConsentStore,
    vault: TokenVault,
    clock: Clock,
    settings: PagesSettings,
) -> ConsentStart:
    now = clock.now()
    session = usable_session(consent_store, session_id, now)
    region = parse_region(region_choice, session)
    try:
        client_id = vault.read_client_id()
    except ClientCredentialsMissingError:
        raise ConsentFlowError(FailureKind.CLIENT_NOT_CONFIGURED) from None
    binding, _ = browser_binding(existing_binding)
    state = new_id()
    verifier, challenge = pkce_pair()
    redirect_uri = callback_uri(public_base_url)
    consent_store.put_state(
        state,
        OAuthStateRecord(
            session_hash=id_hash(session_id),
            tenant_id=session.tenant_id,
            region=region,
            redirect_uri=redirect_uri,
            code_verifier=verifier,
            browser_binding_hash=id_hash(binding),
            created_at=now,
            expires_at=now + STATE_LIFETIME,
            client_id=client_id,
        ),
    )
    scope = f"{CAMPAIGN_SCOPE} profile" if settings.include_profile_scope else CAMPAIGN_SCOPE
    query = urlencode(
        {
            "client_id": client_id,
            "scope": scope,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return ConsentStart(f"{settings.amazon_endpoints[region].authorization_url}?{query}", binding)
