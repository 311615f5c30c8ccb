"""The words and status of every failure page (one table, used by both public handlers)."""

from __future__ import annotations

from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.pages.views import HtmlPage, error_page

_ASK_FOR_NEW_LINK = "Ask the company that sent you this link for a new one."
_START_AGAIN = "Please start again from the link you were given."

# kind -> (HTTP status, heading, message, hint)
_FAILURES: dict[FailureKind, tuple[int, str, str, str | None]] = {
    FailureKind.SESSION_UNKNOWN: (
        404,
        "This link is not valid",
        "We could not find this connection link.",
        _ASK_FOR_NEW_LINK,
    ),
    FailureKind.SESSION_EXPIRED: (
        410,
        "This link has expired",
        "Connection links are valid for a limited time.",
        _ASK_FOR_NEW_LINK,
    ),
    FailureKind.SESSION_USED: (
        410,
        "This link was already used",
        "This connection link has already connected an account.",
        _ASK_FOR_NEW_LINK,
    ),
    FailureKind.SESSION_REVOKED: (
        410,
        "This link was withdrawn",
        "The provider withdrew this connection link, so it can no longer connect an account.",
        _ASK_FOR_NEW_LINK,
    ),
    FailureKind.INVALID_REGION: (
        400,
        "Please choose a region",
        "Choose the Amazon region where your advertising account lives.",
        _START_AGAIN,
    ),
    FailureKind.CROSS_SITE_REQUEST: (
        403,
        "Please start from the connection page",
        "This request did not come from the connection page, so nothing was started.",
        "Open the link you were given and press the button on that page.",
    ),
    FailureKind.STATE_MISSING: (
        400,
        "Something is missing",
        "Amazon sent you back without the information we need.",
        _START_AGAIN,
    ),
    FailureKind.STATE_UNKNOWN: (
        400,
        "This sign-in cannot be completed",
        "This sign-in response is unknown or was already used.",
        _START_AGAIN,
    ),
    FailureKind.STATE_EXPIRED: (
        400,
        "This sign-in took too long",
        "The sign-in must be completed within 10 minutes.",
        _START_AGAIN,
    ),
    FailureKind.STATE_OTHER_BROWSER: (
        400,
        "Please finish in the same browser",
        "The sign-in was started in another browser or with cookies blocked.",
        "Start again from the link in this browser, with cookies allowed for this site.",
    ),
    FailureKind.COOKIE_CONFLICT: (
        400,
        "Please start again",
        "Your browser sent this site's sign-in cookie in a form we cannot trust, so nothing was "
        "started or connected.",
        "Clear this site's cookies (or use a private window) and start again from the link you were given.",
    ),
    FailureKind.CONSENT_DENIED: (
        403,
        "No access was granted",
        "You chose not to allow access to your Amazon Ads account. Nothing was connected.",
        "If that was a mistake, start again from the link you were given.",
    ),
    FailureKind.APP_NOT_APPROVED: (
        400,
        "This application is not approved for Amazon Ads yet",
        "Amazon answered invalid_scope: the application's Login with Amazon profile is not (yet) "
        "approved and linked for the Amazon Ads API.",
        "For the operator: apply for Ads API access and link the approved application to this "
        "Security Profile (see the deployment guide). Nothing is wrong with your account.",
    ),
    FailureKind.AMAZON_ERROR: (
        # 4xx: Amazon refused this sign-in (on the redirect or at the exchange); it is not an
        # outage of this service, and no input may make a public route answer 5xx.
        400,
        "Amazon could not complete the sign-in",
        "Amazon returned an error.",
        _START_AGAIN,
    ),
    FailureKind.CODE_REJECTED: (
        400,
        "Amazon did not accept this sign-in",
        "The sign-in code expired or was already used.",
        _START_AGAIN,
    ),
    FailureKind.AMAZON_UNREACHABLE: (
        502,
        "Amazon is not answering",
        "We could not reach Amazon to finish connecting your account.",
        "Please try again in a few minutes from the link you were given.",
    ),
    FailureKind.CLIENT_NOT_CONFIGURED: (
        503,
        "Connecting is not available yet",
        "The operator has not finished setting up the Amazon application.",
        "For the operator: fill in the LWA client id and secret (see the deployment guide).",
    ),
    FailureKind.CLIENT_REJECTED: (
        503,
        "Connecting is not available right now",
        "Amazon did not accept the application's credentials.",
        "For the operator: the LWA client secret is wrong or was rotated; set the current one.",
    ),
    FailureKind.CONNECTION_BUSY: (
        503,
        "Please try again in a minute",
        "Your account is being updated by another request right now, so nothing was changed.",
        "Start again from the link you were given in a minute.",
    ),
    FailureKind.RECONSENT_NOT_SAVED: (
        503,
        "Your account was not reconnected",
        "Something failed on our side while saving the new connection. Your existing connection is "
        "unchanged and keeps working.",
        "Open the link again in a few minutes to finish reconnecting.",
    ),
    FailureKind.SESSION_IN_PROGRESS: (
        409,
        "This link is already being used",
        "Another sign-in from this connection link is being completed right now, so this one was not used.",
        "Wait a minute, then open the link again: it shows whether your account is connected.",
    ),
    FailureKind.RESULT_UNKNOWN: (
        404,
        "Nothing to show",
        "This result page is unknown, expired, or belongs to another browser.",
        None,
    ),
    FailureKind.BAD_REQUEST: (
        400,
        "This request cannot be handled",
        "The request was malformed.",
        _START_AGAIN,
    ),
    FailureKind.NOT_FOUND: (404, "Page not found", "There is no page at this address.", None),
    FailureKind.METHOD_NOT_ALLOWED: (405, "Not allowed", "This page cannot be used that way.", None),
    FailureKind.INTERNAL: (
        503,
        "Something went wrong",
        "We could not finish this request. Nothing was changed by the failed step.",
        _START_AGAIN,
    ),
}


def failure_page(error: ConsentFlowError, reference: str) -> HtmlPage:
    status, heading, message, hint = _FAILURES[error.kind]
    if error.oauth_error and error.kind is FailureKind.AMAZON_ERROR:
        message = f"{message} (error code: {error.oauth_error})"
    return error_page(status=status, heading=heading, message=message, reference=reference, hint=hint)
