"""Refresh worker throughput against moto server + the Amazon emulator, beside a bare baseline
that makes only the same AWS and token calls with no product logic.

The product side takes the worker's real path: SQS-shaped batches of 10 through
``refresh_worker.handler``, queued (non-forced) refreshes of connections that are due, so the
pause read, the due condition and the handler's own work are all measured. The baseline makes
the same calls: one pause read per batch, then per connection the lease write, the secret read,
the token call, the secret write and the transaction.

Prints a table, then ``refresh overhead ratio: X.XX`` (target <= 1.25), AWS API calls per
refresh (target <= 4, plus the pause read per batch) and Secrets Manager writes per refresh
(target 1 without rotation). Write pacing is off here (no ``ADS_CONNECT_SECRET_WRITES_PER_SECOND``):
it is a deliberate limit, not overhead, and would only measure the configured pace.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

from _harness import AWS_CALLS, moto_server, print_table

from local.schedule import sqs_event

CONNECTIONS = 30
ROUNDS = 3
BATCH = 10  # the worker's SQS batch size (stacks/refresh.py WORKER_BATCH_SIZE)


def main() -> None:
    import logging
    import warnings

    # A batch of duplicates emits no metric; powertools warns about that on every flush.
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    # moto server's per-request access log would drown the tables (seeding included).
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with moto_server():
        import boto3
        import requests
        from ads_connect import table_schema as schema
        from ads_connect.adapters.connection_store import DynamoConnectionStore
        from ads_connect.adapters.secrets import SecretsManagerVault, access_secret_name, refresh_secret_name
        from ads_connect.clock import SystemClock
        from ads_connect.handlers import refresh_worker
        from ads_connect.logic.ports import CLIENT_CREDENTIALS_PAUSE
        from ads_connect.models.records import Connection, ConnectionStatus
        from ads_connect.models.settings import RefreshSettings
        from ads_connect.regions import Region

        def typed(key: dict[str, str]) -> dict[str, dict[str, str]]:
            """A key for the low-level client (string attributes)."""
            return {name: {"S": value} for name, value in key.items()}

        pause_key = typed(schema.operator_key(CLIENT_CREDENTIALS_PAUSE))

        from emulator import Emulator, seller_profile
        from tests.fixtures.aws import TEST_CLIENT_ID, TEST_CLIENT_SECRET, create_resources

        resources = create_resources()
        emu = Emulator(
            client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, redirect_uris=["https://b/cb"]
        )
        emu.headless = "allow"
        emu.add_user("bench", profiles={"NA": [seller_profile(1)]})
        server = emu.serve()
        import os

        os.environ.update(resources.environment())
        os.environ["ADS_CONNECT_AMAZON_ENDPOINTS"] = server.endpoints_json
        settings = RefreshSettings.from_environment()
        clock = SystemClock()
        store = DynamoConnectionStore(settings.table_name, clock=clock)
        vault = SecretsManagerVault(settings)
        http = requests.Session()
        dynamodb = boto3.client("dynamodb")
        secrets = boto3.client("secretsmanager")
        token_url = str(settings.amazon_endpoints[Region.NA].token_url)

        tenants = [f"t{i:03d}" for i in range(CONNECTIONS)]
        now = datetime.now(UTC)
        for tenant in tenants:
            answer = http.get(
                f"{server.base_url}/NA/ap/oa",
                allow_redirects=False,
                timeout=5,
                params={
                    "client_id": TEST_CLIENT_ID,
                    "scope": "advertising::campaign_management",
                    "response_type": "code",
                    "redirect_uri": "https://b/cb",
                    "state": "s",
                },
            )
            code = answer.headers["Location"].split("code=")[1].split("&")[0]
            grant = http.post(
                token_url,
                timeout=5,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": "https://b/cb",
                    "client_id": TEST_CLIENT_ID,
                    "client_secret": TEST_CLIENT_SECRET,
                },
            ).json()
            vault.write_refresh_token(
                tenant, Region.NA, refresh_token=grant["refresh_token"], grant_version=1
            )
            store.save_connection(
                Connection(
                    tenant_id=tenant,
                    region=Region.NA,
                    status=ConnectionStatus.ACTIVE,
                    grant_version=1,
                    connected_at=now,
                    refresh_due_at=now - timedelta(minutes=1),
                ),
                expected_grant_version=None,
            )
        vault.read_client_credentials()  # warm the 5-minute cache, as a warm Lambda would have it
        # The product's JSON log lines are part of its cost, but a terminal is slower than Lambda's
        # stdout: both runs write to /dev/null. Moto's own request log is silenced for both.
        import logging

        from ads_connect.observability import logger as product_logger

        for handler in product_logger.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - process-lifetime sink
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # The baseline writes a connection item of the same size as the product's.
        sample = store.get_connection(tenants[0], Region.NA)
        assert sample is not None
        from ads_connect.adapters.connection_store import connection_to_item

        static_item = {
            k: v
            for k, v in connection_to_item(sample).items()
            if k not in ("due_bucket", "connection_status")
        }
        update_names = {f"#a{i}": k for i, k in enumerate(static_item)}
        update_values = {
            f":v{i}": (
                {"N": str(v)}
                if isinstance(v, int) and not isinstance(v, bool)
                else {"BOOL": v}
                if isinstance(v, bool)
                else {"S": str(v)}
            )
            for i, v in enumerate(static_item.values())
        }
        update_expression = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(static_item)))

        def make_due() -> None:
            """Untimed: every connection due again (a refresh moves it 45 minutes on)."""
            due = str(int(time.time()) - 60)
            for tenant in tenants:
                dynamodb.update_item(
                    TableName=settings.table_name,
                    Key=typed(schema.connection_key(tenant, Region.NA)),
                    UpdateExpression="SET refresh_due_at = :d",
                    ExpressionAttributeValues={":d": {"N": due}},
                )

        def sqs_batch(chunk: list[str]) -> dict[str, object]:
            body = {"kind": "refresh", "region": "NA", "trigger": "schedule"}
            messages = [
                {
                    "MessageId": f"m-{t}",
                    "ReceiptHandle": f"r-{t}",
                    "Body": json.dumps({**body, "tenant_id": t}),
                }
                for t in chunk
            ]
            return sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:ads-connect-work")

        batches = [sqs_batch(tenants[i : i + BATCH]) for i in range(0, len(tenants), BATCH)]

        class BenchContext:
            function_name = "ads-connect-refresh-worker"
            memory_limit_in_mb = 512
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ads-connect-refresh-worker"
            aws_request_id = "bench"

            def get_remaining_time_in_millis(self) -> int:
                return 60_000

        refresh_worker.reset()
        refresh_worker._dependencies()  # the cold start, outside the timing
        refresh_worker._dependencies()["vault"].read_client_credentials()  # warm cache, as a warm Lambda
        sink = open(os.devnull, "w")  # noqa: SIM115 - process-lifetime sink for the EMF metric lines

        def product_run() -> float:
            make_due()
            started = time.perf_counter()
            with contextlib.redirect_stdout(sink):
                for batch in batches:
                    response = refresh_worker.handler(batch, BenchContext())  # type: ignore[arg-type]
                    assert response == {"batchItemFailures": []}, response
            return time.perf_counter() - started

        def baseline_run() -> float:
            """The same AWS and token calls, nothing else: lease write, secret read, token call,
            secret write, one transaction."""
            started = time.perf_counter()
            for index, tenant in enumerate(tenants):
                if index % BATCH == 0:
                    # One read of the operator pause per worker invocation (batch).
                    dynamodb.get_item(
                        TableName=settings.table_name,
                        Key=pause_key,
                        ConsistentRead=True,
                    )
                # Its own items (same size, other keys) so it never disturbs the product's data.
                key = typed({"pk": f"BASELINE#{tenant}", "sk": schema.connection_sk(Region.NA)})
                dynamodb.update_item(
                    TableName=settings.table_name,
                    Key=key,
                    UpdateExpression="SET lease_owner = :o",
                    ExpressionAttributeValues={":o": {"S": "b"}},
                    ReturnValues="ALL_NEW",
                )
                stored = json.loads(
                    secrets.get_secret_value(SecretId=refresh_secret_name("ads-connect", tenant, Region.NA))[
                        "SecretString"
                    ]
                )
                token = http.post(
                    token_url,
                    timeout=5,
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": stored["refresh_token"],
                        "client_id": TEST_CLIENT_ID,
                        "client_secret": TEST_CLIENT_SECRET,
                    },
                ).json()
                secrets.put_secret_value(
                    SecretId=access_secret_name("ads-connect", tenant, Region.NA),
                    SecretString=json.dumps({"access_token": token["access_token"]}),
                )
                dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": settings.table_name,
                                "Key": key,
                                "UpdateExpression": update_expression + " REMOVE lease_owner",
                                "ExpressionAttributeNames": update_names,
                                "ExpressionAttributeValues": update_values,
                            }
                        },
                        {
                            "Put": {
                                "TableName": settings.table_name,
                                "Item": {
                                    "pk": {"S": f"BASELINE#{tenant}"},
                                    "sk": {"S": f"{schema.ATTEMPT_PREFIX}{time.time()}"},
                                    "outcome": {"S": "succeeded"},
                                    "latency_ms": {"N": "40"},
                                    "tenant_id": {"S": tenant},
                                    "region": {"S": "NA"},
                                    "expires_at_ttl": {"N": str(int(time.time()) + 2592000)},
                                },
                            }
                        },
                        # The same call carries the (no-op) lift of the operator pause.
                        {
                            "Delete": {
                                "TableName": settings.table_name,
                                "Key": pause_key,
                            }
                        },
                    ]
                )
            return time.perf_counter() - started

        product_run()  # creates the access secrets (first publish) and warms everything
        baseline_run()
        product_times, baseline_times = [], []
        AWS_CALLS.clear()
        for _ in range(ROUNDS):
            product_times.append(product_run())
            baseline_times.append(baseline_run())
        make_due()
        AWS_CALLS.clear()
        product_run()
        per_refresh = dict(AWS_CALLS)
        per_refresh["dynamodb:UpdateItem"] -= CONNECTIONS  # make_due's own writes
        pause_reads = per_refresh.get("dynamodb:GetItem", 0) / CONNECTIONS
        aws_per_refresh = sum(per_refresh.values()) / CONNECTIONS - pause_reads
        writes = sum(v for k, v in per_refresh.items() if k.startswith("secretsmanager:Put")) / CONNECTIONS

        emu.rotation = "rotate_strict"
        AWS_CALLS.clear()
        product_run()
        rotated_writes = (
            sum(v for k, v in AWS_CALLS.items() if k.startswith("secretsmanager:Put")) / CONNECTIONS
        )
        # A duplicate message (a later run, a redelivery) for connections just refreshed.
        AWS_CALLS.clear()
        with contextlib.redirect_stdout(sink):
            for batch in batches:
                refresh_worker.handler(batch, BenchContext())  # type: ignore[arg-type]
        duplicate_calls = sum(AWS_CALLS.values()) / CONNECTIONS
        server.stop()

        product = statistics.median(product_times)
        baseline = statistics.median(baseline_times)
        print_table(
            f"Refresh throughput ({CONNECTIONS} due connections x {ROUNDS} rounds, moto server + emulator)",
            ["run", "median seconds", "refreshes/s"],
            [
                ["product (worker handler, batches of 10)", f"{product:.3f}", f"{CONNECTIONS / product:.1f}"],
                ["baseline (same calls, no logic)", f"{baseline:.3f}", f"{CONNECTIONS / baseline:.1f}"],
            ],
        )
        print_table(
            "AWS calls per refresh (product, no rotation)",
            ["operation", "calls per refresh"],
            [[k, f"{v / CONNECTIONS:.2f}"] for k, v in sorted(per_refresh.items())],
        )
        print(f"\nrefresh overhead ratio: {product / baseline:.2f}")
        print(
            f"AWS API calls per refresh: {aws_per_refresh:.2f} (target <= 4), "
            f"plus {pause_reads:.2f} pause read (one per batch of {BATCH})"
        )
        print(
            f"AWS API calls per duplicate message: {duplicate_calls:.2f} "
            "(one refused lease write, plus the batch's pause read)"
        )
        print(
            f"Secrets Manager writes per refresh: {writes:.2f} without rotation, "
            f"{rotated_writes:.2f} with rotation"
        )


if __name__ == "__main__":
    main()
