"""EventBridgePublisher on moto: the event reaches the bus; a failure is logged, not raised."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from ads_connect.adapters.events import EVENT_SOURCE, EventBridgePublisher
from botocore.exceptions import ClientError

from tests.fakes.clock import FakeClock
from tests.fixtures.aws import AwsResources


def test_event_reaches_the_bus_with_occurrence_time(aws: AwsResources) -> None:
    clock = FakeClock()
    EventBridgePublisher(aws.event_bus_name, clock=clock).publish(
        "Connection Connected", {"tenant_id": "acme", "region": "NA", "profile_count": 2}
    )
    (event,) = aws.lifecycle_events()
    assert event["source"] == EVENT_SOURCE
    assert event["detail-type"] == "Connection Connected"
    assert event["detail"] == {
        "tenant_id": "acme",
        "region": "NA",
        "profile_count": 2,
        "occurred_at": clock.now().isoformat(),
    }


class _FailingClient:
    def put_events(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutEvents")


class _PartialFailureClient:
    def put_events(self, **_: Any) -> Any:
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}


@pytest.mark.parametrize("client", [_FailingClient(), _PartialFailureClient()])
def test_failed_publish_is_logged_with_its_type_and_does_not_raise(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    publisher = EventBridgePublisher("bus", clock=FakeClock(), client=client)
    with caplog.at_level(logging.ERROR):
        publisher.publish("Profiles Changed", {"tenant_id": "acme", "region": "EU"})
    (record,) = [r for r in caplog.records if r.getMessage() == "lifecycle event not published"]
    assert record.detail_type == "Profiles Changed"  # type: ignore[attr-defined]
    assert record.tenant_id == "acme"  # type: ignore[attr-defined]
