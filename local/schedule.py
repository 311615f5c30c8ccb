"""The schedule and the SQS event source, played locally.

Deployed, EventBridge Scheduler invokes the scheduler function at a fixed rate and Lambda's SQS
event source delivers the work queue to the worker in batches, keeping the records the worker
reports as failed (partial batch response). Here a timer thread does both, and ``run_now``
does one round at once (tests, ``POST /__local__/run-schedule``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.lambda_runtime import LOCAL_REGION, LocalFunction

log = logging.getLogger("local.schedule")

# A round never loops forever on a queue someone keeps filling.
MAX_BATCHES_PER_ROUND = 1000

Invoker = Callable[[LocalFunction, dict[str, Any]], Any]


@dataclass
class RoundReport:
    scheduler_result: Any = None
    batches: int = 0
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.delivered} work message(s) delivered in {self.batches} batch(es)"]
        if self.failed:
            parts.append(f"{self.failed} failed (left in the queue for a retry)")
        if self.errors:
            parts.append(f"errors: {'; '.join(self.errors)}")
        return ", ".join(parts)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS event source sends for one batch of ReceiveMessage results."""
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
                    "SenderId": attributes.get("SenderId", "LOCAL"),
                    "ApproximateFirstReceiveTimestamp": attributes.get(
                        "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
                    ),
                },
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in (message.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's checksum
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": LOCAL_REGION,
            }
        )
    return {"Records": records}


def failed_message_ids(result: Any, event: dict[str, Any]) -> set[str]:
    """Which records stay in the queue, as Lambda reads a partial batch response.

    A malformed response, or an identifier that is not in the batch, fails the whole batch.
    """
    every = {r["messageId"] for r in event["Records"]}
    if result is None:
        return set()
    if not isinstance(result, dict):
        return every
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return every
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in every:
            return every
        failed.add(identifier)
    return failed


class ScheduleRunner:
    def __init__(
        self,
        *,
        scheduler: LocalFunction,
        worker: LocalFunction,
        queue_url: str,
        queue_arn: str,
        sqs: Any,
        invoke: Invoker,
        interval_seconds: float,
        batch_size: int = 10,
        report_batch_item_failures: bool = True,
        scheduler_input: dict[str, Any] | None = None,
        on_round: Callable[[RoundReport], None] | None = None,
        on_round_failed: Callable[[Exception, int], None] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.worker = worker
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self._sqs = sqs
        self._invoke = invoke
        self.interval_seconds = interval_seconds
        self.batch_size = max(1, min(10, batch_size))
        self.report_batch_item_failures = report_batch_item_failures
        self._input = scheduler_input if scheduler_input is not None else {}
        self._on_round = on_round
        self._on_round_failed = on_round_failed
        # Rounds that raised (the queue or the state file failing, not a function: those are
        # reported in the round's errors). The timer keeps running after each.
        self.failed_rounds = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_now(self) -> RoundReport:
        """One schedule tick, then deliver the work queue until no message is visible.

        A function that fails is reported in the round's ``errors``; anything else that raises
        (receiving from or deleting in the queue, ``on_round``) counts as a failed round and
        propagates to the caller.
        """
        with self._lock:
            try:
                report = RoundReport()
                try:
                    report.scheduler_result = self._invoke(self.scheduler, dict(self._input))
                except Exception as error:
                    log.exception("scheduler function failed")
                    report.errors.append(f"scheduler failed ({type(error).__name__})")
                self.deliver(report)
                if self._on_round:
                    self._on_round(report)
                return report
            except Exception:
                self.failed_rounds += 1
                raise

    def deliver(self, report: RoundReport) -> None:
        for _ in range(MAX_BATCHES_PER_ROUND):
            received = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = received.get("Messages", [])
            if not messages:
                return
            event = sqs_event(messages, self.queue_arn)
            report.batches += 1
            try:
                result = self._invoke(self.worker, event)
            except Exception as error:
                log.exception("worker function failed; the batch stays in the queue")
                report.errors.append(f"worker failed ({type(error).__name__})")
                report.failed += len(messages)
                return
            failed = failed_message_ids(result, event) if self.report_batch_item_failures else set()
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self._sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
            report.delivered += len(messages)
            report.failed += len(failed)

    # --- the timer ----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="local-schedule", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                self.run_now()
            except Exception as error:
                # The next tick may well succeed (moto busy, a state file briefly unwritable):
                # log it and keep the timer alive, as EventBridge Scheduler keeps firing.
                log.exception(
                    "schedule round failed (%d failed round(s) so far); the timer keeps running",
                    self.failed_rounds,
                )
                if self._on_round_failed:
                    self._on_round_failed(error, self.failed_rounds)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
