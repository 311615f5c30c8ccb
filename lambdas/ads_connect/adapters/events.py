"""EventPublisher on EventBridge: lifecycle events other services react to.

A failed publish never undoes a connection or a refresh (the state in DynamoDB is the truth);
it is logged with the event type and counted in ``EventPublishFailed``, which an alarm watches.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from ads_connect.adapters.aws import AWS_CLIENT_CONFIG
from ads_connect.logic.ports import Clock
from ads_connect.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

EVENT_SOURCE = "amazon-ads-connect"


class EventBridgePublisher:
    def __init__(self, bus_name: str, *, clock: Clock, client: EventBridgeClient | None = None) -> None:
        self._bus_name = bus_name
        self._clock = clock
        self._client: EventBridgeClient = client or boto3.client("events", config=AWS_CLIENT_CONFIG)

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        body = {"occurred_at": self._clock.now().isoformat(), **detail}
        try:
            response = self._client.put_events(
                Entries=[
                    {
                        "Source": EVENT_SOURCE,
                        "DetailType": detail_type,
                        "Detail": json.dumps(body, sort_keys=True, default=str),
                        "EventBusName": self._bus_name,
                    }
                ]
            )
            failed = response.get("FailedEntryCount", 0)
            error_code = response["Entries"][0].get("ErrorCode") if failed else None
        except (ClientError, BotoCoreError) as error:
            failed, error_code = 1, type(error).__name__
        if failed:
            logger.error(
                "lifecycle event not published",
                extra={
                    "detail_type": detail_type,
                    "error_code": error_code,
                    "tenant_id": detail.get("tenant_id"),
                    "region": detail.get("region"),
                },
            )
            metrics.add_metric(name="EventPublishFailed", unit=MetricUnit.Count, value=1)
