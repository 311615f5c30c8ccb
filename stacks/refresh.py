"""The refresh pipeline: EventBridge Scheduler -> scheduler function -> SQS -> worker function."""

from __future__ import annotations

from typing import Final

from ads_connect.models.settings import ENV_MAX_REFRESHES_PER_RUN, ENV_SECRET_WRITES_PER_SECOND
from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import nag
from stacks.config import AdsConnectConfig

WORKER_TIMEOUT: Final = Duration.seconds(60)
# A run sends at most ~20 s of messages at the default rate (logic/scheduler.py); its per-run cap
# scales with the rate, so half the period is ample at every rate.
SCHEDULER_MAX_TIMEOUT_SECONDS: Final = 120
# Lambda's minimum for an asynchronous event's age (EventBridge Scheduler's too): a delivery
# delayed longer is dropped, the next run does the same work.
ASYNC_MAX_EVENT_AGE: Final = Duration.seconds(60)
# AWS's guidance for SQS-triggered functions: visibility at least six times the function
# timeout, so retries of throttled batches do not make a message visible twice in flight.
WORK_VISIBILITY_TIMEOUT: Final = Duration.seconds(WORKER_TIMEOUT.to_seconds() * 6 + 30)
# A message that failed this many deliveries goes to the DLQ (the next schedule run re-enqueues
# the connection anyway while it is still due).
MAX_RECEIVE_COUNT: Final = 5
WORKER_BATCH_SIZE: Final = 10
SCHEDULE_RETRY_ATTEMPTS: Final = 2
SCHEDULE_MAX_EVENT_AGE: Final = ASYNC_MAX_EVENT_AGE
DLQ_RETENTION: Final = Duration.days(14)


def scheduler_timeout(rate_minutes: int) -> Duration:
    """Scheduler runs must not overlap, without reserved concurrency: each run ends within half
    the schedule period (at most 120 s). A run starts at most 60 s (Scheduler's event age) +
    60 s (Lambda's async event age, no Lambda retries) late, so at the default 5-minute rate the
    latest start plus the timeout (120 + 120 s) still ends before the next run (300 s). At 1-2
    minute rates a late delivery can overlap the next run; that costs duplicate messages only,
    which the worker's conditional lease write refuses (docs/refresh.md)."""
    return Duration.seconds(min(SCHEDULER_MAX_TIMEOUT_SECONDS, rate_minutes * 60 // 2))


def _queue(scope: Construct, construct_id: str, **kwargs: object) -> sqs.Queue:
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        **kwargs,  # type: ignore[arg-type]
    )


class RefreshPipeline(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: AdsConnectConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.work_dlq = _queue(self, "WorkDeadLetterQueue", retention_period=DLQ_RETENTION)
        self.work_queue = _queue(
            self,
            "WorkQueue",
            visibility_timeout=WORK_VISIBILITY_TIMEOUT,
            retention_period=Duration.hours(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.work_dlq, max_receive_count=MAX_RECEIVE_COUNT),
        )
        self.schedule_dlq = _queue(self, "ScheduleDeadLetterQueue", retention_period=DLQ_RETENTION)
        nag.acknowledge(
            self.schedule_dlq,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: EventBridge Scheduler's DeadLetterConfig for the "
            "refresh schedule (cdk-nag only recognises SQS redrive policies).",
        )

    def connect(self, *, scheduler_function: lambda_.Function, worker_function: lambda_.Function) -> None:
        """Wire the schedule and the queue to the functions (they need the queue URL first), and
        tell each how much it may do: the scheduler its per-run cap, the worker its write pace."""
        stack = Stack.of(self)
        scheduler_function.add_environment(
            ENV_MAX_REFRESHES_PER_RUN, str(self.config.refreshes_per_schedule_run)
        )
        worker_function.add_environment(
            ENV_SECRET_WRITES_PER_SECOND, f"{self.config.worker_secret_writes_per_second:g}"
        )
        self.schedule_role = iam.Role(
            self,
            "ScheduleRole",
            description="EventBridge Scheduler: invoke the refresh scheduler function",
            # Confused-deputy guard: only schedules in this account may assume it.
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        # No Lambda-side retries of a failed run (the next run redoes its work) and no delivery
        # older than a minute: what keeps runs from overlapping (scheduler_timeout).
        scheduler_function.configure_async_invoke(retry_attempts=0, max_event_age=ASYNC_MAX_EVENT_AGE)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description="Amazon Ads Connect: enqueue connections whose access token is due for refresh",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(self.config.schedule_rate_minutes)),
            target=targets.LambdaInvoke(
                scheduler_function,
                dead_letter_queue=self.schedule_dlq,
                retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                max_event_age=SCHEDULE_MAX_EVENT_AGE,
                role=self.schedule_role,
            ),
        )
        nag.acknowledge_wildcard(
            self.schedule_role,
            f"{nag.arn_reference(scheduler_function)}:*",
            "Added by the LambdaInvoke target: the function's versions and aliases (function ARN + :*).",
        )
        # max_concurrency bounds the pollers' invocations, and the queue is the worker's only
        # trigger (no reserved concurrency needed; opt-in reserve_concurrency adds the same
        # number). With each worker pacing its secret writes at budget / concurrency, the workers
        # together stay within the budget (secret_write_budget_per_second, under the account's
        # 50/s; docs/decisions.md).
        worker_function.add_event_source(
            sources.SqsEventSource(
                self.work_queue,
                batch_size=WORKER_BATCH_SIZE,
                max_batching_window=Duration.seconds(1),
                max_concurrency=self.config.worker_concurrency,
                report_batch_item_failures=True,
            )
        )
