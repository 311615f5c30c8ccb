"""The SQS work queue: batches of ten, failed entries retried, then surfaced."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import boto3

from ads_connect.adapters.aws import aws_client_config
from ads_connect.models.work import WorkMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SEND_ATTEMPTS = 3
# The scheduler sends on up to 16 threads; a smaller pool would reopen connections per call.
MAX_POOL_CONNECTIONS = 32


class WorkQueueSendError(Exception):
    """Some messages could not be enqueued after retries (ids and SQS codes only)."""


class SqsWorkQueue:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self._queue_url = queue_url
        self._client: SQSClient = client or boto3.client(
            "sqs", config=aws_client_config(max_pool_connections=MAX_POOL_CONNECTIONS)
        )

    def send(self, messages: Sequence[WorkMessage]) -> None:
        for start in range(0, len(messages), 10):
            self._send_batch(messages[start : start + 10])

    def _send_batch(self, batch: Sequence[WorkMessage]) -> None:
        entries = {str(index): message.model_dump_json() for index, message in enumerate(batch)}
        for attempt in range(1, SEND_ATTEMPTS + 1):
            response = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": key, "MessageBody": body} for key, body in entries.items()],
            )
            failed = response.get("Failed", [])
            if not failed:
                return
            entries = {f["Id"]: entries[f["Id"]] for f in failed}
            if attempt < SEND_ATTEMPTS:
                time.sleep(0.1 * attempt)
        codes = sorted({str(f.get("Code")) for f in failed})
        raise WorkQueueSendError(f"{len(entries)} work messages not enqueued ({', '.join(codes)})")
