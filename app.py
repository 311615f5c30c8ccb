#!/usr/bin/env python3
"""CDK entry point: the App, the one Stack, and cdk-nag's AwsSolutions checks. Nothing else."""

from __future__ import annotations

import sys

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from stacks.config import CONTEXT_KEY, ConfigError
from stacks.stack import AmazonAdsConnectStack


def build_app(app: App | None = None) -> App:
    """One stack, ``AmazonAdsConnect-<stage>`` (``-c stage=NAME``, default prod)."""
    app = app or App()
    AmazonAdsConnectStack(app)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> int:
    """``cdk synth`` runs this: a bad setting is one line naming it (and exit 1), not a traceback."""
    try:
        build_app().synth()
    except ConfigError as error:
        print(f"error: {error} (cdk.json, context {CONTEXT_KEY!r})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
