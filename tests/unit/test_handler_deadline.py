"""handlers/deadline.py: the flows' ``remaining_seconds`` from a Lambda context."""

from __future__ import annotations

from dataclasses import dataclass

from ads_connect.handlers.deadline import SAFETY_MARGIN_MS, remaining_seconds_of


@dataclass
class Context:
    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_margin_is_taken_off_and_the_time_is_read_on_every_call() -> None:
    context = Context(29_000)
    remaining = remaining_seconds_of(context)  # type: ignore[arg-type]
    assert remaining() == (29_000 - SAFETY_MARGIN_MS) / 1000
    context.remaining_ms = 12_000
    assert remaining() == (12_000 - SAFETY_MARGIN_MS) / 1000


def test_it_never_goes_negative_and_takes_another_margin() -> None:
    assert remaining_seconds_of(Context(1_000))() == 0.0  # type: ignore[arg-type]
    assert remaining_seconds_of(Context(10_000), safety_margin_ms=2_000)() == 8.0  # type: ignore[arg-type]


def test_without_a_context_there_is_no_limit() -> None:
    assert remaining_seconds_of(None)() == float("inf")
