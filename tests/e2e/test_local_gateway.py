"""The local gateway over a real loopback socket: a failing local-only action is answered."""

from __future__ import annotations

import pytest
import requests

from local.gateway import GatewayConfig, HttpAnswer, LocalGateway
from local.iam import LocalCredentials


def _failing_action(_body: bytes) -> HttpAnswer:
    raise RuntimeError("state directory not writable")


def test_a_failing_local_action_gets_a_500_answer_not_a_dropped_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a gateway whose run-now action fails
    gateway = LocalGateway(
        GatewayConfig(
            routes=[],
            invoke=lambda _function, _event: None,
            credentials=LocalCredentials(),
            local_actions={("POST", "/__local__/run-schedule"): _failing_action},
        )
    )
    gateway.start()
    try:
        # When it is called
        answer = requests.post(f"http://127.0.0.1:{gateway.port}/__local__/run-schedule", timeout=5)
    finally:
        gateway.stop()
    # Then the caller gets a JSON 500 naming the error type, and the traceback is logged
    assert answer.status_code == 500
    assert answer.json() == {"message": "local action failed", "error_type": "RuntimeError"}
    assert "local action POST /__local__/run-schedule failed" in caplog.text
