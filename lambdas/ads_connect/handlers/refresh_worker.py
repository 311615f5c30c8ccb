"""Refresh worker function: SQS work messages, partial batch responses (one bad record never
fails the batch; failed records return to the queue and, after five receives, the DLQ).

A refresh reached with too little of the invocation left fails its record on purpose
(``DeadlineTooCloseError``): SQS delivers it again to a fresh invocation. The client-credentials
pause is read at most once per invocation (``ClientCredentialsPauseCache``). Per-invocation
state lives in one ``_Invocation`` handed to each record, so two invocations never share it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ads_connect.adapters.ads_api import HttpAdsApiClient
from ads_connect.adapters.connection_store import DynamoConnectionStore
from ads_connect.adapters.events import EventBridgePublisher
from ads_connect.adapters.lwa import HttpLwaClient
from ads_connect.adapters.secrets import SecretsManagerVault
from ads_connect.clock import SystemClock
from ads_connect.handlers.deadline import remaining_seconds_of
from ads_connect.logic.pacing import WritePacer
from ads_connect.logic.ports import LeaseHeldError
from ads_connect.logic.profiles import resync_connection_profiles
from ads_connect.logic.refresh import ClientCredentialsPauseCache, refresh_connection
from ads_connect.models.settings import RefreshSettings
from ads_connect.models.work import WorkKind, WorkMessage
from ads_connect.observability import logger, metrics, xray_tracer

# Not a public function: its cold start can afford the X-Ray SDK (ads_connect.observability).
tracer = xray_tracer()


@cache
def _dependencies() -> dict[str, Any]:
    settings = RefreshSettings.from_environment()
    clock = SystemClock()
    pace = settings.secret_writes_per_second
    return {
        "store": DynamoConnectionStore(settings.table_name, clock=clock),
        "vault": SecretsManagerVault(settings),
        "lwa": HttpLwaClient(settings.amazon_endpoints),
        "ads_api": HttpAdsApiClient(settings.amazon_endpoints),
        "events": EventBridgePublisher(settings.event_bus_name, clock=clock),
        "clock": clock,
        "settings": settings,
        # One per execution environment (one invocation at a time), kept across invocations:
        # this worker's share of the account's Secrets Manager write budget.
        "secret_write_pacer": WritePacer(pace) if pace is not None else None,
    }


def reset() -> None:
    _dependencies.cache_clear()


@dataclass
class _Invocation:
    """What one invocation shares between its records, and nothing else does: its deadline and
    its client-credentials pause cache (created by its first refresh record, so one pause read
    per batch). Kept per invocation, never in module state."""

    context: LambdaContext | None = None
    pause: ClientCredentialsPauseCache | None = None

    def remaining_seconds(self) -> float:
        return remaining_seconds_of(self.context)()


def handle_record(record: SQSRecord, invocation: _Invocation) -> None:
    message = WorkMessage.model_validate_json(record.body)
    deps = _dependencies()
    if message.kind is WorkKind.REFRESH:
        if invocation.pause is None:
            invocation.pause = ClientCredentialsPauseCache(deps["store"])
        attempt = refresh_connection(
            message.tenant_id,
            message.region,
            force=False,
            trigger=message.trigger,
            remaining_seconds=invocation.remaining_seconds,
            refreshes_paused=invocation.pause.is_paused,
            **deps,
        )
        invocation.pause.observe(attempt)
        logger.info(
            "refresh attempt",
            extra={
                "tenant_id": message.tenant_id,
                "region": message.region.value,
                "trigger": message.trigger,
                "outcome": attempt.outcome.value,
                "error_code": attempt.error_code,
            },
        )
        return
    connection = deps["store"].get_connection(message.tenant_id, message.region)
    if connection is None:
        return
    try:
        resync_connection_profiles(connection, trigger=message.trigger, **deps)
    except LeaseHeldError:
        logger.info("profile re-sync skipped: connection busy", extra={"tenant_id": message.tenant_id})


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    invocation = _Invocation(context)
    # A processor per invocation too: it holds the batch's records and results.
    return process_partial_response(
        event=event,
        record_handler=partial(handle_record, invocation=invocation),
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
