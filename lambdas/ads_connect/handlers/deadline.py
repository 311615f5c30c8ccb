"""How long an invocation may keep working: the flows' ``remaining_seconds`` callable, built from
the Lambda context (shared by every handler that passes a deadline to a flow)."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.typing import LambdaContext

# Stop starting new Amazon calls this long before the Lambda timeout: the time it takes to
# record the outcome and answer.
SAFETY_MARGIN_MS = 5000


def remaining_seconds_of(
    context: LambdaContext | None, *, safety_margin_ms: int = SAFETY_MARGIN_MS
) -> Callable[[], float]:
    """Seconds left before the invocation's timeout minus the margin (never negative), read
    afresh on every call. Without a context (a local call) there is no limit."""

    def remaining_seconds() -> float:
        if context is None:
            return float("inf")
        return max(0.0, (context.get_remaining_time_in_millis() - safety_margin_ms) / 1000)

    return remaining_seconds
