"""Admin API: ``ANY /admin/{proxy+}`` behind API Gateway's IAM authorization (payload 2.0).

Thin: check the IAM context, validate the path and body, call ``logic.admin``, map the result
or a typed exception to JSON. Every error is ``{"error": {"code", "message", "reference"}}``
and the reference is logged with it; nothing here ever answers with a stack trace or a secret.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from ads_connect.clock import SystemClock
from ads_connect.handlers.deadline import remaining_seconds_of
from ads_connect.handlers.failures import failure_cause, failure_stack
from ads_connect.logic.admin import AdminService, ConnectionBusyError, SessionNotFoundError
from ads_connect.logic.clients import ClientChangeRefusedError
from ads_connect.logic.connect_session import ConnectSessionRequestError
from ads_connect.logic.ports import (
    AmazonError,
    ClientCredentialsMissingError,
    ConnectionDisconnectedError,
    ConnectionNeedsReauthorizationError,
    ConnectionNotFoundError,
    InvalidPageTokenError,
    LeaseHeldError,
    StaleGrantError,
    TenantNotFoundError,
    TransientAmazonError,
)
from ads_connect.logic.refresh import (
    DeadlineTooCloseError,
    RotatedTokenNotPersistedError,
    reactivate_connection,
)
from ads_connect.models.admin_api import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ClientCredentialsRequest,
    ClientCredentialsWritten,
    ConnectionList,
    ConnectSessionCreated,
    ConnectSessionRequest,
    CredentialsCheck,
    Disconnected,
    ErrorBody,
    ErrorDetail,
    ProfileResyncResult,
    Reactivation,
    RefreshResult,
    RevocationsConfirmed,
    SessionList,
    SessionRevoked,
    TenantDetail,
    TenantList,
)
from ads_connect.models.records import (
    DEFAULT_RECOVERY_DAYS,
    MAX_RECOVERY_DAYS,
    MIN_RECOVERY_DAYS,
    TENANT_ID_PATTERN,
    Connection,
    ConnectionStatus,
    RefreshAttempt,
)
from ads_connect.models.settings import AdminSettings
from ads_connect.observability import logger, metrics, xray_tracer
from ads_connect.regions import Region, region_list

# Not a public function: its cold start can afford the X-Ray SDK (ads_connect.observability).
tracer = xray_tracer()

app = APIGatewayHttpResolver(enable_validation=True)

# What any route may answer besides its success (the mapping below): one ErrorBody each.
_ERROR_STATUSES = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.FORBIDDEN,
    HTTPStatus.NOT_FOUND,
    HTTPStatus.CONFLICT,
    HTTPStatus.INTERNAL_SERVER_ERROR,
    HTTPStatus.BAD_GATEWAY,
    HTTPStatus.SERVICE_UNAVAILABLE,
)

# Every route, so that a known path with the wrong method answers 405 rather than 404.
_ROUTES: list[tuple[str, re.Pattern[str]]] = []


def _route(
    method: str, rule: str, *, answers: type[BaseModel], status: HTTPStatus = HTTPStatus.OK
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A route, with its success body (``answers``, sent with ``status``) for the OpenAPI
    document (docs/admin-api.openapi.json); every error is the one ``ErrorBody``."""
    pattern = re.sub(r"<\w+>", r"[^/]+", rule)
    _ROUTES.append((method, re.compile(f"^{pattern}$")))
    responses: dict[int, Any] = {
        int(status): {
            "description": status.phrase,
            "content": {content_types.APPLICATION_JSON: {"model": answers}},
        }
    }
    for error in _ERROR_STATUSES:
        responses[int(error)] = {
            "description": f"{error.phrase}: {{error: {{code, message, reference}}}}",
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
    return app.route(rule, method=method, responses=responses)


# ---------------------------------------------------------------------------------------------
# Dependencies: built once per cold start from the environment; tests install their own.
# ---------------------------------------------------------------------------------------------

_service: AdminService | None = None


def build_service(settings: AdminSettings | None = None) -> AdminService:
    """Compose the production adapters and the other flows, once per cold start.

    The operator actions run the product's own flows: refresh through ``logic.refresh`` (same
    lease as the schedule, forced, trigger ``admin``), profile sync through ``logic.profiles``,
    connect sessions through ``logic.connect_session``.
    """
    # Imported here so that importing this module for its routes needs none of the adapters.
    from ads_connect.adapters.ads_api import HttpAdsApiClient  # noqa: PLC0415
    from ads_connect.adapters.connection_store import DynamoConnectionStore  # noqa: PLC0415
    from ads_connect.adapters.consent_store import DynamoConsentStore  # noqa: PLC0415
    from ads_connect.adapters.dynamodb import dynamodb_table  # noqa: PLC0415
    from ads_connect.adapters.events import EventBridgePublisher  # noqa: PLC0415
    from ads_connect.adapters.lwa import HttpLwaClient  # noqa: PLC0415
    from ads_connect.adapters.secrets import SecretsManagerVault  # noqa: PLC0415
    from ads_connect.handlers.http_common import public_base_url  # noqa: PLC0415
    from ads_connect.logic.connect_session import create_connect_session  # noqa: PLC0415
    from ads_connect.logic.profiles import resync_connection_profiles  # noqa: PLC0415

    # Local: this module's route of the same name is the HTTP endpoint.
    from ads_connect.logic.refresh import refresh_connection  # noqa: PLC0415

    settings = settings or AdminSettings.from_environment()
    clock = SystemClock()
    # One table object for both stores: one DynamoDB client to build at cold start.
    table = dynamodb_table(settings.table_name)
    store = DynamoConnectionStore(settings.table_name, clock=clock, table=table)
    vault = SecretsManagerVault(settings)
    lwa = HttpLwaClient(settings.amazon_endpoints)
    events = EventBridgePublisher(settings.event_bus_name, clock=clock)
    ads_api = HttpAdsApiClient(settings.amazon_endpoints)
    consent_store = DynamoConsentStore(settings.table_name, table=table)

    def refresh_now(tenant_id: str, region: Region) -> RefreshAttempt:
        return refresh_connection(
            tenant_id,
            region,
            force=True,
            trigger="admin",
            store=store,
            vault=vault,
            lwa=lwa,
            ads_api=ads_api,
            events=events,
            clock=clock,
            settings=settings,
            # The function outlives API Gateway's 30 s (stacks/ads_connect.py ADMIN_TIMEOUT): retries and
            # the token call start only while a rotated-token write still fits before its own end.
            remaining_seconds=remaining_seconds_of(app.lambda_context),
        )

    def reactivate_now(tenant_id: str, region: Region) -> RefreshAttempt:
        return reactivate_connection(
            tenant_id,
            region,
            store=store,
            vault=vault,
            lwa=lwa,
            events=events,
            clock=clock,
            settings=settings,
            remaining_seconds=remaining_seconds_of(app.lambda_context),
        )

    def resync(connection: Connection) -> Connection:
        return resync_connection_profiles(
            connection, trigger="admin", store=store, vault=vault, ads_api=ads_api, events=events, clock=clock
        )

    def create_session(tenant_id: str, request: ConnectSessionRequest) -> ConnectSessionCreated:
        created = create_connect_session(
            tenant_id,
            display_name=request.display_name,
            region=request.region,
            return_url=request.return_url,
            lifetime_seconds=request.lifetime_seconds,
            consent_store=consent_store,
            clock=clock,
            settings=settings,
            # The consent pages live on the same API as this admin route.
            public_base_url=public_base_url(app.current_event.raw_event, settings),
        )
        return ConnectSessionCreated(
            tenant_id=tenant_id,
            consent_url=created.consent_url,
            expires_at=created.expires_at,
            region=request.region,
        )

    return AdminService(
        store=store,
        vault=vault,
        lwa=lwa,
        events=events,
        clock=clock,
        refresh_now=refresh_now,
        reactivate_now=reactivate_now,
        sessions=consent_store,
        resync=resync,
        create_session=create_session,
    )


def service() -> AdminService:
    global _service  # noqa: PLW0603 - one service per cold start, reused across invocations
    if _service is None:
        _service = build_service()
    return _service


def reset() -> None:
    """Forget the built service, as a new container would (local mode recycles warm functions)."""
    global _service  # noqa: PLW0603 - see service()
    _service = None


# ---------------------------------------------------------------------------------------------
# Errors: the one place mapping a domain exception to a status and a stable code.
# ---------------------------------------------------------------------------------------------


class AdminRequestError(Exception):
    """A request the handler itself rejects (bad path parameter, missing IAM context...)."""

    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_ERROR_MAP: tuple[tuple[type[Exception], HTTPStatus, str, str], ...] = (
    (TenantNotFoundError, HTTPStatus.NOT_FOUND, "tenant_not_found", "No connection exists for this tenant."),
    (
        ConnectionNotFoundError,
        HTTPStatus.NOT_FOUND,
        "connection_not_found",
        "This tenant has no connection in this region.",
    ),
    (
        SessionNotFoundError,
        HTTPStatus.NOT_FOUND,
        "session_not_found",
        "No connect session has this reference (it never existed or has expired).",
    ),
    (
        ConnectionDisconnectedError,
        HTTPStatus.CONFLICT,
        "connection_disconnected",
        "This connection was disconnected; create a connect session to connect it again.",
    ),
    (
        ConnectionNeedsReauthorizationError,
        HTTPStatus.CONFLICT,
        "reauthorization_required",
        "The advertiser must consent again: create a connect session for this tenant.",
    ),
    (
        ConnectionBusyError,
        HTTPStatus.CONFLICT,
        "connection_busy",
        "The connection is busy (a refresh, profile re-sync or re-consent is running); nothing was "
        "changed. Retry in a few seconds.",
    ),
    (
        LeaseHeldError,
        HTTPStatus.CONFLICT,
        "refresh_in_progress",
        "A refresh of this connection is running right now; try again in a minute.",
    ),
    (
        StaleGrantError,
        HTTPStatus.CONFLICT,
        "concurrent_change",
        "The connection changed while this request ran (re-consent or refresh); try again.",
    ),
    (
        ClientCredentialsMissingError,
        HTTPStatus.CONFLICT,
        "client_credentials_missing",
        "The LWA client id and secret have not been set: run `credentials set` first.",
    ),
    (
        # The refresh would not have finished before API Gateway's limit: it did not start.
        DeadlineTooCloseError,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "not_enough_time",
        "Too little of this request's time was left to refresh safely; nothing was changed and "
        "Amazon was not called. Retry now.",
    ),
    (
        RotatedTokenNotPersistedError,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "token_not_persisted",
        "Amazon rotated the refresh token and storing it failed; the alarm fired and the refresh "
        "will be retried when the lease expires.",
    ),
    (
        TransientAmazonError,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "amazon_unavailable",
        "Amazon did not answer (timeout, throttling or server error); try again later.",
    ),
    (AmazonError, HTTPStatus.BAD_GATEWAY, "amazon_error", "Amazon rejected the request."),
    (
        ClientError,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "aws_unavailable",
        "An AWS service call failed; try again, and check the function's logs with the reference.",
    ),
    (
        BotoCoreError,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "aws_unavailable",
        "An AWS service call failed; try again, and check the function's logs with the reference.",
    ),
)


def _error(status: HTTPStatus, code: str, message: str, *, exc: BaseException | None = None) -> Response[str]:
    """The one error answer; its reference is logged in the same line as the failure's cause."""
    reference = uuid.uuid4().hex[:16]
    extra: dict[str, Any] = {"status": int(status), "code": code, "reference": reference}
    if exc is not None:
        extra.update(failure_cause(exc))
    if status == HTTPStatus.INTERNAL_SERVER_ERROR and exc is not None:
        # A bug: where it happened goes to the log (with the reference), never into the answer.
        extra["stack"] = failure_stack(exc)
        logger.error("admin request failed", extra=extra)
    elif status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        logger.error("admin request failed", extra=extra)
    else:
        logger.warning("admin request failed", extra=extra)
    body = ErrorBody(error=ErrorDetail(code=code, message=message, reference=reference))
    return Response(
        status_code=int(status), content_type=content_types.APPLICATION_JSON, body=body.model_dump_json()
    )


def _ok(model: BaseModel, status: HTTPStatus = HTTPStatus.OK) -> Response[str]:
    return Response(
        status_code=int(status), content_type=content_types.APPLICATION_JSON, body=model.model_dump_json()
    )


def _admin_request_error(exc: AdminRequestError) -> Response[str]:
    return _error(exc.status, exc.code, exc.message)


def _page_token_error(exc: InvalidPageTokenError) -> Response[str]:
    return _error(HTTPStatus.BAD_REQUEST, "invalid_request", str(exc))


def _session_request_error(exc: ConnectSessionRequestError) -> Response[str]:
    # The connect flow's messages are fixed sentences that never repeat the rejected value.
    return _error(HTTPStatus.BAD_REQUEST, "invalid_connect_session", str(exc))


def _validation_error(exc: RequestValidationError) -> Response[str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _error(HTTPStatus.BAD_REQUEST, "invalid_json", "The request body is not valid JSON.")
    # Field locations and pydantic's messages only: never the rejected value (it may be a secret).
    problems = "; ".join(
        f"{'.'.join(str(part) for part in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:5]
    )
    return _error(HTTPStatus.BAD_REQUEST, "invalid_request", problems or "The request is invalid.")


def _not_found(_: NotFoundError) -> Response[str]:
    event = app.current_event
    path, method = event.path, event.http_method.upper()
    allowed = sorted({m for m, pattern in _ROUTES if pattern.match(path)})
    if allowed and method not in allowed:
        response = _error(
            HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", f"Use {', '.join(allowed)} on this path."
        )
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return _error(HTTPStatus.NOT_FOUND, "unknown_route", "There is no admin API route at this path.")


def _client_change_refused(exc: ClientChangeRefusedError) -> Response[str]:
    # The message names client ids (not secrets) and grant counts, built by logic/clients.py.
    return _error(HTTPStatus.CONFLICT, "client_change_refused", str(exc))


def _domain_or_unexpected(exc: Exception) -> Response[str]:
    for klass, status, code, message in _ERROR_MAP:
        if isinstance(exc, klass):
            return _error(status, code, message, exc=exc)
    return _error(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "internal_error",
        "An unexpected error occurred; the function's logs have the details under this reference.",
        exc=exc,
    )


# Registered by call, not decorator: the decorator is untyped and would erase these signatures.
app.exception_handler(AdminRequestError)(_admin_request_error)
app.exception_handler(InvalidPageTokenError)(_page_token_error)
app.exception_handler(ClientChangeRefusedError)(_client_change_refused)
app.exception_handler(ConnectSessionRequestError)(_session_request_error)
app.exception_handler(RequestValidationError)(_validation_error)
app.exception_handler(NotFoundError)(_not_found)
app.exception_handler(Exception)(_domain_or_unexpected)


# ---------------------------------------------------------------------------------------------
# Path parameters
# ---------------------------------------------------------------------------------------------


_SESSION_REF = re.compile(r"^[0-9a-f]{64}$")


def _tenant(tenant_id: str) -> str:
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise AdminRequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_tenant_id",
            "tenant id must be 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit.",
        )
    return tenant_id


def _region(region: str) -> Region:
    try:
        return Region(region.upper())
    except ValueError:
        raise AdminRequestError(
            HTTPStatus.BAD_REQUEST, "unknown_region", f"region must be one of {region_list()}."
        ) from None


def _actor() -> str | None:
    iam = _iam_context(app.current_event.raw_event)
    value = iam.get("userArn") or iam.get("callerId") if iam else None
    return str(value) if value else None


def _log_action(action: str, tenant_id: str | None = None, region: Region | None = None) -> None:
    """Attribute an action that changes something to the caller's IAM ARN, before it runs (so a
    call that fails part-way is attributed too; its error line shares the correlation id)."""
    extra: dict[str, Any] = {"action": action, "actor": _actor()}
    if tenant_id is not None:
        extra["tenant_id"] = tenant_id
    if region is not None:
        extra["region"] = region.value
    logger.info("admin action", extra=extra)


def _iam_context(event: dict[str, Any]) -> dict[str, Any] | None:
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    iam = authorizer.get("iam") if isinstance(authorizer, dict) else None
    return iam if isinstance(iam, dict) and iam else None


# ---------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------


@_route("PUT", "/admin/client-credentials", answers=ClientCredentialsWritten)
def put_client_credentials(body: Annotated[ClientCredentialsRequest, Body()]) -> Response[str]:
    _log_action("write_client_credentials")
    written = service().write_client_credentials(
        body.client_id,
        body.client_secret.get_secret_value(),
        add_client=body.add_client,
        replace_client=body.replace_client,
    )
    logger.info("client credentials written", extra={"client_id": body.client_id, "actor": _actor()})
    return _ok(written)


@_route("POST", "/admin/client-credentials/check", answers=CredentialsCheck)
def check_client_credentials() -> Response[str]:
    _log_action("check_client_credentials")  # an accepted check lifts the operator pause
    return _ok(service().check_client_credentials())


@_route(
    "POST",
    "/admin/tenants/<tenant_id>/connect-sessions",
    answers=ConnectSessionCreated,
    status=HTTPStatus.CREATED,
)
def create_connect_session(
    tenant_id: str, body: Annotated[ConnectSessionRequest | None, Body()] = None
) -> Response[str]:
    request = body or ConnectSessionRequest()
    tenant = _tenant(tenant_id)
    _log_action("create_connect_session", tenant)
    created = service().start_connect_session(tenant, request)
    return _ok(created, HTTPStatus.CREATED)


@_route("GET", "/admin/connections", answers=ConnectionList)
def list_connections(
    status: Annotated[ConnectionStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    next_token: Annotated[str | None, Query(min_length=1, max_length=4096)] = None,
) -> Response[str]:
    return _ok(service().list_connections(status=status, limit=limit, next_token=next_token))


@_route("GET", "/admin/tenants", answers=TenantList)
def list_tenants(
    status: Annotated[ConnectionStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    next_token: Annotated[str | None, Query(min_length=1, max_length=4096)] = None,
) -> Response[str]:
    return _ok(service().list_tenants(status=status, limit=limit, next_token=next_token))


@_route("GET", "/admin/tenants/<tenant_id>", answers=TenantDetail)
def show_tenant(tenant_id: str) -> Response[str]:
    return _ok(service().tenant_detail(_tenant(tenant_id)))


@_route("POST", "/admin/tenants/<tenant_id>/connections/<region>/refresh", answers=RefreshResult)
def refresh_connection(tenant_id: str, region: str) -> Response[str]:
    tenant, where = _tenant(tenant_id), _region(region)
    _log_action("refresh_connection", tenant, where)
    return _ok(service().refresh_connection(tenant, where))


@_route("GET", "/admin/revocations", answers=ConnectionList)
def list_held_revocations() -> Response[str]:
    return _ok(service().list_held_revocations())


@_route("POST", "/admin/revocations/confirm", answers=RevocationsConfirmed)
def confirm_revocations() -> Response[str]:
    _log_action("confirm_revocations")
    return _ok(service().confirm_revocations(actor=_actor()))


@_route("GET", "/admin/tenants/<tenant_id>/connect-sessions", answers=SessionList)
def list_connect_sessions(tenant_id: str) -> Response[str]:
    return _ok(service().list_sessions(_tenant(tenant_id)))


@_route("DELETE", "/admin/connect-sessions/<session_ref>", answers=SessionRevoked)
def revoke_connect_session(session_ref: str) -> Response[str]:
    if not _SESSION_REF.fullmatch(session_ref):
        raise AdminRequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_session_ref",
            "session_ref is the 64-hex-digit reference `sessions list` shows.",
        )
    _log_action("revoke_connect_session")
    return _ok(service().revoke_session(session_ref))


@_route("POST", "/admin/tenants/<tenant_id>/connections/<region>/reactivate", answers=Reactivation)
def reactivate_connection_route(tenant_id: str, region: str) -> Response[str]:
    tenant, where = _tenant(tenant_id), _region(region)
    _log_action("reactivate_connection", tenant, where)
    return _ok(service().reactivate(tenant, where))


@_route(
    "POST", "/admin/tenants/<tenant_id>/connections/<region>/resync-profiles", answers=ProfileResyncResult
)
def resync_profiles(tenant_id: str, region: str) -> Response[str]:
    tenant, where = _tenant(tenant_id), _region(region)
    _log_action("resync_profiles", tenant, where)
    return _ok(service().resync_profiles(tenant, where))


@_route("DELETE", "/admin/tenants/<tenant_id>/connections/<region>", answers=Disconnected)
def disconnect(
    tenant_id: str,
    region: str,
    recovery_days: Annotated[int, Query(ge=MIN_RECOVERY_DAYS, le=MAX_RECOVERY_DAYS)] = DEFAULT_RECOVERY_DAYS,
) -> Response[str]:
    tenant, where = _tenant(tenant_id), _region(region)
    _log_action("disconnect", tenant, where)
    result = service().disconnect(tenant, where, recovery_window_days=recovery_days, actor=_actor())
    return _ok(result)


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Defence in depth: API Gateway's IAM authorizer fills this; without it nobody signed the call.
    if _iam_context(event) is None:
        reference = uuid.uuid4().hex[:16]
        logger.warning("admin request without IAM authorization context", extra={"reference": reference})
        metrics.add_metric(name="AdminRequestsUnauthorized", unit=MetricUnit.Count, value=1)
        body = ErrorBody(
            error=ErrorDetail(
                code="forbidden",
                message="The admin API requires IAM-signed requests (SigV4).",
                reference=reference,
            )
        )
        return {
            "statusCode": int(HTTPStatus.FORBIDDEN),
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": body.model_dump_json(),
            "isBase64Encoded": False,
        }
    metrics.add_metric(name="AdminRequests", unit=MetricUnit.Count, value=1)
    return app.resolve(event, context)
