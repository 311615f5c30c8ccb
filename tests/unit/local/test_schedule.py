"""The schedule timer and SQS event source stand-in: SQS events, partial batch responses."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest

from local.lambda_runtime import LocalFunction
from local.schedule import ScheduleRunner, failed_message_ids, sqs_event

SCHEDULER = LocalFunction("Scheduler", "sched", "x.handler")
WORKER = LocalFunction("Worker", "worker", "y.handler")
ARN = "arn:aws:sqs:us-east-1:123456789012:work"


class FakeQueue:
    """Visible messages are received; deleted ones are gone; received ones stay in flight."""

    def __init__(self, bodies: list[str]) -> None:
        self.messages = {f"m{i}": body for i, body in enumerate(bodies)}
        self.in_flight: set[str] = set()
        self.deleted: list[str] = []

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        visible = [m for m in self.messages if m not in self.in_flight][: kwargs["MaxNumberOfMessages"]]
        self.in_flight.update(visible)
        return {
            "Messages": [
                {
                    "MessageId": m,
                    "ReceiptHandle": f"rh-{m}",
                    "Body": self.messages[m],
                    "Attributes": {"ApproximateReceiveCount": "1"},
                }
                for m in visible
            ]
        }

    def delete_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> None:
        for entry in Entries:
            message_id = entry["ReceiptHandle"].removeprefix("rh-")
            del self.messages[message_id]
            self.deleted.append(message_id)


def runner(queue: FakeQueue, worker: Any, *, scheduler: Any = None, batch_size: int = 2) -> ScheduleRunner:
    def invoke(function: LocalFunction, event: dict[str, Any]) -> Any:
        if function is SCHEDULER:
            return scheduler(event) if scheduler else {"refreshes_enqueued": len(queue.messages)}
        return worker(event)

    return ScheduleRunner(
        scheduler=SCHEDULER,
        worker=WORKER,
        queue_url="q",
        queue_arn=ARN,
        sqs=queue,
        invoke=invoke,
        interval_seconds=3600,
        batch_size=batch_size,
    )


def test_every_message_is_delivered_in_batches_and_deleted() -> None:
    queue = FakeQueue(["a", "b", "c"])
    batches: list[list[str]] = []
    report = runner(queue, lambda e: batches.append([r["body"] for r in e["Records"]]) or {}).run_now()
    assert batches == [["a", "b"], ["c"]]
    assert queue.messages == {} and report.delivered == 3 and report.failed == 0 and report.batches == 2
    assert report.scheduler_result == {"refreshes_enqueued": 3}


def test_partial_batch_failures_stay_in_the_queue() -> None:
    queue = FakeQueue(["ok", "bad", "ok2"])

    def worker(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"
            ]
        }

    report = runner(queue, worker).run_now()
    assert list(queue.messages.values()) == ["bad"]
    assert sorted(queue.deleted) == ["m0", "m2"]
    assert (report.delivered, report.failed) == (3, 1)


def test_a_worker_that_raises_leaves_the_whole_batch() -> None:
    queue = FakeQueue(["a", "b"])

    def worker(_: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    report = runner(queue, worker).run_now()
    assert len(queue.messages) == 2 and queue.deleted == []
    assert report.failed == 2 and report.errors == ["worker failed (RuntimeError)"]


def test_a_failing_scheduler_is_reported_and_the_queue_still_drains() -> None:
    queue = FakeQueue(["a"])

    def scheduler(_: dict[str, Any]) -> None:
        raise ValueError("no table")

    report = runner(queue, lambda _: None, scheduler=scheduler).run_now()
    assert report.errors == ["scheduler failed (ValueError)"] and queue.messages == {}


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m1"}]}, {"m1"}),
        ({"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}, {"m0", "m1"}),
        ({"batchItemFailures": [{"wrong": "m1"}]}, {"m0", "m1"}),
        ({"batchItemFailures": "m1"}, {"m0", "m1"}),
        ("oops", {"m0", "m1"}),
    ],
)
def test_partial_batch_response_is_read_like_lambda(result: Any, failed: set[str]) -> None:
    event = sqs_event(
        [
            {"MessageId": "m0", "ReceiptHandle": "r0", "Body": "{}"},
            {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}"},
        ],
        ARN,
    )
    assert failed_message_ids(result, event) == failed


def test_sqs_event_shape() -> None:
    [record] = sqs_event(
        [
            {
                "MessageId": "m0",
                "ReceiptHandle": "r0",
                "Body": '{"kind": "refresh"}',
                "Attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1"},
                "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}},
            }
        ],
        ARN,
    )["Records"]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == ARN
    assert record["attributes"]["ApproximateReceiveCount"] == "3"
    assert record["messageAttributes"]["k"]["stringValue"] == "v"
    assert record["md5OfBody"] == hashlib.md5(b'{"kind": "refresh"}').hexdigest()  # noqa: S324


def test_the_timer_runs_rounds_until_stopped() -> None:
    queue = FakeQueue([])
    ticks = threading.Semaphore(0)

    def scheduler(_: dict[str, Any]) -> dict[str, int]:
        ticks.release()
        return {}

    schedule = runner(queue, lambda _: None, scheduler=scheduler)
    schedule.interval_seconds = 0.01
    schedule.start()
    assert ticks.acquire(timeout=5) and ticks.acquire(timeout=5)
    schedule.stop()


class FlakyQueue(FakeQueue):
    """A queue whose first receive fails (moto restarting, say): later rounds work."""

    def __init__(self, bodies: list[str]) -> None:
        super().__init__(bodies)
        self.receives = 0

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.receives += 1
        if self.receives == 1:
            raise ConnectionError("local AWS unreachable")
        return super().receive_message(**kwargs)


def test_a_round_that_raises_is_logged_counted_and_the_timer_keeps_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = FlakyQueue(["a"])
    rounds = threading.Semaphore(0)
    failures: list[tuple[str, int]] = []
    schedule = runner(queue, lambda _: {})
    schedule._on_round = lambda report: rounds.release()
    schedule._on_round_failed = lambda error, count: failures.append((type(error).__name__, count))
    schedule.interval_seconds = 0.01
    with caplog.at_level("ERROR", logger="local.schedule"):
        schedule.start()
        try:
            # Then the round after the failing one runs and drains the queue
            assert rounds.acquire(timeout=10), "the timer died with the failing round"
        finally:
            schedule.stop()
    assert schedule._thread is not None and not schedule._thread.is_alive()
    assert schedule.failed_rounds == 1 and failures == [("ConnectionError", 1)]
    assert queue.messages == {}
    [record] = [r for r in caplog.records if "schedule round failed" in r.getMessage()]
    assert record.exc_info is not None and "1 failed round(s)" in record.getMessage()


def test_run_now_counts_a_failed_round_and_raises_to_its_caller() -> None:
    schedule = runner(FlakyQueue([]), lambda _: {})
    with pytest.raises(ConnectionError):
        schedule.run_now()
    assert schedule.failed_rounds == 1
    assert schedule.run_now().errors == [] and schedule.failed_rounds == 1
