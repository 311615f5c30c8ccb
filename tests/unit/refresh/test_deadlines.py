"""The call-duration bounds of ``logic/deadlines.py`` against the adapters' real configuration:
``logic/`` may not import the adapters, so this is where a changed timeout is caught."""

from __future__ import annotations

from ads_connect.adapters import aws, http
from ads_connect.logic.deadlines import AMAZON_CALL_SECONDS, AWS_CALL_SECONDS, time_for_call
from botocore.retries.standard import ExponentialBackoff


def test_one_amazon_call_fits_the_http_clients_timeouts() -> None:
    connect, read = http.DEFAULT_TIMEOUT
    assert connect + read <= AMAZON_CALL_SECONDS


def test_one_aws_call_fits_every_botocore_attempt_and_the_waits_between_them() -> None:
    attempts = aws.TOTAL_MAX_ATTEMPTS
    per_attempt = aws.CONNECT_TIMEOUT_SECONDS + aws.READ_TIMEOUT_SECONDS
    # Standard mode's throttling backoff: at most 1 s * 2^(n-1) before retry n, capped at 20 s.
    waits = sum(min(2 ** (n - 1), ExponentialBackoff._MAX_BACKOFF) for n in range(1, attempts))
    assert aws.RETRY_MODE == "standard"
    assert attempts * per_attempt + waits <= AWS_CALL_SECONDS


def test_a_call_may_start_only_when_it_fits_whole_after_the_wait_with_the_margin() -> None:
    assert time_for_call(24.0, 14.0, wait=5.0, margin=5.0)
    assert not time_for_call(23.9, 14.0, wait=5.0, margin=5.0)
    assert time_for_call(19.0, 14.0, margin=5.0)
    assert not time_for_call(18.9, 14.0, margin=5.0)
