"""Pacing one worker's Secrets Manager writes, so that all workers together stay within the
account budget (stacks/config.py ``secret_write_budget_per_second``, under the 50/s quota).

Each worker (one Lambda execution environment, one invocation at a time) gets an equal share:
budget / worker_concurrency writes per second, passed as ``ADS_CONNECT_SECRET_WRITES_PER_SECOND``.
A write waits until one interval (1 / share) after the previous write began. No burst is
allowed: with reserved concurrency N, N workers each at most at their share never add up to
more than the budget, however their writes line up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class WritePacer:
    """At most ``per_second`` writes per second from this process (a minimum interval between
    the starts of two writes). Clock and sleep are injected so tests never wait."""

    def __init__(
        self,
        per_second: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_start: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until this write may start; returns the seconds waited."""
        with self._lock:
            # Reserve the slot under the lock, sleep outside it: concurrent callers queue up
            # one interval apart instead of all waking at once.
            now = self._monotonic()
            start = now if self._next_start is None else max(now, self._next_start)
            self._next_start = start + self.interval
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return delay
