"""The one botocore configuration every AWS client of the product is built with.

Without it botocore waits 60 s to connect and 60 s per read, retried in legacy mode: one stuck
call could use up a worker's whole 60-second invocation, or the callback's 29 seconds. With it
a call gives up after a few seconds and is retried in standard mode (throttling and transient
errors, exponential backoff with jitter), at most three attempts in all.

The consumer helper (``ads_connect.consumer``) imports it too, and the client wheel ships this
module beside the helper: keep it free of anything but botocore (docs/decisions.md).
"""

from __future__ import annotations

from typing import Final

from botocore.config import Config

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
