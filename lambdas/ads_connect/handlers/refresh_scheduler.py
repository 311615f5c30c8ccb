"""Refresh scheduler function: invoked by EventBridge Scheduler every few minutes."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ads_connect.adapters.connection_store import DynamoConnectionStore
from ads_connect.adapters.work_queue import SqsWorkQueue
from ads_connect.clock import SystemClock
from ads_connect.logic.scheduler import run_schedule
from ads_connect.models.settings import RefreshSettings, SettingsError
from ads_connect.observability import logger, metrics, xray_tracer

# Not a public function: its cold start can afford the X-Ray SDK (ads_connect.observability).
tracer = xray_tracer()


@cache
def _dependencies() -> tuple[DynamoConnectionStore, SqsWorkQueue, SystemClock, RefreshSettings]:
    settings = RefreshSettings.from_environment()
    if not settings.work_queue_url:
        raise SettingsError("environment variable ADS_CONNECT_WORK_QUEUE_URL: required by the scheduler")
    clock = SystemClock()
    return (
        DynamoConnectionStore(settings.table_name, clock=clock),
        SqsWorkQueue(settings.work_queue_url),
        clock,
        settings,
    )


def reset() -> None:
    _dependencies.cache_clear()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store, queue, clock, settings = _dependencies()
    summary = run_schedule(store=store, queue=queue, clock=clock, settings=settings)
    return asdict(summary)
