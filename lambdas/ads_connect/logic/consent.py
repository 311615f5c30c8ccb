"""Flow 2: the hosted consent page and the start of the OAuth flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

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
    if session.expires_at <= now:
        raise ConsentFlowError(FailureKind.SESSION_EXPIRED)
    return session


def require_same_origin_form(*, sec_fetch_site: str | None, origin: str | None, public_base_url: str) -> None:
    """Cross-site request forgery guard for the start of a flow: only the landing page's own
    form may start one. Without it another site could submit the form for a session of its
    choosing, skipping the page that names the tenant, and connect the visitor's Amazon account
    to that tenant. ``Sec-Fetch-Site`` decides where the browser sends it (every current one
    does); otherwise ``Origin`` must be this site's. A request with neither is refused: browsers
    send at least one of them with every form POST."""
    if sec_fetch_site is not None:
        if sec_fetch_site.strip().lower() == "same-origin":
            return
        raise ConsentFlowError(FailureKind.CROSS_SITE_REQUEST)
    if origin is not None and origin.strip().rstrip("/") == _origin_of(public_base_url):
        return
    raise ConsentFlowError(FailureKind.CROSS_SITE_REQUEST)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
        client_id = vault.read_client_credentials().client_id
    except ClientCredentialsMissingError:
        raise ConsentFlowError(FailureKind.CLIENT_NOT_CONFIGURED) from None
    # Reuse the browser's binding so two tabs of one browser do not invalidate each other.
    binding = existing_binding if existing_binding and looks_like_id(existing_binding) else new_id()
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
