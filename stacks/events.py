"""The lifecycle event bus (source ``amazon-ads-connect``; detail types in docs/architecture.md)."""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_events as events
from constructs import Construct

EVENT_SOURCE: Final = "amazon-ads-connect"


class LifecycleEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # A custom bus keeps these events (tenant ids, statuses) away from the account's default
        # bus and lets consumers subscribe with one rule on source amazon-ads-connect.
        self.bus = events.EventBus(self, "Bus", description="Amazon Ads Connect lifecycle events")
