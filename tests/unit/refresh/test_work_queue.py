"""SQS sender: batches of ten, failed entries retried, then a typed error without payloads."""

from __future__ import annotations

from typing import Any

import pytest
from ads_connect.adapters import work_queue
from ads_connect.adapters.work_queue import SqsWorkQueue, WorkQueueSendError
from ads_connect.models.work import WorkKind, WorkMessage
from ads_connect.regions import Region


class FakeSqs:
    def __init__(self, fail_ids_per_call: list[set[str]] | None = None) -> None:
        self.calls: list[list[dict[str, str]]] = []
        self.fail = fail_ids_per_call or []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.calls.append(Entries)
        failing = self.fail.pop(0) if self.fail else set()
        return {
            "Successful": [{"Id": e["Id"]} for e in Entries if e["Id"] not in failing],
            "Failed": [
                {"Id": e["Id"], "Code": "ServiceUnavailable", "SenderFault": False}
                for e in Entries
                if e["Id"] in failing
            ],
        }


def _messages(n: int) -> list[WorkMessage]:
    return [WorkMessage(kind=WorkKind.REFRESH, tenant_id=f"t{i}", region=Region.NA) for i in range(n)]


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(work_queue.time, "sleep", lambda _s: None)


def test_messages_go_out_in_batches_of_ten_in_the_documented_shape() -> None:
    sqs = FakeSqs()
    SqsWorkQueue("https://sqs.test/q", client=sqs).send(_messages(23))  # type: ignore[arg-type]
    assert [len(c) for c in sqs.calls] == [10, 10, 3]
    assert WorkMessage.model_validate_json(sqs.calls[0][0]["MessageBody"]).model_dump(mode="json") == {
        "kind": "refresh",
        "tenant_id": "t0",
        "region": "NA",
        "trigger": "schedule",
    }


def test_only_the_failed_entries_are_resent() -> None:
    sqs = FakeSqs([{"3", "7"}])
    SqsWorkQueue("https://sqs.test/q", client=sqs).send(_messages(10))  # type: ignore[arg-type]
    assert [e["Id"] for e in sqs.calls[1]] == ["3", "7"]


def test_entries_that_keep_failing_raise_a_typed_error() -> None:
    sqs = FakeSqs([{"1"}, {"1"}, {"1"}])
    with pytest.raises(WorkQueueSendError, match="1 work messages not enqueued \\(ServiceUnavailable\\)"):
        SqsWorkQueue("https://sqs.test/q", client=sqs).send(_messages(5))  # type: ignore[arg-type]
    assert len(sqs.calls) == 3
