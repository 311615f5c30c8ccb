"""Every way the browser side of the flow can end badly, as one typed error.

The handlers turn a ``ConsentFlowError`` into the one error page (pages/errors.py maps each kind
to its status and words). ``oauth_error`` is only ever one of Amazon's documented codes.
"""

from __future__ import annotations

from enum import StrEnum


class FailureKind(StrEnum):
    SESSION_UNKNOWN = "session_unknown"
    SESSION_EXPIRED = "session_expired"
    SESSION_USED = "session_used"
    SESSION_REVOKED = "session_revoked"  # the operator withdrew the link or disconnected the tenant
    INVALID_REGION = "invalid_region"
    CROSS_SITE_REQUEST = "cross_site_request"  # the flow was started from another site's form
    STATE_MISSING = "state_missing"
    STATE_UNKNOWN = "state_unknown"  # forged, replayed, or swept after expiry
    STATE_EXPIRED = "state_expired"
    STATE_OTHER_BROWSER = "state_other_browser"
    COOKIE_CONFLICT = "cookie_conflict"  # two binding cookies, a malformed one, or one smuggled in another
    CONSENT_DENIED = "consent_denied"
    APP_NOT_APPROVED = "app_not_approved"  # invalid_scope: LWA app not yet allowed for the Ads API
    AMAZON_ERROR = "amazon_error"
    CODE_REJECTED = "code_rejected"
    AMAZON_UNREACHABLE = "amazon_unreachable"
    CLIENT_NOT_CONFIGURED = "client_not_configured"
    CLIENT_REJECTED = "client_rejected"
    CONNECTION_BUSY = "connection_busy"  # another writer held the connection's lease too long
    # A re-consent failed after the new grant was stored; the previous grant was put back.
    RECONSENT_NOT_SAVED = "reconsent_not_saved"
    # The same, when the previous connection did not work (disconnected, reauthorization_required
    # or without a refresh token): put back as it was, the new tokens deleted again.
    RECONNECT_NOT_SAVED = "reconnect_not_saved"
    SESSION_IN_PROGRESS = "session_in_progress"  # another callback of this session holds its claim
    RESULT_UNKNOWN = "result_unknown"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INTERNAL = "internal"


# The error codes LWA documents for the authorization redirect; anything else is "unknown".
KNOWN_OAUTH_ERRORS = frozenset(
    {
        "access_denied",
        "invalid_request",
        "unauthorized_client",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
    }
)


class ConsentFlowError(Exception):
    def __init__(self, kind: FailureKind, *, oauth_error: str | None = None) -> None:
        super().__init__(kind.value if oauth_error is None else f"{kind.value} ({oauth_error})")
        self.kind = kind
        self.oauth_error = oauth_error if oauth_error in KNOWN_OAUTH_ERRORS else None
