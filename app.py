#!/usr/bin/env python3
"""CDK entry point: the App, the one Stack, and cdk-nag's AwsSolutions checks. Nothing else."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from stacks.stack import DEFAULT_STACK_NAME, AmazonAdsConnectStack


def build_app(app: App | None = None) -> App:
    app = app or App()
    AmazonAdsConnectStack(app, DEFAULT_STACK_NAME)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
