"""The thin deployable stack: configuration from cdk.json context, the construct, the outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.ads_connect import AmazonAdsConnect
from stacks.config import CONTEXT_KEY, DEMO_SUPPORT_CONTACT_KEY, STAGE_CONTEXT_KEY, AdsConnectConfig
from stacks.events import EVENT_SOURCE


def config_from_context(scope: Construct) -> AdsConnectConfig:
    """The validated settings of ``cdk.json`` plus the ``-c stage=NAME`` context key (and the
    demo support contact a check-only synth passes, stacks/config.py DEMO_SUPPORT_CONTACT_KEY)."""
    return AdsConnectConfig.from_context(
        scope.node.try_get_context(CONTEXT_KEY),
        scope.node.try_get_context(STAGE_CONTEXT_KEY),
        demo_support_contact=scope.node.try_get_context(DEMO_SUPPORT_CONTACT_KEY),
    )


class AmazonAdsConnectStack(Stack):
    """Stack ``AmazonAdsConnect-<stage>`` (construct id = stack name, so ``cdk deploy NAME`` works)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str | None = None,
        *,
        config: AdsConnectConfig | None = None,
        **kwargs: Any,
    ) -> None:
        config = config or config_from_context(scope)
        kwargs.setdefault("description", "Amazon Ads Connect: Login with Amazon OAuth and token refresh")
        super().__init__(scope, construct_id or config.stack_name, **kwargs)
        self.config = config
        self.ads_connect = AmazonAdsConnect(self, "AdsConnect", config=self.config)
        product = self.ads_connect
        # Output ids are a contract (the CLI reads AdminApiUrl): never rename them.
        outputs = {
            "ConsentBaseUrl": (product.public_base_url, "Base URL of the hosted consent pages"),
            "RedirectUri": (
                product.redirect_uri,
                "Register exactly this in the LWA Security Profile's Allowed Return URLs",
            ),
            "AdminApiUrl": (product.admin_api_url, "IAM-authorized admin API (python -m cli)"),
            "TableName": (product.data.table.table_name, "DynamoDB table"),
            "SecretPrefix": (self.config.secret_prefix, "Secrets Manager name prefix"),
            "LwaSecretName": (self.config.lwa_secret_name, "Fill with the LWA client id and secret"),
            "EventBusName": (product.events.bus.event_bus_name, "Lifecycle events bus"),
            "EventSource": (EVENT_SOURCE, "Source of the lifecycle events"),
            "Stage": (self.config.stage, "Deployment stage (cdk deploy -c stage=NAME)"),
            "PrivateTokenKeyArn": (
                product.secrets.private_key.key_arn,
                "KMS key of the refresh-token secrets (retained; adopt with existing_private_key_arn)",
            ),
            "LwaSecretArn": (
                product.secrets.lwa_secret.secret_arn,
                "LWA client secret (retained; adopt with existing_lwa_secret_arn)",
            ),
            "WorkQueueUrl": (product.refresh.work_queue.queue_url, "Refresh work queue"),
            "WorkDeadLetterQueueUrl": (product.refresh.work_dlq.queue_url, "Refresh work dead-letter queue"),
            "ScheduleName": (
                product.refresh.schedule.schedule_name,
                "Refresh schedule (EventBridge Scheduler)",
            ),
            # For `doctor`: the capacity of the Secrets Manager write budget at this lead.
            "RefreshLeadSeconds": (str(self.config.refresh_lead_seconds), "Refresh lead (seconds)"),
            "SecretWriteBudget": (
                f"{self.config.secret_write_budget_per_second:g}",
                "Secrets Manager writes/s the refresh workers may make together",
            ),
            "AlertTopicArn": (product.monitoring.topic.topic_arn, "Operator alerts (subscribe here)"),
        }
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)
