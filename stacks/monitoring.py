"""Operator alerts: an SNS topic, alarms on the product metrics and the queues, a dashboard.

The functions emit metrics with powertools (namespace ``AmazonAdsConnect``, dimension
``service=amazon-ads-connect``); the names are listed in docs/decisions.md and in METRICS below.
"""

from __future__ import annotations

from typing import Final

from ads_connect.observability import METRICS_NAMESPACE, SERVICE
from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import AdsConnectConfig
from stacks.secrets import account_administers_key

METRICS: Final = (
    "ConnectionsAuthorized",
    "RefreshSucceeded",
    "RefreshFailed",
    "ReauthorizationRequired",
    "ClientCredentialsInvalid",
    "RefreshLatency",
    "OldestTokenAgeSeconds",
)
# Transient refresh failures are retried on later runs; alarm when they persist.
REFRESH_FAILED_THRESHOLD: Final = 10


def product_metric(name: str, statistic: str = "Sum", period: Duration | None = None) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE},
        statistic=statistic,
        period=period or Duration.minutes(5),
    )


def counts_graph(title: str, *metric_names: str) -> cloudwatch.GraphWidget:
    """A half-width graph of product counters (5-minute sums)."""
    return cloudwatch.GraphWidget(title=title, left=[product_metric(n) for n in metric_names], width=12)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AdsConnectConfig,
        worker: lambda_.Function,
        functions: dict[str, lambda_.Function],
        dead_letter_queues: dict[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        # Alarm notifications carry no secret, but SNS encryption at rest needs a key CloudWatch
        # may use; the AWS-managed aws/sns key does not allow that. Only this stack's account's
        # alarms use it (aws:SourceAccount / aws:SourceArn: no confused deputy); the account
        # administers it like the private-token key (no kms:CreateGrant, no use through IAM).
        stack = Stack.of(self)
        self.topic_key = kms.Key(
            self,
            "AlertTopicKey",
            description="Amazon Ads Connect: operator alert topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
            policy=iam.PolicyDocument(
                statements=[
                    account_administers_key(),
                    iam.PolicyStatement(
                        sid="CloudWatchAlarmsOfThisAccountPublish",
                        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                        resources=["*"],
                        conditions={
                            "StringEquals": {"aws:SourceAccount": stack.account},
                            "ArnLike": {
                                "aws:SourceArn": stack.format_arn(
                                    service="cloudwatch",
                                    resource="alarm",
                                    resource_name="*",
                                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                                )
                            },
                        },
                    ),
                ]
            ),
        )
        self.topic = sns.Topic(
            self,
            "Alerts",
            display_name=f"{config.app_name} alerts",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        alarm_action = actions.SnsAction(self.topic)

        self.alarms: dict[str, cloudwatch.Alarm] = {}

        def alarm(
            construct_id: str,
            metric: cloudwatch.IMetric,
            threshold: float,
            description: str,
            *,
            evaluation_periods: int = 1,
            missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
        ) -> None:
            created = cloudwatch.Alarm(
                self,
                construct_id,
                metric=metric,
                threshold=threshold,
                evaluation_periods=evaluation_periods,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=missing,
                alarm_description=description,
            )
            created.add_alarm_action(alarm_action)
            self.alarms[construct_id] = created

        alarm(
            "ReauthorizationRequiredAlarm",
            product_metric("ReauthorizationRequired"),
            1,
            "A tenant revoked the app or its grant died: send the tenant a new connect session "
            "(python -m cli sessions create).",
        )
        alarm(
            "ClientCredentialsInvalidAlarm",
            product_metric("ClientCredentialsInvalid"),
            1,
            "Amazon rejected the LWA client id/secret (invalid_client): refreshes are paused. "
            "Fix with python -m cli credentials set --check.",
        )
        alarm(
            "RotatedTokenPersistFailedAlarm",
            product_metric("RotatedTokenPersistFailed"),
            1,
            "Amazon rotated a refresh token and every write to Secrets Manager failed: the message "
            "is retried, but check Secrets Manager throttling/permissions now (docs/refresh.md).",
        )
        alarm(
            "EventPublishFailedAlarm",
            product_metric("EventPublishFailed"),
            1,
            "A lifecycle event could not be put on EventBridge: subscribers missed it; the state in "
            "DynamoDB is correct (python -m cli tenants show).",
        )
        alarm(
            "RefreshFailuresAlarm",
            product_metric("RefreshFailed"),
            REFRESH_FAILED_THRESHOLD,
            "Transient refresh failures persist for 15 minutes (Amazon errors, throttling or AWS failures).",
            evaluation_periods=3,
        )
        alarm(
            "RefreshFailingPersistentlyAlarm",
            product_metric("RefreshFailingPersistently"),
            1,
            "A connection keeps failing to refresh (6 failures in a row, or its access token expired "
            "30+ minutes ago) with an error that never revokes it: a 4xx other than invalid_grant "
            "(invalid_request, invalid_scope, ...) or a lasting outage. The log names the tenant; "
            "python -m cli tenants show <tenant> shows the error code (docs/refresh.md, Outcomes).",
        )
        alarm(
            "StaleTokenAlarm",
            product_metric("OldestTokenAgeSeconds", statistic="Maximum"),
            config.stale_token_age_seconds,
            f"A connection's access token is older than {config.stale_token_age_seconds} s "
            "(tokens live 3600 s): refreshes are falling behind.",
        )
        self._scheduler_silent(functions["refresh_scheduler"], alarm_action)
        for name, queue in dead_letter_queues.items():
            alarm(
                f"{name}DeadLetterAlarm",
                queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5), statistic="Maximum"
                ),
                1,
                f"Messages in the {name} dead-letter queue: inspect and redrive them.",
            )
        alarm(
            "WorkerErrorsAlarm",
            worker.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            5,
            "The refresh worker is failing (unhandled errors).",
            evaluation_periods=2,
        )
        alarm(
            "WorkerThrottlesAlarm",
            worker.metric_throttles(period=Duration.minutes(5), statistic="Sum"),
            10,
            "The refresh worker is throttled for 15 minutes (account concurrency exhausted, or the opt-in "
            "reservation too small).",
            evaluation_periods=3,
        )
        for kind, function in functions.items():
            if kind == "refresh_worker":
                continue
            alarm(
                f"{_pascal(kind)}ErrorsAlarm",
                function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                3,
                f"The {kind.replace('_', ' ')} function is failing (unhandled errors).",
            )

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Refreshes",
                left=[
                    product_metric("RefreshSucceeded"),
                    product_metric("RefreshFailed"),
                    product_metric("RefreshFailingPersistently"),
                ],
                right=[product_metric("RefreshLatency", statistic="p90")],
                width=12,
            ),
            counts_graph(
                "Grants", "ConnectionsAuthorized", "ReauthorizationRequired", "ClientCredentialsInvalid"
            ),
            counts_graph(
                "Work enqueued by the scheduler",
                "RefreshesEnqueued",
                "RefreshBacklog",
                "ProfileSyncsEnqueued",
            ),
            counts_graph(
                "Rotated-token writes and event publishes that failed",
                "RotatedTokenPersistFailed",
                "EventPublishFailed",
            ),
            counts_graph("Admin API", "AdminRequests", "AdminRequestsUnauthorized"),
            cloudwatch.GraphWidget(
                title="Oldest token age (s)",
                left=[product_metric("OldestTokenAgeSeconds", statistic="Maximum")],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=config.stale_token_age_seconds, label="alarm")
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queues",
                left=[
                    queue.metric_approximate_number_of_messages_visible(statistic="Maximum")
                    for queue in dead_letter_queues.values()
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Worker",
                left=[worker.metric_invocations(), worker.metric_errors(), worker.metric_throttles()],
                right=[worker.metric_duration(statistic="p90")],
                width=24,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24)
        )

    def _scheduler_silent(self, function: lambda_.Function, action: actions.SnsAction) -> None:
        created = cloudwatch.Alarm(
            self,
            "SchedulerNotRunningAlarm",
            metric=function.metric_invocations(period=Duration.minutes(15), statistic="Sum"),
            threshold=1,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            # No data at all means the schedule is not invoking the function.
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            alarm_description="The refresh scheduler has not run for 45 minutes.",
        )
        created.add_alarm_action(action)
        self.alarms["SchedulerNotRunningAlarm"] = created


def _pascal(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_"))
