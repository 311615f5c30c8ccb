"""Exponential backoff with full jitter; Retry-After wins but is capped."""

from __future__ import annotations

import pytest
from ads_connect.logic.backoff import BASE_SECONDS, CAP_SECONDS, backoff_delay


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 10])
def test_the_ceiling_doubles_per_attempt_up_to_the_cap(attempt: int) -> None:
    ceiling = min(CAP_SECONDS, BASE_SECONDS * 2 ** (attempt - 1))
    assert backoff_delay(attempt, rng=lambda: 1.0) == ceiling
    assert backoff_delay(attempt, rng=lambda: 0.0) == 0.0
    assert backoff_delay(attempt, rng=lambda: 0.5) == ceiling / 2


def test_retry_after_is_honoured_and_capped_at_a_minute() -> None:
    assert backoff_delay(1, retry_after=3, rng=lambda: 0.0) == 3
    assert backoff_delay(1, retry_after=3600) == 60.0


def test_real_jitter_stays_within_the_ceiling() -> None:
    delays = [backoff_delay(3) for _ in range(200)]
    assert all(0 <= d <= 2.0 for d in delays) and len(set(delays)) > 100
