"""What every public HTTP handler shares: reading API Gateway HTTP API (payload 2.0) events,
the public base URL, and turning pages into responses (the binding cookie: handlers/cookies.py)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from ads_connect.handlers.dependencies import page_brand
from ads_connect.handlers.failures import failure_cause, failure_stack
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.models.settings import PagesSettings
from ads_connect.observability import logger
from ads_connect.pages.errors import failure_page
from ads_connect.pages.render import redirect_headers, security_headers
from ads_connect.pages.text import negotiate_language
from ads_connect.pages.views import HtmlPage, PageContext

MAX_BODY_BYTES = 16 * 1024


def new_reference() -> str:
    return uuid.uuid4().hex[:12]


def query_params(event: Mapping[str, Any]) -> dict[str, str]:
    """First value of each query parameter (duplicates are not a feature of this flow)."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(str(event.get("rawQueryString") or ""), keep_blank_values=True):
        params.setdefault(key, value)
    return params


def form_params(event: Mapping[str, Any]) -> dict[str, str]:
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise ConsentFlowError(FailureKind.BAD_REQUEST)
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ConsentFlowError(FailureKind.BAD_REQUEST) from None
    else:
        raw = body.encode()
    if len(raw) > MAX_BODY_BYTES:
        raise ConsentFlowError(FailureKind.BAD_REQUEST)
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise ConsentFlowError(FailureKind.BAD_REQUEST) from None
    params: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        params.setdefault(key, value)
    return params


def public_base_url(event: Mapping[str, Any], settings: PagesSettings) -> str:
    """Configured (local mode, custom domain) or derived from the API Gateway request."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    context = event.get("requestContext") or {}
    domain = str(context.get("domainName") or "")
    stage = str(context.get("stage") or "$default")
    if not domain or any(c in domain for c in "/\\@?#"):
        raise ConsentFlowError(FailureKind.BAD_REQUEST)
    suffix = "" if stage == "$default" else f"/{stage}"
    return f"https://{domain}{suffix}"


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header by its lower-case name (HTTP API 2.0 lower-cases them)."""
    headers = event.get("headers") or {}
    value = headers.get(name) if isinstance(headers, dict) else None
    return value if isinstance(value, str) else None


def path_parameter(event: Mapping[str, Any], name: str) -> str:
    params = event.get("pathParameters") or {}
    value = params.get(name) if isinstance(params, dict) else None
    return value if isinstance(value, str) else ""


def method(event: Mapping[str, Any]) -> str:
    context = event.get("requestContext") or {}
    http = context.get("http") or {} if isinstance(context, dict) else {}
    return str(http.get("method") or "").upper() if isinstance(http, dict) else ""


def page_context(event: Mapping[str, Any]) -> PageContext:
    """The visitor's language (Accept-Language) and the operator's brand, for any page."""
    return PageContext(page_brand(), negotiate_language(header(event, "accept-language")))


def html_response(
    page: HtmlPage, *, cookies: list[str] | None = None, form_targets: tuple[str, ...] = ()
) -> dict[str, Any]:
    # The language changes the words only: the security headers are the same in every one.
    headers = security_headers(page.style_sha256, form_targets=form_targets, images=page.has_images)
    headers["Content-Language"] = page.language.value
    headers["Vary"] = "Accept-Language"
    response: dict[str, Any] = {
        "statusCode": page.status,
        "headers": headers,
        "body": page.body,
        "isBase64Encoded": False,
    }
    if cookies:
        response["cookies"] = cookies
    return response


def redirect_response(
    location: str, *, status: int = 303, cookies: list[str] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "statusCode": status,
        "headers": redirect_headers(location),
        "body": "",
        "isBase64Encoded": False,
    }
    if cookies:
        response["cookies"] = cookies
    return response


def failure_response(error: ConsentFlowError, event: Mapping[str, Any]) -> dict[str, Any]:
    reference = new_reference()
    level = logger.error if error.kind is FailureKind.INTERNAL else logger.warning
    level(
        "consent flow ended on an error page",
        extra={"failure": error.kind.value, "oauth_error": error.oauth_error, "reference": reference},
    )
    return html_response(failure_page(error, reference, page_context(event)))


def unexpected_failure_response(error: BaseException, event: Mapping[str, Any]) -> dict[str, Any]:
    """Last resort: the failure's type, codes and frames are logged with a reference (never its
    message: handlers/failures.py says why); the browser gets the generic page, never a stack
    trace."""
    reference = new_reference()
    logger.error(
        "unexpected failure in a public handler",
        extra={"reference": reference, **failure_cause(error), "stack": failure_stack(error)},
    )
    return html_response(failure_page(ConsentFlowError(FailureKind.INTERNAL), reference, page_context(event)))
