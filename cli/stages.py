"""Stages: ``cdk deploy -c stage=NAME`` deploys stack ``AmazonAdsConnect-<stage>`` with secret
prefix ``ads-connect/<stage>``. The CLI never imports ``stacks/``: these names are spelled again
here, and ``tests/infrastructure/test_deployment_lifecycle.py`` fails when the two disagree."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from cli.errors import CliError, ExitCode

STAGE_ENV: Final = "ADS_CONNECT_STAGE"
DEFAULT_STAGE: Final = "prod"
STAGE_PATTERN: Final = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
STACK_NAME_PREFIX: Final = "AmazonAdsConnect"
SECRET_PREFIX_ROOT: Final = "ads-connect"  # noqa: S105 (a name prefix, not a secret)


def resolve_stage(option: str | None, environ: Mapping[str, str]) -> str:
    """``--stage``, else ``$ADS_CONNECT_STAGE``, else ``prod``; exit 2 when it is not a stage name."""
    stage = option or environ.get(STAGE_ENV) or DEFAULT_STAGE
    if not STAGE_PATTERN.match(stage):
        raise CliError(
            ExitCode.USAGE,
            f"--stage must be a lower-case letter then up to 15 lower-case letters, digits or - "
            f"(from {'--stage' if option else STAGE_ENV})",
        )
    return stage


def stack_name_for(stage: str) -> str:
    return f"{STACK_NAME_PREFIX}-{stage}"


def secret_prefix_for(stage: str) -> str:
    return f"{SECRET_PREFIX_ROOT}/{stage}"
