"""How long one call to the outside world can take, in one place, and the one rule that uses it:
a call starts only while the time left still covers the whole of it plus the caller's margin.

A call started without that room can be cut off by the Lambda timeout half-way, and a function
killed mid-call leaves whatever it held (a refresh lease, a refresh token Amazon just rotated)
with nobody to release, store or report it. Waiting for a fresh invocation costs nothing.

The numbers follow the adapters' configuration, which ``logic/`` may not import; a unit test
(tests/unit/refresh/test_deadlines.py) recomputes them from the adapters and fails on drift.
"""

from __future__ import annotations

# One LWA or Ads API request (adapters/http.py DEFAULT_TIMEOUT: 3.05 s connect + 10 s read),
# rounded up. The transport never retries on its own, so this is the whole call.
AMAZON_CALL_SECONDS = 14.0

# One AWS API call as botocore makes it (adapters/aws.py AWS_CLIENT_CONFIG): up to 3 attempts
# of 2 s connect + 10 s read each, with standard-mode backoff between them (at most 1 s, then
# 2 s, for throttling): 3 x 12 + 3 = 39 s. Normally tens of milliseconds; this is the bound.
AWS_CALL_SECONDS = 39.0


def time_for_call(seconds_left: float, call_seconds: float, *, wait: float = 0.0, margin: float) -> bool:
    """Whether a call of ``call_seconds`` may start after waiting ``wait``: the time left then
    must still cover the whole call plus ``margin`` (the caller's room to record the outcome)."""
    return seconds_left - wait >= call_seconds + margin
