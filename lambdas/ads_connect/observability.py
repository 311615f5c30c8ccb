"""One place that creates the powertools Logger, Metrics and (where it earns its cost) Tracer.

Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE
(set by the stack). Handlers decorate in this order:

    @logger.inject_lambda_context(correlation_id_path=...)
    @metrics.log_metrics
    @tracer.capture_lambda_handler(capture_response=False)   # not on the public path, see below

``capture_response=False`` everywhere: traces never hold payloads (tokens).

The X-Ray SDK stays off the public path. Building a powertools ``Tracer`` imports
``aws_xray_sdk.core`` and patches botocore and requests: about 365 ms of a cold start here, more
than half of the consent handler's import (docs/decisions.md, "Cold starts"). The consent and
callback functions therefore never build one: Lambda active tracing (stacks/functions.py) still
records each of their invocations (the function segment, with its Initialization subsegment on a
cold start) without any SDK in the function. The admin, scheduler and worker functions, whose
cold starts no advertiser waits on, call ``xray_tracer()`` at import and keep the SDK's
subsegments for every AWS and Amazon call.
"""

from __future__ import annotations

from functools import cache

# Importing Tracer is free: powertools loads the X-Ray SDK only when a Tracer is built.
from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "amazon-ads-connect"
METRICS_NAMESPACE = "AmazonAdsConnect"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


@cache
def xray_tracer() -> Tracer:
    """The one powertools Tracer of this process, built (X-Ray SDK imported, clients patched) on
    first call only."""
    return Tracer(service=SERVICE)
