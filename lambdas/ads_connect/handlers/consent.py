"""Consent function: ``GET /connect/{session_id}`` (landing page) and
``POST /connect/{session_id}`` (start: state + PKCE + binding cookie, 302 to Amazon)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ads_connect.handlers import cookies
from ads_connect.handlers import http_common as web
from ads_connect.handlers.dependencies import public_dependencies
from ads_connect.handlers.snapstart import register_hooks
from ads_connect.logic.consent import (
    browser_binding,
    form_token,
    require_same_origin_form,
    start_consent,
    usable_session,
)
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.observability import logger, metrics
from ads_connect.pages.views import landing_page


def _landing(event: dict[str, Any], session_id: str) -> dict[str, Any]:
    deps = public_dependencies().callback
    session = usable_session(deps.consent_store, session_id, deps.clock.now())
    tenant = session.display_name or session.tenant_id
    binding, new_binding = browser_binding(cookies.binding_cookie(event))
    page = landing_page(
        web.page_context(event),
        tenant_label=tenant,
        action=f"{web.public_base_url(event, deps.settings)}/connect/{session_id}",
        fixed_region=session.region,
        expires=session.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        form_token=form_token(binding, session_id),
    )
    # Chromium applies form-action to the redirect that follows the POST: allow Amazon's hosts.
    authorization_origins = tuple(
        sorted({e.authorization_origin for e in deps.settings.amazon_endpoints.values()})
    )
    set_cookies = [cookies.binding_set_cookie(binding)] if new_binding else None
    return web.html_response(page, cookies=set_cookies, form_targets=authorization_origins)


def _start(event: dict[str, Any], session_id: str) -> dict[str, Any]:
    deps = public_dependencies().callback
    base_url = web.public_base_url(event, deps.settings)
    form = web.form_params(event)
    binding = cookies.binding_cookie(event)
    require_same_origin_form(
        sec_fetch_site=web.header(event, "sec-fetch-site"),
        submitted_token=form.get("form_token"),
        binding=binding,
        session_id=session_id,
    )
    started = start_consent(
        session_id,
        region_choice=form.get("region"),
        existing_binding=binding,
        public_base_url=base_url,
        consent_store=deps.consent_store,
        vault=deps.vault,
        clock=deps.clock,
        settings=deps.settings,
    )
    logger.info("consent started", extra={"authorization_host": urlsplit(started.authorization_url).netloc})
    return web.redirect_response(
        started.authorization_url, status=302, cookies=[cookies.binding_set_cookie(started.browser_binding)]
    )


# SnapStart: dependencies built before the snapshot, random reseeded after each restore.
register_hooks()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        session_id = web.path_parameter(event, "session_id")
        method = web.method(event)
        if method == "GET":
            return _landing(event, session_id)
        if method == "POST":
            return _start(event, session_id)
        raise ConsentFlowError(FailureKind.METHOD_NOT_ALLOWED)
    except ConsentFlowError as error:
        return web.failure_response(error, event)
    except Exception as error:  # noqa: BLE001 - last resort: logged with a reference, friendly page shown
        return web.unexpected_failure_response(error, event)
