"""The status and words of every failure page (one table, used by both public handlers).

Each kind's heading and message are ``failure.<kind>.heading`` / ``.message`` in
``pages/text.py``; the hint is named here (several kinds share one).
"""

from __future__ import annotations

from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.pages.render import Markup, join
from ads_connect.pages.views import HtmlPage, PageContext, error_page, words

_ASK_FOR_NEW_LINK = "hint.ask_new_link"
_START_AGAIN = "hint.start_again"
_OWN_HINT = "own"  # the kind's own failure.<kind>.hint

# kind -> (HTTP status, hint)
_FAILURES: dict[FailureKind, tuple[int, str | None]] = {
    FailureKind.SESSION_UNKNOWN: (404, _ASK_FOR_NEW_LINK),
    FailureKind.SESSION_EXPIRED: (410, _ASK_FOR_NEW_LINK),
    FailureKind.SESSION_USED: (410, _ASK_FOR_NEW_LINK),
    FailureKind.SESSION_REVOKED: (410, _ASK_FOR_NEW_LINK),
    FailureKind.INVALID_REGION: (400, _START_AGAIN),
    FailureKind.CROSS_SITE_REQUEST: (403, _OWN_HINT),
    FailureKind.STATE_MISSING: (400, _START_AGAIN),
    FailureKind.STATE_UNKNOWN: (400, _START_AGAIN),
    FailureKind.STATE_EXPIRED: (400, _START_AGAIN),
    FailureKind.STATE_OTHER_BROWSER: (400, _OWN_HINT),
    FailureKind.COOKIE_CONFLICT: (400, _OWN_HINT),
    FailureKind.CONSENT_DENIED: (403, _OWN_HINT),
    FailureKind.APP_NOT_APPROVED: (400, _OWN_HINT),
    # 4xx: Amazon refused this sign-in (on the redirect or at the exchange); it is not an outage
    # of this service, and no input may make a public route answer 5xx.
    FailureKind.AMAZON_ERROR: (400, _START_AGAIN),
    FailureKind.CODE_REJECTED: (400, _START_AGAIN),
    FailureKind.AMAZON_UNREACHABLE: (502, _OWN_HINT),
    FailureKind.CLIENT_NOT_CONFIGURED: (503, _OWN_HINT),
    FailureKind.CLIENT_REJECTED: (503, _OWN_HINT),
    FailureKind.CONNECTION_BUSY: (503, _OWN_HINT),
    FailureKind.SESSION_IN_PROGRESS: (409, _OWN_HINT),
    # The previous connection was put back and still works: a retry later is all it takes.
    FailureKind.RECONSENT_NOT_SAVED: (503, _OWN_HINT),
    # The previous connection did not work and still does not: the same retry, other words.
    FailureKind.RECONNECT_NOT_SAVED: (503, "failure.reconsent_not_saved.hint"),
    FailureKind.RESULT_UNKNOWN: (404, None),
    FailureKind.BAD_REQUEST: (400, _START_AGAIN),
    FailureKind.NOT_FOUND: (404, None),
    FailureKind.METHOD_NOT_ALLOWED: (405, None),
    FailureKind.INTERNAL: (503, _START_AGAIN),
}


def failure_page(error: ConsentFlowError, reference: str, context: PageContext) -> HtmlPage:
    status, hint = _FAILURES[error.kind]
    prefix = f"failure.{error.kind.value}"
    message = words(context, f"{prefix}.message")
    if error.oauth_error and error.kind is FailureKind.AMAZON_ERROR:
        message = join([message, Markup(" "), words(context, "error.amazon_code", code=error.oauth_error)])
    hint_key = f"{prefix}.hint" if hint == _OWN_HINT else hint
    return error_page(
        context,
        status=status,
        heading=words(context, f"{prefix}.heading"),
        message=message,
        reference=reference,
        hint=words(context, hint_key) if hint_key else None,
    )
