"""``python -m stacks.needs --stage NAME``: what the configured stack needs of the account, as the
JSON ``ads-connect preflight --needs FILE`` reads (``make deploy`` runs both). The settings come
from cdk.json (validated exactly as ``cdk synth`` validates them), the stage from ``--stage``;
which regional features the template uses (Lambda SnapStart) from synthesizing it (no asset
bundling, no cdk-nag: a few seconds)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stacks.config import CONTEXT_KEY, AdsConnectConfig, ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]


def uses_snapstart(template: dict[str, Any]) -> bool:
    """Whether any function of the template turns SnapStart on (ApplyOn PublishedVersions)."""
    return any(
        (resource.get("Properties", {}).get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions"
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Lambda::Function"
    )


def synthesized_template(context: dict[str, Any], config: AdsConnectConfig) -> dict[str, Any]:
    from aws_cdk import App  # noqa: PLC0415 (only this path starts jsii)

    from stacks.stack import AmazonAdsConnectStack  # noqa: PLC0415

    app = App(context={**context, "aws:cdk:bundling-stacks": []})
    stack = AmazonAdsConnectStack(app, config=config)
    return dict(app.synth().get_stack_by_name(stack.stack_name).template)


def deployment_needs(config: AdsConnectConfig, template: dict[str, Any]) -> dict[str, Any]:
    return {
        "lambda_snapstart": uses_snapstart(template),
        "stage": config.stage,
        "secret_prefix": config.secret_prefix,
        "reserved_concurrency": config.reserved_concurrency_total,
        "existing_table_name": config.existing_table_name,
        "existing_private_key_arn": config.existing_private_key_arn,
        "existing_lwa_secret_arn": config.existing_lwa_secret_arn,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.needs", description=__doc__)
    parser.add_argument("--stage", default=None, help="deployment stage (default prod)")
    parser.add_argument("--cdk-json", type=Path, default=REPO_ROOT / "cdk.json")
    args = parser.parse_args(argv)
    try:
        context = json.loads(args.cdk_json.read_text()).get("context", {})
        config = AdsConnectConfig.from_context(context.get(CONTEXT_KEY), args.stage)
    except ConfigError as error:
        print(f"error: {error} (cdk.json, context {CONTEXT_KEY!r})", file=sys.stderr)
        return 1
    template = synthesized_template(context, config)
    print(json.dumps(deployment_needs(config, template), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
