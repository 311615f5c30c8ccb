"""The HTTP API (payload format 2.0): public consent pages and the IAM-authorized admin API.

Why HTTP API and not REST: about 70% cheaper per request, lower latency, and everything this
product needs (Lambda proxy, IAM authorization, stage throttling, access logs, custom domains).
What it lacks is AWS WAF; docs/decisions.md says what to do when WAF is required.
"""

from __future__ import annotations

import json
from typing import Final

from aws_cdk import Acknowledgment as Ack
from aws_cdk import RemovalPolicy, Validations
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import AdsConnectConfig

PUBLIC_ROUTES: Final = (
    ("consent", "/connect/{session_id}", (apigw.HttpMethod.GET, apigw.HttpMethod.POST)),
    ("callback", "/callback", (apigw.HttpMethod.GET,)),
    ("callback", "/result/{result_id}", (apigw.HttpMethod.GET,)),
)
ADMIN_ROUTE: Final = "/admin/{proxy+}"

# One JSON line per request: the route key, never the path or query string (they carry the
# connect-session id, the authorization code and the state), no headers, no body.
ACCESS_LOG_FORMAT: Final = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "userArn": "$context.identity.userArn",
    }
)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AdsConnectConfig,
        consent: lambda_.IFunction,
        callback: lambda_.IFunction,
        admin: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            api_name=config.stack_name,  # which stage's API, in the console
            description=f"{config.app_name}: consent pages, OAuth callback, admin API",
            create_default_stage=False,
            # With a custom domain the pages, the redirect URI and the admin URL all use that
            # host: the execute-api host is switched off so no flow can start on it and end
            # with a redirect URI Amazon does not know (or a cookie for the other host).
            disable_execute_api_endpoint=config.custom_domain is not None,
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        domain_mapping = None
        self._custom_host = config.custom_domain.domain_name if config.custom_domain else None
        self.domain_name: apigw.DomainName | None = None
        if config.custom_domain is not None:
            self.domain_name = apigw.DomainName(
                self,
                "DomainName",
                domain_name=config.custom_domain.domain_name,
                certificate=acm.Certificate.from_certificate_arn(
                    self, "Certificate", config.custom_domain.certificate_arn
                ),
            )
            domain_mapping = apigw.DomainMappingOptions(domain_name=self.domain_name)
        self.stage = self._stage(config, domain_mapping)

        consent_integration = integrations.HttpLambdaIntegration("Consent", consent)
        callback_integration = integrations.HttpLambdaIntegration("Callback", callback)
        admin_integration = integrations.HttpLambdaIntegration("Admin", admin)
        by_kind = {"consent": consent_integration, "callback": callback_integration}
        self.public_routes: list[apigw.HttpRoute] = []
        for kind, path, methods in PUBLIC_ROUTES:
            for route in self.http_api.add_routes(
                path=path, methods=list(methods), integration=by_kind[kind]
            ):
                self.public_routes.append(route)
                Validations.of(route).acknowledge(
                    Ack(
                        id="AwsSolutions-APIG4",
                        reason=(
                            "Public OAuth page opened by the tenant's browser, which has no AWS credentials. "
                            "Access is controlled by the single-use, expiring connect session / OAuth state "
                            "in the URL, PKCE and a browser-binding cookie (docs/architecture.md)."
                        ),
                    )
                )
        self.admin_routes = self.http_api.add_routes(
            path=ADMIN_ROUTE,
            methods=[apigw.HttpMethod.ANY],
            integration=admin_integration,
            authorizer=authorizers.HttpIamAuthorizer(),
        )

    def _stage(
        self, config: AdsConnectConfig, domain_mapping: apigw.DomainMappingOptions | None
    ) -> apigw.HttpStage:
        stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=config.api_throttle_rate, burst_limit=config.api_throttle_burst
            ),
            domain_mapping=domain_mapping,
        )
        # The L2 has no access-log property in every version: set it on the L1.
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigw.CfnStage)
        cfn_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
        )
        return stage

    @property
    def url(self) -> str:
        """Base URL with a trailing slash (custom domain when configured)."""
        if self._custom_host is not None:
            return f"https://{self._custom_host}/"
        return self.stage.url
