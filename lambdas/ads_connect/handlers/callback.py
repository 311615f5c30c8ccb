"""Callback function: ``GET /callback`` (Amazon's redirect) and ``GET /result/{result_id}``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ads_connect.handlers import cookies
from ads_connect.handlers import http_common as web
from ads_connect.handlers.deadline import remaining_seconds_of
from ads_connect.handlers.dependencies import public_dependencies
from ads_connect.handlers.snapstart import register_hooks
from ads_connect.logic.callback import handle_callback, read_result
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.observability import logger, metrics
from ads_connect.pages.views import success_page


def _callback(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = public_dependencies().callback
    outcome = handle_callback(
        web.query_params(event),
        cookies.binding_cookie(event),
        result_base_url=web.public_base_url(event, deps.settings),
        deps=deps,
        # API Gateway gives up at ~29 s: no Amazon call starts that could answer after it.
        remaining_seconds=remaining_seconds_of(context),
    )
    metrics.add_metric(name="ConnectionsAuthorized", unit=MetricUnit.Count, value=1)
    logger.info(
        "connection authorized",
        extra={
            "tenant_id": outcome.connection.tenant_id,
            "region": outcome.connection.region.value,
            "reconsent": outcome.reconsent,
            "profile_count": outcome.connection.profile_count,
            "profiles_state": outcome.connection.profiles_state.value,
            "profile_discovery_deferred": outcome.profile_discovery_deferred,
        },
    )
    # 303: the code leaves the address bar; the next page holds no secret.
    return web.redirect_response(outcome.location, status=303)


def _result(event: dict[str, Any]) -> dict[str, Any]:
    deps = public_dependencies().callback
    result = read_result(
        web.path_parameter(event, "result_id"),
        cookies.binding_cookie(event),
        consent_store=deps.consent_store,
        now=deps.clock.now(),
    )
    page = success_page(
        web.page_context(event),
        tenant_label=result.display_name or result.tenant_id,
        region=result.region,
        profiles=result.profiles,
        profiles_state=result.profiles_state,
        reason=result.profiles_state_reason,
        view_only=result.view_only,
    )
    return web.html_response(page)


# SnapStart: dependencies built before the snapshot, random reseeded after each restore.
register_hooks()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        if web.method(event) != "GET":
            raise ConsentFlowError(FailureKind.METHOD_NOT_ALLOWED)
        path = str(event.get("rawPath") or "")
        if path.endswith("/callback"):
            return _callback(event, context)
        if "/result/" in path:
            return _result(event)
        raise ConsentFlowError(FailureKind.NOT_FOUND)
    except ConsentFlowError as error:
        return web.failure_response(error, event)
    except Exception as error:  # noqa: BLE001 - last resort: logged with a reference, friendly page shown
        return web.unexpected_failure_response(error, event)
