"""The thin deployable stack: configuration from cdk.json context, the construct, the outputs."""

from __future__ import annotations

from typing import Any, Final

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.ads_connect import AmazonAdsConnect
from stacks.config import CONTEXT_KEY, DEMO_SUPPORT_CONTACT_KEY, AdsConnectConfig
from stacks.events import EVENT_SOURCE

DEFAULT_STACK_NAME: Final = "AmazonAdsConnect"


class AmazonAdsConnectStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str = DEFAULT_STACK_NAME,
        *,
        config: AdsConnectConfig | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("description", "Amazon Ads Connect: Login with Amazon OAuth and token refresh")
        super().__init__(scope, construct_id, **kwargs)
        self.config = config or AdsConnectConfig.from_context(
            self.node.try_get_context(CONTEXT_KEY),
            demo_support_contact=self.node.try_get_context(DEMO_SUPPORT_CONTACT_KEY),
        )
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
            "AlertTopicArn": (product.monitoring.topic.topic_arn, "Operator alerts (subscribe here)"),
        }
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)
