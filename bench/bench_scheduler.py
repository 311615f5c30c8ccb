"""Scheduler: time to select the due set as the table grows (same number due each time).

The due-index query reads only due keys, so the work is the same whatever the table size.
moto's in-memory query walks every item of a table, so wall time on moto grows with the table;
the column that carries over to DynamoDB is "items read by the query" (ScannedCount), which must
stay equal to the due count. Both are printed.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from _harness import AWS_CALLS, print_table

DUE = 1_000
SIZES = (1_000, 10_000, 100_000)


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
                            "pk": f"TENANT#t{i:06d}",
                            "sk": "CONN#NA",
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


if __name__ == "__main__":
    main()
