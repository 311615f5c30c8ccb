"""Scheduler: time to select the due set as the table grows (same number due each time), and
what a backlog costs in messages with and without the per-run cap.

The due-index query reads only due keys, so the work is the same whatever the table size.
moto's in-memory query walks every item of a table, so wall time on moto grows with the table;
the column that carries over to DynamoDB is "items read by the query" (ScannedCount), which must
stay equal to the due count. Both are printed.

The second table runs ``run_schedule`` several times over a backlog the workers do not shrink
(the worst case: every message sent is a duplicate of one still queued) and counts the
messages each run sends, uncapped and with the cap a two-worker deployment gets.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from _harness import AWS_CALLS, print_table

DUE = 1_000
SIZES = (1_000, 10_000, 100_000)
# Small enough for moto (its query walks the whole table); the ratio is what carries over.
BACKLOG = 4_000
BACKLOG_RUNS = 4
# A deployment with two workers: 2 x 300 s x 3 refreshes/s = 1,800 per run.
CAPPED_CONFIG = {"worker_concurrency": 2}


def main() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    import boto3
    from ads_connect import table_schema as schema
    from ads_connect.adapters.connection_store import DynamoConnectionStore
    from ads_connect.clock import SystemClock
    from moto import mock_aws
    from moto.dynamodb.models import DynamoDBBackend

    # Time spent inside moto's query implementation (which walks the whole table, unlike
    # DynamoDB's index): subtracting it leaves the scheduler's own cost plus the HTTP-shaped
    # round trip, the part that carries over to Lambda.
    backend_seconds = [0.0]
    original_query = DynamoDBBackend.query

    def timed_query(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return original_query(self, *args, **kwargs)
        finally:
            backend_seconds[0] += time.perf_counter() - started

    DynamoDBBackend.query = timed_query  # type: ignore[method-assign]

    now = datetime.now(UTC)
    rows = []
    for size in SIZES:
        with mock_aws():
            client = boto3.client("dynamodb")
            client.create_table(**schema.create_table_kwargs("bench"))  # type: ignore[arg-type]
            table = boto3.resource("dynamodb").Table("bench")
            started = time.perf_counter()
            with table.batch_writer() as batch:
                for i in range(size):
                    due = now - timedelta(minutes=1) if i < DUE else now + timedelta(minutes=30)
                    batch.put_item(
                        Item={
                            **schema.connection_key(f"t{i:06d}", "NA"),
                            "status": "active",
                            schema.DUE_INDEX_PARTITION_KEY: schema.DUE_BUCKET_VALUE,
                            schema.DUE_INDEX_SORT_KEY: int(due.timestamp()),
                        }
                    )
            load = time.perf_counter() - started
            store = DynamoConnectionStore("bench", clock=SystemClock(), table=table)
            AWS_CALLS.clear()
            backend_seconds[0] = 0.0
            started = time.perf_counter()
            selected = sum(len(page) for page in store.iter_due_pages(now=now))
            elapsed = time.perf_counter() - started
            in_moto = backend_seconds[0]
            queries = AWS_CALLS["dynamodb:Query"]
            scanned = client.query(
                TableName="bench",
                IndexName=schema.DUE_INDEX,
                Select="COUNT",
                KeyConditionExpression="due_bucket = :b AND refresh_due_at <= :n",
                ExpressionAttributeValues={":b": {"S": "DUE"}, ":n": {"N": str(int(now.timestamp()))}},
            )["ScannedCount"]
            rows.append(
                [
                    f"{size:,}",
                    f"{selected:,}",
                    queries,
                    f"{scanned:,}",
                    f"{elapsed * 1000:.0f}",
                    f"{in_moto * 1000:.0f}",
                    f"{(elapsed - in_moto) * 1000:.0f}",
                    f"{load:.1f}",
                ]
            )
    # The product's log lines (a warning per capped run) would drown the tables.
    import logging

    from ads_connect.observability import logger as product_logger

    for handler in product_logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - process-lifetime sink
    backlog_rows = _backlog_rows(now)
    print_table(
        f"Scheduler due-set selection ({DUE:,} due in every table; due-index query, never a scan)",
        [
            "connections",
            "selected",
            "queries",
            "items read (ScannedCount)",
            "wall ms",
            "inside moto ms",
            "scheduler ms (wall - moto)",
            "load s",
        ],
        rows,
    )
    print_table(
        f"Messages sent over a backlog of {BACKLOG:,} due that the workers do not shrink "
        f"({BACKLOG_RUNS} schedule runs, nothing drained in between)",
        ["per-run cap", "sent per run", "sent in all", "backlog reported per run", "ms per run"],
        backlog_rows,
    )


def _backlog_rows(now: datetime) -> list[list[str]]:
    import boto3
    from ads_connect import table_schema as schema
    from ads_connect.adapters.connection_store import DynamoConnectionStore
    from ads_connect.clock import SystemClock
    from ads_connect.logic.scheduler import run_schedule
    from ads_connect.models.settings import RefreshSettings
    from moto import mock_aws

    from stacks.config import AdsConnectConfig

    class CountingQueue:
        def __init__(self) -> None:
            self.sent = 0

        def send(self, messages: object) -> None:
            self.sent += len(messages)  # type: ignore[arg-type]

    # The support contact is required of every config and irrelevant to the cap: a demo one.
    capped = AdsConnectConfig.from_context(
        CAPPED_CONFIG, demo_support_contact="https://support.bench.invalid/"
    ).refreshes_per_schedule_run
    rows = []
    for cap in (None, capped):
        with mock_aws():
            boto3.client("dynamodb").create_table(**schema.create_table_kwargs("bench"))  # type: ignore[arg-type]
            table = boto3.resource("dynamodb").Table("bench")
            with table.batch_writer() as batch:
                for i in range(BACKLOG):
                    batch.put_item(
                        Item={
                            **schema.connection_key(f"t{i:06d}", "NA"),
                            schema.DUE_INDEX_PARTITION_KEY: schema.DUE_BUCKET_VALUE,
                            schema.DUE_INDEX_SORT_KEY: int((now - timedelta(minutes=1 + i % 60)).timestamp()),
                        }
                    )
            store = DynamoConnectionStore("bench", clock=SystemClock(), table=table)
            settings = RefreshSettings.from_mapping(
                {
                    "table_name": "bench",
                    "secret_prefix": "ads-connect",
                    "lwa_secret_id": "ads-connect/lwa-client",
                    "event_bus_name": "bench",
                    "max_refreshes_per_run": cap,
                }
            )
            sent, backlogs, elapsed = [], [], 0.0
            for _ in range(BACKLOG_RUNS):
                queue = CountingQueue()
                started = time.perf_counter()
                summary = run_schedule(store=store, queue=queue, clock=SystemClock(), settings=settings)
                elapsed += time.perf_counter() - started
                sent.append(queue.sent)
                backlogs.append(summary.refreshes_backlog)
            rows.append(
                [
                    "none" if cap is None else f"{cap:,} (worker_concurrency 2)",
                    f"{sent[0]:,}",
                    f"{sum(sent):,}",
                    f"{backlogs[0]:,}",
                    f"{elapsed * 1000 / BACKLOG_RUNS:.0f}",
                ]
            )
    return rows


if __name__ == "__main__":
    main()
