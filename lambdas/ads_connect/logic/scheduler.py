"""Flow 5, first half: find what is due (index queries, never a scan) and enqueue it."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from aws_lambda_powertools.metrics import MetricUnit

from ads_connect.logic.ports import CLIENT_CREDENTIALS_PAUSE, PROBE_TRIGGER, Clock, ConnectionStore
from ads_connect.models.settings import ACCESS_TOKEN_LIFETIME_SECONDS, RefreshSettings
from ads_connect.models.work import WorkKind, WorkMessage
from ads_connect.observability import logger, metrics
from ads_connect.regions import Region

ACCESS_TOKEN_LIFETIME = timedelta(seconds=ACCESS_TOKEN_LIFETIME_SECONDS)
# SendMessageBatch calls in flight at once: 150,000 due = 15,000 batch calls, ~20 ms each, so
# ~20 s of sends (the scheduler's timeout is 120 s). The SQS client's pool matches (work_queue.py).
SEND_PARALLELISM = 16
PROFILE_SYNC_LIMIT = 5000


class WorkQueue(Protocol):
    def send(self, messages: Sequence[WorkMessage]) -> None: ...


@dataclass(frozen=True)
class ScheduleSummary:
    refreshes_enqueued: int
    profile_syncs_enqueued: int
    paused: bool
    oldest_token_age_seconds: float | None
    # Due connections this run left for later runs (over its cap, or waiting out the pause).
    refreshes_backlog: int = 0


def run_schedule(
    *, store: ConnectionStore, queue: WorkQueue, clock: Clock, settings: RefreshSettings
) -> ScheduleSummary:
    """Enqueue the due set, oldest due first, up to ``settings.max_refreshes_per_run``.

    Nothing marks a connection as enqueued, so each run re-sends whatever is still due. The cap
    keeps that bounded: a run sends at most what the workers drain before the next run, so a
    backlog larger than one interval is not multiplied by every run (each duplicate that does
    reach a worker costs one refused lease write). The rest is counted and reported."""
    now = clock.now()
    paused = store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None
    # While paused, one probe per run: refreshes resume once the secret is fixed. It is marked
    # so the worker lets it through while skipping refreshes queued before the pause.
    limit = 1 if paused else settings.max_refreshes_per_run
    trigger = PROBE_TRIGGER if paused else "schedule"
    refreshes = 0
    backlog = 0
    with ThreadPoolExecutor(max_workers=SEND_PARALLELISM) as pool:
        pending: list[Future[None]] = []
        for page in store.iter_due_pages(now=now):
            room = len(page) if limit is None else max(0, limit - refreshes)
            keys = page[:room]
            if keys:
                pending += _send_page(pool, queue, keys, WorkKind.REFRESH, trigger=trigger)
                refreshes += len(keys)
            # Past the cap the pages are only counted (keys only: the query reads no item).
            backlog += len(page) - len(keys)
        syncs = list(store.profile_sync_due(now=now, limit=PROFILE_SYNC_LIMIT)) if not paused else []
        pending += _send_page(pool, queue, syncs, WorkKind.PROFILE_SYNC)
        for future in pending:
            future.result()  # surface any send failure: the scheduler run fails and is retried
    oldest_due = store.oldest_due_at()
    oldest_age = None
    if oldest_due is not None:
        # The token of the most overdue connection was issued about (lifetime - lead) before it was due.
        issued_at = oldest_due - (ACCESS_TOKEN_LIFETIME - timedelta(seconds=settings.refresh_lead_seconds))
        oldest_age = max(0.0, (now - issued_at).total_seconds())
        metrics.add_metric(name="OldestTokenAgeSeconds", unit=MetricUnit.Seconds, value=oldest_age)
    metrics.add_metric(name="RefreshesEnqueued", unit=MetricUnit.Count, value=refreshes)
    metrics.add_metric(name="RefreshBacklog", unit=MetricUnit.Count, value=backlog)
    metrics.add_metric(name="ProfileSyncsEnqueued", unit=MetricUnit.Count, value=len(syncs))
    log = logger.warning if backlog and not paused else logger.info
    log(
        "schedule run" + (": due connections left for later runs" if backlog and not paused else ""),
        extra={
            "refreshes_enqueued": refreshes,
            "refreshes_backlog": backlog,
            "max_refreshes_per_run": settings.max_refreshes_per_run,
            "profile_syncs_enqueued": len(syncs),
            "paused": paused,
            "oldest_token_age_seconds": oldest_age,
        },
    )
    return ScheduleSummary(refreshes, len(syncs), paused, oldest_age, backlog)


def _send_page(
    pool: ThreadPoolExecutor,
    queue: WorkQueue,
    keys: Sequence[tuple[str, Region]],
    kind: WorkKind,
    *,
    trigger: str = "schedule",
) -> list[Future[None]]:
    messages = [
        WorkMessage(kind=kind, tenant_id=tenant, region=region, trigger=trigger) for tenant, region in keys
    ]
    return [pool.submit(queue.send, messages[i : i + 10]) for i in range(0, len(messages), 10)]
