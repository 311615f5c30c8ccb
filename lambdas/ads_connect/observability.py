"""One place that creates the powertools Logger, Tracer and Metrics every handler uses.

Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE
(set by the stack). Handlers decorate in this order:

    @logger.inject_lambda_context(correlation_id_path=...)
    @metrics.log_metrics
    @tracer.capture_lambda_handler(capture_response=False)

``capture_response=False`` everywhere: traces never hold payloads (tokens).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "amazon-ads-connect"
METRICS_NAMESPACE = "AmazonAdsConnect"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
