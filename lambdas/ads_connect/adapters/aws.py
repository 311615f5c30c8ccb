"""The one botocore configuration every AWS client of the product is built with.

Without it botocore waits 60 s to connect and 60 s per read, retried in legacy mode: one stuck
call could use up a worker's whole 60-second invocation, or the callback's 29 seconds. With it
a call gives up after a few seconds and is retried in standard mode (throttling and transient
errors, exponential backoff with jitter), at most three attempts in all.

The consumer helper (``ads_connect.consumer``) keeps its own copy of these values, because it
is vendored on its own; a unit test keeps the two equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

CONNECT_TIMEOUT_SECONDS: Final = 2
READ_TIMEOUT_SECONDS: Final = 10
# Total attempts, the first included (botocore's ``max_attempts`` would count retries only).
TOTAL_MAX_ATTEMPTS: Final = 3
RETRY_MODE: Final = "standard"

AWS_CLIENT_CONFIG: Final = Config(
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    retries={"mode": RETRY_MODE, "total_max_attempts": TOTAL_MAX_ATTEMPTS},
)


def aws_client_config(*, max_pool_connections: int | None = None) -> Config:
    """The shared configuration, with a larger connection pool for a client used from many
    threads (botocore's default pool holds 10)."""
    if max_pool_connections is None:
        return AWS_CLIENT_CONFIG
    return AWS_CLIENT_CONFIG.merge(Config(max_pool_connections=max_pool_connections))


def dynamodb_table(table_name: str) -> Table:
    """The product's table through a DynamoDB resource with the shared configuration; callers
    that hold several stores of one table pass them this one object (one client to build)."""
    return boto3.resource("dynamodb", config=AWS_CLIENT_CONFIG).Table(table_name)
