"""Exponential backoff with full jitter, bounded by a deadline, honouring Retry-After."""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_SECONDS = 0.5
CAP_SECONDS = 8.0


def backoff_delay(
    attempt: int, *, retry_after: float | None = None, rng: Callable[[], float] = random.random
) -> float:
    """Delay before retry number ``attempt`` (1-based). Amazon's Retry-After wins when given."""
    if retry_after is not None:
        return min(retry_after, 60.0)
    ceiling: float = min(CAP_SECONDS, BASE_SECONDS * 2.0 ** (attempt - 1))
    return rng() * ceiling
